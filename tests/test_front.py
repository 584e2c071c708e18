"""The front page (issue 12 §2, §4): the key points box on page 1 with its pictograms, and
the fill-in lines as PDF form fields staff type into and print.

Every test reads back real PDFs rendered by WeasyPrint (the English and Spanish IV handouts
the session builds once, and a few editions rendered here), or, for every language, the
composed HTML the PDF is made from.
"""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject

from generator.build import compose_job, load_clinics, plan
from generator.content import load_content
from generator.pdf import render_pdf
from generator.translation import Translators

#: the form fields every edition has, by their English names (in a handout, translated)
FIELDS = (
    "Date of your session",
    "Time of your session",
    "Stop eating at",
    "Stop drinking at",
    "Who takes you home",
    "Date of your next appointment",
    "Time of your next appointment",
    "Your care team",
)
PICTOGRAMS = ("A clock", "No food", "No drinks", "A car with someone else driving", "A phone")
INPUT_RE = re.compile(r'<input type="text" class="fill[^"]*" name="([^"]*)" title="([^"]*)">')


@pytest.fixture(scope="module")
def loaded(project):
    return load_content(project.content), Translators(project.locales)


def _compose(project, loaded, clinic, language, route="iv", edition="standard"):
    content, translators = loaded
    job = plan(load_clinics(project, [clinic]), [language], [route], [edition])[0]
    return compose_job(job, content, translators, project.templates)


def _names(translators, language, fields=FIELDS) -> list[str]:
    tr = translators.get(language)
    return [tr.gettext(name).replace(".", "") for name in fields]


def _form_fields(pdf: bytes | Path) -> dict[str, DictionaryObject]:
    reader = PdfReader(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf)
    return {name: field for name, field in (reader.get_fields() or {}).items()}


# --- the key points box ------------------------------------------------------------------


def test_page_one_opens_with_the_key_points_and_the_clinics_values(en_es_iv):
    first = PdfReader(en_es_iv / "example" / "en" / "iv.pdf").pages[0].extract_text()
    first = " ".join(first.split())
    # the example clinic's IV protocol: no food for 6 hours, no drinks for 2, a driver
    for phrase in (
        "Key points",
        "Stop eating at",
        "6 hours before your session",
        "Stop drinking at",
        "2 hours before your session",
        "Not even water",
        "An adult must take you home",
        "Who takes you home",
        "Do not drive until the next day",
        "Numbers to call",
        "503-555-0142",
        "911",
        "988",
    ):
        assert phrase in first, phrase
    # main message first: the key points come before the first section
    assert first.index("Key points") < first.index("In this treatment")


def test_key_points_are_translated(en_es_iv):
    first = " ".join(PdfReader(en_es_iv / "example" / "es" / "iv.pdf").pages[0].extract_text().split())
    for phrase in (
        "Puntos clave",
        "Deje de comer a las",
        "6 horas antes de su sesión",
        "Deje de beber a las",
        "2 horas antes de su sesión",
        "Quién lo lleva a casa",
    ):
        assert phrase in first, phrase
    assert "Key points" not in first and "Stop eating at" not in first


def test_key_points_follow_the_routes_protocol(project, loaded):
    """Thameside's nasal spray: 2 hours without food, 30 minutes without drinks, and no
    driver required (the patient plans how to get home)."""
    html = _compose(project, loaded, "thameside", "en", "intranasal").html
    box = html[html.index('<section class="key-points">') : html.index("</section>")]
    assert re.search(r">2</bdi>\xa0hours</span> before your session\. No food", box)
    assert re.search(r">30</bdi>\xa0minutes</span> before your session\. Not even water", box)
    assert "Plan how you will get home. Do not drive yourself." in box
    assert 'name="How you get home"' in box and "Who takes you home" not in box


def test_pictograms_are_tagged_figures_with_alt_text(en_es_iv):
    reader = PdfReader(en_es_iv / "example" / "en" / "iv.pdf")
    alts, stack = [], [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop().get_object()
        if isinstance(node, DictionaryObject):
            if node.get("/S") == "/Figure" and "/Alt" in node:
                alts.append(str(node["/Alt"]))
            kids = node.get("/K")
            stack.extend(kids if isinstance(kids, list) else [kids] if kids is not None else [])
        elif isinstance(node, list):
            stack.extend(node)
    for alt in PICTOGRAMS:
        assert alt in alts, (alt, alts)


def test_pictograms_are_black_lines_only(project):
    """They print the same in black and white: no colour, and no meaning in colour."""
    folder = project.templates / "pictograms"
    for svg in sorted(folder.glob("*.svg")):
        colours = set(re.findall(r'(?:fill|stroke)="(#[0-9a-fA-F]{3,6})"', svg.read_text()))
        assert colours <= {"#000", "#fff"}, (svg.name, colours)
    assert {p.stem for p in folder.glob("*.svg")} == {"clock", "no-food", "no-drink", "car", "phone"}


# --- the form fields ---------------------------------------------------------------------


def test_fill_in_lines_are_form_fields_with_names_and_tooltips(en_es_iv, loaded):
    for language in ("en", "es"):
        fields = _form_fields(en_es_iv / "example" / language / "iv.pdf")
        names = _names(loaded[1], language)
        assert sorted(fields) == sorted(names), language
        for name in names:
            assert fields[name]["/FT"] == "/Tx" and fields[name].get("/TU") == name
            assert fields[name].get("/V", "") == ""  # blank until staff type into it


def test_staff_can_type_into_the_fields_and_print_them(en_es_iv, tmp_path):
    reader = PdfReader(en_es_iv / "example" / "en" / "iv.pdf")
    assert reader.trailer["/Root"]["/AcroForm"]["/NeedAppearances"]
    values = {
        "Stop eating at": "6:30 AM",
        "Stop drinking at": "10:30 AM",
        "Who takes you home": "Maria Lopez",
        "Your care team": "Dr Okafor, RN Diaz",
        "Date of your next appointment": "14 Dec",
    }
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        if "/Annots" in page:
            writer.update_page_form_field_values(page, values, auto_regenerate=False)
    filled = tmp_path / "filled.pdf"
    writer.write(filled)
    got = {name: field.get("/V") for name, field in _form_fields(filled).items()}
    assert {name: got[name] for name in values} == values
    # what prints: the typed values are on the page they were typed on
    pages = [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), str(filled), "-"], capture_output=True, text=True, check=True
        ).stdout
        for n in (1, len(reader.pages))
    ]
    assert "6:30 AM" in pages[0] and "Maria Lopez" in pages[0]
    assert "Dr Okafor, RN Diaz" in pages[1]


def _darkest_row(pdf: Path, rect, tmp_path: Path) -> int:
    """The darkest pixel (0-255) in the strip just above a field's bottom edge, with the
    form fields hidden: what a blank field prints."""
    x0, x1 = sorted(float(v) for v in rect[::2])
    y0 = min(float(v) for v in rect[1::2])  # the field's bottom edge (PDF y grows upwards)
    height = float(PdfReader(pdf).pages[0].mediabox.height)
    out = tmp_path / "strip"
    subprocess.run(
        [
            "pdftoppm",
            "-gray",
            "-r",
            "144",
            "-f",
            "1",
            "-l",
            "1",
            "-hide-annotations",
            "-x",
            str(int(x0 * 2) + 2),
            "-y",
            str(int((height - y0) * 2) - 6),
            "-W",
            str(int((x1 - x0) * 2) - 4),
            "-H",
            "8",
            str(pdf),
            str(out),
        ],
        check=True,
    )
    data = next(tmp_path.glob("strip*.pgm")).read_bytes()
    header = data.split(b"\n", 3)
    return min(header[3])


def test_blank_fields_print_as_lines(en_es_iv, tmp_path):
    pdf = en_es_iv / "example" / "en" / "iv.pdf"
    page = PdfReader(pdf).pages[0]
    widget = next(a.get_object() for a in page["/Annots"] if a.get_object().get("/T") == "Stop eating at")
    assert _darkest_row(pdf, widget["/Rect"], tmp_path) < 80  # a dark line under the field


@pytest.mark.parametrize("clinic, language, edition", [("example", "en", "large"), ("thameside", "ar", "bilingual")])
def test_every_edition_has_the_fields_in_the_patients_language(project, loaded, clinic, language, edition):
    doc = _compose(project, loaded, clinic, language, edition=edition)
    fields = _form_fields(render_pdf(doc).data)
    assert sorted(fields) == sorted(_names(loaded[1], language))
    if language != "en":
        assert "Stop eating at" not in fields


def test_every_language_names_its_fields_in_its_own_words(project, loaded):
    """Composed (not rendered) for every language the example clinic offers."""
    clinic = load_clinics(project, ["example"])[0]
    for language in clinic.languages:
        html = _compose(project, loaded, "example", language).html
        names = _names(loaded[1], language)
        assert len(set(names)) == len(names), language  # one field per name: none shares a value
        assert [(name, title) for name, title in INPUT_RE.findall(html)] == [(n, n) for n in names], language
        if language != "en":
            assert not set(names) & set(FIELDS), language

"""Build the example clinic's real PDFs and read them back."""

import functools
import html
import re

import pdfplumber
import pytest
from pypdf import PdfReader

from generator.build import load_clinics
from generator.content import ROUTE_IDS, load_content
from generator.segments import PLACEHOLDER_RE, render, units
from generator.translation import load_translator

from .conftest import ROOT, fold, pdf_text

LANGUAGES = ("en", "es", "zh_Hans", "vi", "ko", "tl", "ru", "ar", "fr", "ht", "pt_BR", "hi")
TRANSLATED = LANGUAGES[1:]
POINTS_PER_INCH = 72


@functools.cache
def translator(locales, language):
    """A language's catalog, read and checked (msgfmt) once per test process, not once a test."""
    return load_translator(locales, language)


@functools.cache
def content_of(folder):
    return load_content(folder)


def plain(markdown_inline: str) -> str:
    text = re.sub(r"<[^>]+>", "", render(markdown_inline))
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def test_every_route_and_language_builds(built):
    assert set(built) == {(lang, route) for lang in LANGUAGES for route in ROUTE_IDS}
    for path in built.values():
        assert path.read_bytes().startswith(b"%PDF-")
        assert len(PdfReader(path).pages) >= 1


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize("route", ROUTE_IDS)
def test_translated_handout_has_every_unit_translated_and_no_english_left(built, project, route, language):
    content = content_of(project.content)
    es = translator(project.locales, language)
    text = pdf_text(built[(language, route)])
    checked = 0
    for block in content.routes[route].blocks:
        for unit in units(block.body, block.body_line):
            assert es.unit(unit.text) is not None, f"{block.path}:{unit.line}: untranslated"
            english = plain(PLACEHOLDER_RE.split(unit.text)[0])
            if len(english.split()) >= 4:
                assert english not in text, f"{block.path}:{unit.line}: English left in the PDF"
                checked += 1
    assert checked > 20  # the check above really looked at the text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("route", ROUTE_IDS)
def test_clinic_numbers_appear_and_no_placeholder_survives(built, project, language, route):
    clinic = load_clinics(project, ["example"])[0]
    text = pdf_text(built[(language, route)])
    for number in (clinic.phone, clinic.after_hours_phone, clinic.emergency_number, clinic.crisis_line):
        assert number in text
    assert clinic.name in text
    assert not PLACEHOLDER_RE.search(text), PLACEHOLDER_RE.search(text).group(0)


def test_protocol_values_reach_the_text(built):
    # example.toml: iv fasting 6 hours, intranasal liquids 30 minutes, oral stay 90 minutes (said as 1 hour 30)
    assert "Do not eat any food for 6 hours before your session." in pdf_text(built[("en", "iv")])
    assert "for 30 minutes before your session" in pdf_text(built[("en", "intranasal")])
    assert "at least 1 hour 30 minutes after the medicine" in pdf_text(built[("en", "oral")])
    assert "6 horas" in pdf_text(built[("es", "iv")])


@pytest.mark.parametrize(
    "language,title,page_label",
    [("en", "Ketamine IV infusion", "Page 1 of"), ("es", "Infusión intravenosa (IV) de ketamina", "Página 1 de")],
)
def test_metadata_footer_and_page_size(built, language, title, page_label):
    path = built[(language, "iv")]
    reader = PdfReader(path)
    assert reader.metadata.title.startswith(title)
    assert "Riverside Ketamine Clinic" in reader.metadata.title
    assert reader.trailer["/Root"]["/Lang"] == language
    box = reader.pages[0].mediabox
    assert (round(box.width), round(box.height)) == (8.5 * POINTS_PER_INCH, 11 * POINTS_PER_INCH)
    text = pdf_text(path)
    assert page_label in text
    version = load_content(ROOT / "content").routes["iv"].version
    assert f"Version {version}" in text or f"Versión {version}" in text


def test_standard_body_text_is_at_least_12_points(built):
    """The standard edition sets its body at 12 pt, nothing below 10 pt (large print: 18 pt)."""
    with pdfplumber.open(built[("en", "iv")]) as pdf:
        sizes = [round(c["size"], 1) for page in pdf.pages for c in page.chars]
    body = max(set(sizes), key=sizes.count)
    assert body >= 12
    assert min(sizes) >= 10


@pytest.mark.parametrize("language", TRANSLATED)
def test_draft_translation_is_marked_on_every_page_in_both_languages(built, project, language):
    local = translator(project.locales, language).gettext("Draft translation, not yet checked by a medical translator")
    reader = PdfReader(built[(language, "iv")])
    for page in reader.pages:
        text = re.sub(r"\s+", " ", page.extract_text())
        assert "Draft translation, not yet checked by a medical translator" in text
        assert fold(local) in fold(text)
    assert "Draft translation" not in pdf_text(built[("en", "iv")])


def test_a4_clinic_gets_a4_pages(project_copy):
    from generator.build import build, plan

    toml = project_copy.clinics / "example.toml"
    toml.write_text(toml.read_text().replace('paper = "letter"', 'paper = "a4"'))
    out = project_copy.root / "handouts"
    [result] = build(project_copy, plan(load_clinics(project_copy, ["example"]), ["en"], ["im"], ["standard"]), out)
    box = PdfReader(result.path).pages[0].mediabox
    assert (round(box.width), round(box.height)) == (595, 842)


def test_last_page_is_never_just_the_colophon(built, project):
    for (language, route), path in built.items():
        last_heading = translator(project.locales, language).unit("About this handout")
        last_page = PdfReader(path).pages[-1].extract_text()
        assert fold(last_heading) in fold(last_page), f"{language}/{route}"

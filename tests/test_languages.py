"""Twelve languages: scripts, direction, plural forms, review status and the catalog workflow."""

import datetime as dt
import re
import subprocess

import pdfplumber
import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

from generator import i18n
from generator.placeholders import duration
from generator.translation import load_translator

from .conftest import fold, handouts, pdf_text, po_bytes

ARABIC = re.compile(r"[\u0600-\u06ff]")


def lines(page):
    """Text lines of a page as lists of chars, top to bottom."""
    rows: dict[int, list] = {}
    for char in page.chars:
        rows.setdefault(round(char["top"]), []).append(char)
    return [rows[top] for top in sorted(rows)]


#: the example clinic's primary colour (#1d5b79), which section headings are printed in
PRIMARY = (0x1D / 255, 0x5B / 255, 0x79 / 255)


def body_top(page) -> float:
    """Where the two columns start on page 1: the first section heading, below the masthead
    and the key points box."""
    return min(
        c["top"]
        for c in page.chars
        if len(c["non_stroking_color"] or ()) == 3
        and all(abs(a - b) < 0.01 for a, b in zip(c["non_stroking_color"], PRIMARY, strict=True))
    )


def edges(path):
    """(left, right) edges of the body text lines of page 1, below the masthead and the key
    points box, in each of the two columns."""
    with pdfplumber.open(path) as pdf:
        page = pdf.pages[0]
        columns = []
        top = body_top(page)
        for x0, x1 in ((0, page.width / 2), (page.width / 2, page.width)):
            column = page.crop((x0, top, x1, page.height - 60))
            body = [line for line in lines(column) if len(line) > 10]
            columns.append([(min(c["x0"] for c in line), max(c["x1"] for c in line)) for line in body])
        return columns


def ragged_gaps(edges):
    """(gap on the left, gap on the right) of each line shorter than its column."""
    left, right = min(x0 for x0, _ in edges), max(x1 for _, x1 in edges)
    return [(x0 - left, right - x1) for x0, x1 in edges if x1 - x0 < 0.8 * (right - left)]


def test_arabic_reads_right_to_left(built):
    for arabic, english in zip(edges(built[("ar", "iv")]), edges(built[("en", "iv")]), strict=False):
        # a short Arabic line starts at the right (list items a little indented) and ends
        # ragged on the left; English the reverse
        arabic, english = ragged_gaps(arabic), ragged_gaps(english)
        assert len(arabic) > 5 and len(english) > 5
        assert all(lgap > rgap for lgap, rgap in arabic)
        assert all(lgap < rgap for lgap, rgap in english)
    # phone numbers inside Arabic text still read left to right
    text = pdf_text(built[("ar", "iv")])
    assert "503-555-0142" in text and "503-555-0199" in text
    assert PdfReader(built[("ar", "iv")]).trailer["/Root"]["/Lang"] == "ar"


@pytest.mark.parametrize(
    "language,face", [("zh_Hans", "CJK-SC"), ("ko", "CJK-KR"), ("hi", "Devanagari"), ("ar", "Arabic")]
)
def test_scripts_use_fonts_that_cover_them(built, language, face):
    fonts = set()
    for page in PdfReader(built[(language, "iv")]).pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert any(face in name for name in fonts), fonts
    assert not any("CJK-JP" in name for name in fonts), "Han text fell back to the Japanese face"


def test_plural_forms_follow_each_catalog(project):
    ru = load_translator(project.locales, "ru")
    assert [duration(h * 60, ru) for h in (1, 2, 5, 21)] == ["1 час", "2 часа", "5 часов", "21 час"]
    ar = load_translator(project.locales, "ar")  # 3-10 take the plural, 11-99 the singular
    assert duration(3 * 60, ar) == "3 ساعات" and duration(11 * 60, ar) == "11 ساعة"
    assert "ساعتين" in duration(2 * 60, ar)
    fr = load_translator(project.locales, "fr")
    assert duration(30, fr) == "30 minutes" and duration(60, fr) == "1 heure"


@pytest.mark.parametrize(
    "language,name", [("ru", "русский"), ("ar", "العربية"), ("hi", "हिन्दी"), ("es", "español"), ("zh_Hans", "中文")]
)
def test_language_name_appears_in_its_own_script(built, language, name):
    assert fold(name) in fold(pdf_text(built[(language, "oral")]))


def test_review_dates_are_formatted_per_language(built):
    assert "1 de diciembre de 2026" in pdf_text(built[("es", "iv")])
    assert "2026年12月1日" in pdf_text(built[("zh_Hans", "iv")]).replace(" ", "")


def fill_catalog(path, translate):
    catalog = read_po(path.open("rb"))
    for message in catalog:
        if message.id:
            message.string = (
                tuple(translate(message.id[-1]) for _ in message.string)
                if isinstance(message.id, tuple)
                else translate(message.id)
            )
    path.write_bytes(po_bytes(catalog))


def test_a_new_language_from_init_builds_once_translated(project_copy):
    assert handouts(project_copy, "i18n", "init", "de").returncode == 0
    po = project_copy.locales / "de/LC_MESSAGES/messages.po"
    assert "nplurals=2; plural=(n != 1)" in po.read_text()
    assert 'status = "draft"' in (project_copy.locales / "de/review.toml").read_text()
    toml = project_copy.clinics / "example.toml"
    toml.write_text(toml.read_text().replace('"en", "es",', '"en", "de", "es",'))
    proc = handouts(project_copy, "build", "--language", "de", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 1 and "untranslated or fuzzy" in proc.stderr
    fill_catalog(po, lambda s: "DE " + s if not s.startswith(("{", "%")) else s)
    proc = handouts(project_copy, "build", "--language", "de", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    pdf = project_copy.root / "handouts/example/de/iv.pdf"
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == "de"
    assert "DE Do not eat any food for 6" in pdf_text(pdf)


def test_update_round_trips_every_catalog_without_losing_translations(project_copy):
    def translations():
        return {
            po.parts[-3]: {m.id: m.string for m in read_po(po.open("rb")) if m.id}
            for po in project_copy.locales.glob("*/LC_MESSAGES/messages.po")
        }

    before = translations()
    i18n.extract(project_copy)
    assert handouts(project_copy, "i18n", "update").returncode == 0
    assert translations() == before and len(before) == 11


def test_a_changed_source_unit_becomes_fuzzy_and_is_never_printed_stale(project_copy):
    block = project_copy.content / "shared/get-help.md"
    block.write_text(block.read_text().replace("- Chest pain.", "- Chest pain or pressure."))
    i18n.extract(project_copy)
    assert handouts(project_copy, "i18n", "update").returncode == 0
    po = project_copy.locales / "es/LC_MESSAGES/messages.po"
    assert read_po(po.open("rb")).get("Chest pain or pressure.").fuzzy
    assert '#| msgid "Chest pain."\nmsgid "Chest pain or pressure."' in po.read_text()  # for the translator
    proc = handouts(project_copy, "build", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 1
    assert re.search(r"content/shared/get-help\.md:\d+: 'Chest pain or pressure\.'", proc.stderr), proc.stderr


def test_a_long_changed_unit_keeps_every_catalog_readable(project_copy):
    """The old English of a long unit spans several ``#|`` lines that msgfmt still reads."""
    block = project_copy.content / "shared/disclaimer.md"
    block.write_text(block.read_text().replace("It does not replace", "It never replaces"))
    i18n.extract(project_copy)
    assert handouts(project_copy, "i18n", "update").returncode == 0
    for po in project_copy.locales.glob("*/LC_MESSAGES/messages.po"):
        proc = subprocess.run(["msgfmt", "-c", "-o", "/dev/null", str(po)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert '#| "This handout gives general facts.' in po.read_text(), po


def test_stats_counts_and_minimum(project_copy):
    proc = handouts(project_copy, "i18n", "stats", "--min", "100")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^ar\s+\d+\s+0\s+0\s+100\.0%$", proc.stdout, re.M), proc.stdout
    po = project_copy.locales / "fr/LC_MESSAGES/messages.po"
    po.write_text(po.read_text().replace('msgid "Chest pain."', '#, fuzzy\nmsgid "Chest pain."'))
    proc = handouts(project_copy, "i18n", "stats", "--min", "100")
    assert proc.returncode == 1 and "below 100%: fr" in proc.stderr
    assert re.search(r"^fr\s+\d+\s+1\s+0\s+99\.\d%$", proc.stdout, re.M), proc.stdout


def approve(project, language, on: dt.date):
    (project.locales / language / "review.toml").write_text(
        f'status = "approved"\napproved_by = "A. Translator, CMI"\napproved_on = {on.isoformat()}\n'
    )


def test_approved_translation_has_no_draft_notice_and_a_stale_approval_is_a_draft(project_copy):
    approve(project_copy, "es", dt.date(2026, 12, 1))
    assert (
        handouts(
            project_copy, "build", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1"
        ).returncode
        == 0
    )
    pdf = project_copy.root / "handouts/example/es/iv.pdf"
    assert "Draft translation" not in pdf_text(pdf)
    # approved before the English it translates was last changed (reviewed 2026-11-21)
    approve(project_copy, "es", dt.date(2026, 11, 1))
    assert (
        handouts(
            project_copy, "build", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1"
        ).returncode
        == 0
    )
    for page in PdfReader(pdf).pages:
        assert "Draft translation, not yet checked by a medical translator" in re.sub(r"\s+", " ", page.extract_text())


def test_approval_needs_a_name_and_a_date(project_copy):
    (project_copy.locales / "es/review.toml").write_text('status = "approved"\n')
    proc = handouts(project_copy, "build", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 1
    assert "review.toml:1: error: status: 'approved' needs approved_by and approved_on" in proc.stderr

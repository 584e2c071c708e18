"""Print quality (issue 4): page budgets, editions, branding, QR codes, tagged PDFs.

Every test reads back real PDFs rendered by WeasyPrint.
"""

from __future__ import annotations

import re
import statistics
import subprocess
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from generator.build import build, load_clinics, plan
from generator.config import contrast
from generator.errors import ConfigError
from generator.translation import Translators

from .conftest import fold, handouts, once_per_run, one_handout, pdf_text

POINTS_PER_MM = 72 / 25.4


@pytest.fixture(scope="session")
def editions(project, tmp_path_factory):
    """Large-print and bilingual editions of a few handouts, and the second clinic's (built
    once per run, by whichever test process asks first)."""
    return once_per_run(tmp_path_factory, "editions", lambda out: _build_editions(project, out))


def _build_editions(project, out):
    example = load_clinics(project, ["example"])
    jobs = plan(example, ["en", "es", "ar", "ru"], ["iv"], ["large", "bilingual"])
    jobs += plan(example, ["fr", "tl"], ["oral"], ["large"])
    jobs += plan(example, ["tl"], ["im"], ["large"])
    jobs += plan(load_clinics(project, ["thameside"]), ["fr", "ar"], ["intranasal"])
    results = build(project, jobs, out)
    failures = [f"{r.job.name}: {r.message}" for r in results if not r.ok]
    assert not failures, "\n".join(failures)
    return {r.job.name: r for r in results}


def page_count(path: Path) -> int:
    return len(PdfReader(path).pages)


# --- page budget and layout --------------------------------------------------------------


def test_every_standard_handout_fits_two_sheets(built):
    pages = {key: page_count(path) for key, path in built.items()}
    over = {key: n for key, n in pages.items() if n > 4}
    assert over == {}, f"over the 4-page budget: {over}"
    assert len(pages) == 48


def test_no_standard_handout_overflows_or_exceeds_its_budget_or_leaves_a_column_half_empty(built_results):
    # the layout warnings of every handout of the shared build: text out of its box or over
    # other text, a help box split over two columns or pages, or one that leaves more than a
    # quarter of a column empty before it (pdf._help_problems), a page or column (the last
    # ones included) more than half empty (overlap.half_empty), and the page budget
    layout = [
        f"{r.job.name}: {w}"
        for r in built_results
        for w in r.warnings
        if any(
            what in w
            for what in (
                "runs out of its box",
                "runs off the page",
                "budget",
                "overlaps other text",
                "help box",
                "empty (at most",
            )
        )
    ]
    assert layout == [], "\n".join(layout)


def test_no_large_print_or_bilingual_page_is_half_empty(editions):
    # large print kept a box or the disclaimer whole and left up to 0.75 of a page empty
    # before it; bilingual kept each list whole in one row (0.44); the last page of each
    # edition ends with the questions area. Large print's "Get help now" did not fit under the key
    # points and left page 2 of fr and tl/oral 0.62-0.68 empty; "Call the clinic" left page 10
    # of tl/im 0.56 empty until large print could set it one section later (pdf._placed)
    half = {f"{name}: {w.split(':')[0]}" for name, r in editions.items() for w in r.warnings if "empty (at most" in w}
    assert not half, half


def test_no_large_print_or_bilingual_text_runs_off_the_page(editions):
    # ru/iv.large: the colophon's bottom margin (large print's 2.5 mm for every paragraph) put
    # the questions area's empty place below the page area, and the page's box ran off it
    off = [f"{name}: {w}" for name, r in editions.items() for w in r.warnings if "runs o" in w or "over other" in w]
    assert off == []


def test_the_last_page_ends_with_the_questions_area(built, editions):
    # the write-in lines are borders (artifacts): only the title and the hint are read back
    for path, title in (
        (built["en", "iv"], "Questions for your care team"),
        (built["es", "iv"], "Preguntas para su equipo de atención médica"),
        (editions["example/ar/iv.large"].path, "أسئلة لفريق الرعاية الصحية الخاص بك"),
    ):
        reader = PdfReader(path)
        last = fold(reader.pages[-1].extract_text() or "")
        assert fold(title) in last or fold(" ".join(reversed(title.split()))) in last, (path, last[-300:])
        assert not any(fold(title) in fold(page.extract_text() or "") for page in reader.pages[:-1])


def test_over_budget_is_a_warning_and_an_error_with_strict(project_copy, tmp_path):
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text(clinic.read_text().replace("standard = 4", "standard = 1"))
    args = [
        "build",
        *one_handout("ru", "oral"),
        "--output",
        str(tmp_path),
    ]
    loose = handouts(project_copy, *args)
    assert loose.returncode == 0, loose.stderr
    assert re.search(
        r"warning: \d pages, over the standard edition's budget of 1 \(language ru, route oral\)", loose.stderr
    )
    assert (tmp_path / "example/ru/oral.pdf").exists()
    (tmp_path / "example/ru/oral.pdf").unlink()
    strict = handouts(project_copy, *args, "--strict")
    assert strict.returncode == 1
    assert "over the standard edition's budget of 1" in strict.stderr
    assert not (tmp_path / "example/ru/oral.pdf").exists()


def test_text_that_cannot_wrap_is_reported_as_overflow(project_copy, tmp_path):
    # phone numbers never wrap (white-space: nowrap): an absurdly long one overflows its box
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text(clinic.read_text().replace('phone = "503-555-0142"', 'phone = "' + "5" * 60 + '"'))
    result = handouts(
        project_copy,
        "build",
        *one_handout("en"),
        "--output",
        str(tmp_path),
        "--strict",
    )
    assert result.returncode == 1
    # the box's text, the number with its label, cut at 60 characters
    assert re.search(r"page 1: (text runs out of its box|a box runs off the page): '[^']*5{40}", result.stderr)


def test_fill_in_lines_and_numbers_are_printed_in_the_language(built):
    text = pdf_text(built["es", "iv"])
    for phrase in (
        "Su próxima cita",
        "Fecha",
        "Hora",
        "Su equipo de atención médica",
        "503-555-0142",
        "503-555-0199",
        "911",
        "988",
    ):
        assert phrase in text


def test_no_html_entities_leak_into_the_text(built):
    leaks = {
        key: m.group(0)
        for key, path in built.items()
        if (m := re.search(r"&(#x?[0-9a-fA-F]+|amp|lt|gt|quot);", pdf_text(path)))
    }
    assert not leaks


# --- editions --------------------------------------------------------------------------


def _body_chars(path: Path):
    """Characters in the page area (not the margins with footer and draft notice)."""
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            top, bottom = 22 * POINTS_PER_MM, page.height - 26 * POINTS_PER_MM
            yield from (c for c in page.chars if top <= c["top"] and c["bottom"] <= bottom and c["text"].strip())


def test_large_print_body_is_at_least_18pt_with_wide_line_spacing(editions):
    for name in ("example/en/iv.large", "example/ar/iv.large", "example/tl/oral.large"):
        result = editions[name]
        chars = list(_body_chars(result.path))
        sizes = [round(c["size"], 1) for c in chars]
        assert min(sizes) >= 18, f"{name}: text at {min(sizes)} pt"
        # line pitch of body text: baselines at least 1.5 x 18 pt apart within a paragraph
        with pdfplumber.open(result.path) as pdf:
            lines = [line for page in pdf.pages for line in page.extract_text_lines()]
        pitches = [
            b["bottom"] - a["bottom"]
            for a, b in zip(lines, lines[1:], strict=False)
            if 0 < b["bottom"] - a["bottom"] < 60
        ]
        usual = Counter(round(p) for p in pitches).most_common(1)[0][0]
        assert usual >= 27, f"{name}: usual line pitch {usual} pt"
        assert result.pages <= result.job.clinic.page_budget["large"]


#: large print whose "Get help now" went to page 3 before the key points could run on to page 2 and
#: dropped the numbers the masthead prints (fr on every route, tl/im, tl/oral, ru/oral), and others
LATE_BEFORE = (
    "example/en/iv.large",
    "example/ar/iv.large",
    "example/ru/iv.large",
    "example/tl/oral.large",
    "example/fr/oral.large",
)


def test_large_print_has_the_get_help_box_whole_within_two_pages(project, editions):
    # at 18 pt each help box is under a page: none is split (a layout warning otherwise), and
    # "Get help now", set first after the key points, begins and ends by page 2
    for name in LATE_BEFORE:
        assert not [w for w in editions[name].warnings if "help box" in w], name
    pages = [page.extract_text() for page in PdfReader(editions["example/en/iv.large"].path).pages]
    first = next(n for n, text in enumerate(pages, 1) if "Get help now" in text)
    last = next(n for n, text in enumerate(pages, 1) if "you need emergency care" in text)
    assert first == last <= 2, (first, last)
    # in every language of the fixture: the box's heading, in the patient's language, by page 2
    late, translators = set(), Translators(project.locales)
    for name in LATE_BEFORE[1:]:
        heading = fold(translators.get(name.split("/")[1]).gettext("Get help now"))
        pages = [fold(page.extract_text()) for page in PdfReader(editions[name].path).pages]
        if not any(heading in text for text in pages[:2]):
            late.add(name)
    assert not late, late
    # and the build says so where it is not: no large print of the fixture has that warning
    assert not [w for r in editions.values() for w in r.warnings if "'Get help now' ends after" in w]


def test_large_print_is_a_single_column(editions):
    with pdfplumber.open(editions["example/en/iv.large"].path) as pdf:
        page = pdf.pages[3]  # body text (pages 1-2 hold the key points and the Get-help box's number grid)
        lines = page.extract_text_lines()
        # every line starts at the left margin area: no second column in the right half
        assert all(line["x0"] < page.width / 3 for line in lines if line["top"] < page.height - 80)


def test_bilingual_edition_holds_both_languages_side_by_side(editions):
    es = editions["example/es/iv.es+en"]
    assert es.path.name == "iv.es+en.pdf"
    text = pdf_text(es.path)
    assert "En este tratamiento, la ketamina entra gota a gota" in text
    assert "In this treatment, ketamine drips slowly into a vein." in text
    assert es.pages <= es.job.clinic.page_budget["bilingual"]


def test_bilingual_right_to_left_puts_the_patients_language_on_the_right(editions):
    with pdfplumber.open(editions["example/ar/iv.ar+en"].path) as pdf:
        page = pdf.pages[0]
        arabic = [c for c in page.chars if "\u0600" <= c["text"] <= "\u06ff"]
        latin = [c for c in page.chars if c["text"].isascii() and c["text"].isalpha() and c["top"] > 40 * POINTS_PER_MM]
        middle = page.width / 2
        assert arabic and latin
        assert statistics.median(c["x0"] for c in arabic) > middle
        assert statistics.median(c["x0"] for c in latin) < middle
    assert PdfReader(editions["example/ar/iv.ar+en"].path).trailer["/Root"]["/Lang"] == "ar"


# --- branding and the second clinic ----------------------------------------------------


def test_second_clinic_is_a4_with_its_own_numbers(editions):
    result = editions["thameside/fr/intranasal"]
    reader = PdfReader(result.path)
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = pdf_text(result.path)
    for number in ("999", "116 123", "020 7946 0321", "020 7946 0877"):
        assert number in text
    assert "911" not in text and "988" not in text
    assert "2 heures 30 minutes" in text and "150 minutes" not in text  # its own stay time (150 minutes)
    assert result.pages <= result.job.clinic.page_budget["standard"]


def test_us_only_content_is_printed_for_us_clinics_only(built, editions):
    # the Spravato REMS is a US programme: the UK clinic (region = "en_GB") does not print it
    assert "Spravato REMS" in pdf_text(built["en", "intranasal"])
    assert "Estados Unidos" in pdf_text(built["es", "intranasal"])
    for name in ("thameside/fr/intranasal", "thameside/ar/intranasal"):
        text = pdf_text(editions[name].path)
        assert "REMS" not in text and "États-Unis" not in text and "Spravato" in text, name


def test_contrast_ratio_matches_wcag():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#1d5b79", "#ffffff") > 4.5


@pytest.mark.parametrize("key, value", [("primary", "#9fc5e8"), ("on_primary", "#2a6080")])
def test_low_contrast_colour_is_rejected_naming_the_key(project_copy, key, value):
    clinic = project_copy.clinics / "example.toml"
    text = clinic.read_text()
    text = (
        text.replace('primary = "#1d5b79"', f'primary = "{value}"')
        if key == "primary"
        else text.replace('accent = "#8fc1d4"', f'accent = "#8fc1d4"\non_primary = "{value}"')
    )
    clinic.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_clinics(project_copy, ["example"])
    line = next(n for n, raw in enumerate(text.splitlines(), 1) if raw.startswith("primary ="))
    assert str(caught.value).startswith(f"{clinic}:{line}: error: colors.primary: contrast ")
    assert "below 4.5:1 (WCAG AA)" in str(caught.value)
    result = handouts(project_copy, "build", "--clinic", "example")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_clinic_font_must_be_installed(project_copy):
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text('font = "No Such Font"\n' + clinic.read_text())
    with pytest.raises(ConfigError, match=r"example.toml:1: error: font: no installed font"):
        load_clinics(project_copy, ["example"])


def test_clinic_font_is_used(project_copy, tmp_path):
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text('font = "Noto Serif"\n' + clinic.read_text())
    [result] = build(
        project_copy, plan(load_clinics(project_copy, ["example"]), ["en"], ["iv"], ["standard"]), tmp_path
    )
    fonts = subprocess.run(["pdffonts", str(result.path)], capture_output=True, text=True).stdout
    assert "Noto-Serif" in fonts


# --- QR code ----------------------------------------------------------------------------


def decode_qr(pdf: Path, page: int, tmp_path: Path) -> list[str]:
    prefix = tmp_path / f"{pdf.stem}-qr"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "300", "-f", str(page), "-l", str(page), str(pdf), str(prefix)], check=True
    )
    [png] = tmp_path.glob(f"{pdf.stem}-qr*.png")
    found = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True)
    return found.stdout.split()


def test_qr_code_decodes_to_the_clinics_online_copy(built, editions, tmp_path):
    path = built["es", "iv"]
    assert decode_qr(path, page_count(path), tmp_path) == ["https://riverside-clinic.example/handouts/es/iv.pdf"]
    thames = editions["thameside/ar/intranasal.ar+en"].path
    assert decode_qr(thames, page_count(thames), tmp_path) == [
        "https://thameside-clinic.example/leaflets/intranasal/ar/intranasal.ar+en.pdf"
    ]


def test_qr_code_is_vector(built):
    images = subprocess.run(["pdfimages", "-list", str(built["en", "iv"])], capture_output=True, text=True)
    assert len(images.stdout.strip().splitlines()) == 2  # the header lines only: no raster image


def test_no_url_pattern_no_qr_code(project_copy, tmp_path):
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text(re.sub(r"(?m)^handout_url = .*$", "", clinic.read_text()))
    [result] = build(
        project_copy, plan(load_clinics(project_copy, ["example"]), ["en"], ["iv"], ["standard"]), tmp_path
    )
    assert "Scan to read this handout online" not in pdf_text(result.path)
    assert decode_qr(result.path, result.pages, tmp_path) == []


def test_url_pattern_with_unknown_field_is_rejected(project_copy):
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text(clinic.read_text().replace("{language}/{file}", "{lang}/{file}"))
    with pytest.raises(ConfigError, match=r"online.handout_url: unknown field \{lang\}"):
        load_clinics(project_copy, ["example"])


# --- accessibility ----------------------------------------------------------------------


@pytest.mark.parametrize("language, tag", [("en", "en"), ("zh_Hans", "zh-Hans"), ("ar", "ar")])
def test_pdf_is_tagged_with_language_title_and_bookmarks(built, language, tag):
    reader = PdfReader(built[language, "iv"])
    root = reader.trailer["/Root"]
    assert root["/Lang"] == tag
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a pypdf BooleanObject)
    assert "/StructTreeRoot" in root
    assert root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert reader.metadata.title.endswith("– Riverside Ketamine Clinic")
    top = [item for item in reader.outline if not isinstance(item, list)]
    nested = [item for item in reader.outline if isinstance(item, list)]
    assert len(top) == 1 and top[0].title == reader.metadata.title.split(" – ")[0]
    headings = [item.title for item in nested[0] if not isinstance(item, list)]
    assert len(headings) >= 8  # one bookmark per section heading


def test_text_extracts_in_reading_order(built):
    text = pdf_text(built["en", "iv"])
    order = [
        "Riverside Ketamine Clinic",
        "Ketamine IV infusion",
        "What to expect",
        "How you may feel",
        "Preparing for your session",
        "Common and rare side effects",
        "Get help now",
        "After your session",
        "Your next appointment",
    ]
    positions = [text.find(heading) for heading in order]
    assert -1 not in positions and positions == sorted(positions)


def test_draft_status_is_said_in_words_not_colour(built):
    first_page = PdfReader(built["ko", "iv"]).pages[0].extract_text()
    assert "Draft translation, not yet checked by a medical translator" in first_page
    assert fold("Draft") in fold(first_page)


# --- the help boxes, read back from the PDFs ---------------------------------------------

#: the example clinic's primary colour, which fills the help boxes' borders (RGB, 0-1)
PRIMARY = (0.113725, 0.356863, 0.47451)


def _help_boxes(page) -> list[dict]:
    """The outer border of each help box on a page: a filled curve in the primary colour,
    a column wide (the header band is a rectangle, the key points box black, the logo small)."""
    curves = [
        c
        for c in page.curves
        if c.get("fill")
        and tuple(round(v, 3) for v in c.get("non_stroking_color") or ()) == tuple(round(v, 3) for v in PRIMARY)
        and c["height"] > 30
        and page.width * 0.3 < c["width"] < page.width * 0.6
    ]
    return [c for c in curves if not any(o is not c and o["x0"] < c["x0"] and o["top"] < c["top"] for o in curves)]


def help_gaps(path: Path, rtl: bool) -> list[float]:
    """For each help box that starts a column, the share of the column before it left empty
    (from the lowest letter printed in that column to the bottom of the page area)."""
    gaps = []
    with pdfplumber.open(path) as pdf:
        top, bottom = 11 * POINTS_PER_MM, pdf.pages[0].height - 13 * POINTS_PER_MM
        for n, page in enumerate(pdf.pages):
            for box in _help_boxes(page):
                if box["top"] > top + 12 * POINTS_PER_MM:
                    continue  # below other content: nothing left empty before it
                second = (box["x0"] > page.width / 2) != rtl  # the box is in the page's second column
                before = page if second else pdf.pages[n - 1]
                left_half = (not rtl) if second else rtl  # where the column before it is
                mid = page.width / 2
                letters = [
                    c["bottom"]
                    for c in before.chars
                    if c["text"].strip()
                    and c["bottom"] <= bottom
                    and ((c["x1"] <= mid) if left_half else (c["x0"] >= mid))
                ]
                gaps.append((bottom - max(letters, default=top)) / (bottom - top))
    return gaps


@pytest.mark.parametrize("language, route", [("en", "iv"), ("ar", "iv"), ("zh_Hans", "oral"), ("tl", "im")])
def test_the_help_boxes_leave_no_column_more_than_a_quarter_empty_read_back(built, language, route):
    # what the layout check (pdf._help_problems, a warning in every handout of the shared
    # build) measures on WeasyPrint's boxes, measured again on the printed page
    gaps = help_gaps(built[language, route], rtl=language == "ar")
    assert max(gaps, default=0) <= 0.27, gaps


#: The character WeasyPrint prints where it splits a word at the end of a line (CSS
#: hyphenate-character: auto); no catalog or content file holds it.
AUTO_HYPHEN = "\u2010"


def split_words(pdf: Path) -> list[str]:
    """The lines of a PDF that end in a word split by automatic hyphenation."""
    read = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True)
    return [line for line in read.stdout.splitlines() if line.rstrip().endswith((AUTO_HYPHEN, "\u00ad"))]


def test_no_word_is_split_at_the_end_of_a_line(built_results, editions):
    # issue 12 §3: automatic hyphenation split safety lines ("Ne prenez pas de mé-dicaments": 13
    # lines in fr/oral, 29 in ru/oral), names ("Ket-amine", "kéta-mine", "кета-мин") and fill-in
    # labels; now no word is split, in every language and edition
    split = {result.job.name: split_words(result.path) for result in (*built_results, *editions.values())}
    assert len(split) > 50 and {"example/fr/oral", "example/ru/oral", "example/tl/oral.large"} <= split.keys()
    assert not {name: lines for name, lines in split.items() if lines}

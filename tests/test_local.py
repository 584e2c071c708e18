"""Local conventions per clinic: the region's date formats, time phrases as people say them,
the Get-help box saying only what the clinic's file says, and a test clinic whose numbers are
written in other formats, built in every language and read back from the PDFs."""

from __future__ import annotations

import dataclasses
import html
import re
import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from babel import Locale
from babel.lists import format_list

from generator.build import BuildOptions, build, compose_job, load_clinics, plan
from generator.config import load_clinic
from generator.content import load_content
from generator.placeholders import duration
from generator.translation import Translators, available_languages, load_translator

from .conftest import fold, once_per_run

TEST_CLINIC = Path(__file__).parent / "clinics" / "faraway.toml"
LANGUAGES = ["en", "ar", "es", "fr", "hi", "ht", "ko", "pt_BR", "ru", "tl", "vi", "zh_Hans"]
#: The test clinic's numbers as its file writes them, and each as the bidi algorithm would
#: misprint it in a right-to-left line (its groups reversed).
NUMBERS = {
    "+44 20 7946 0321": "0321 7946 20 44+",
    "(503) 555-0142": "0142-555 (503)",
    "112": None,
    "+49 30 1234 5678": "5678 1234 30 49+",
    "0800 123 456": "456 123 0800",
}
#: 90 and 150 minutes in every language, as the catalogs' plural forms say them.
NATURAL = {
    "en": ("1 hour 30 minutes", "2 hours 30 minutes"),
    "ar": ("ساعة واحدة و30 دقيقة", "ساعتين و30 دقيقة"),  # one and two hours in words (issue 12 §1)
    "es": ("1 hora y 30 minutos", "2 horas y 30 minutos"),
    "fr": ("1 heure 30 minutes", "2 heures 30 minutes"),
    "hi": ("1 घंटा 30 मिनट", "2 घंटे 30 मिनट"),
    "ht": ("1 èdtan ak 30 minit", "2 èdtan ak 30 minit"),
    "ko": ("1시간 30분", "2시간 30분"),
    "pt_BR": ("1 hora e 30 minutos", "2 horas e 30 minutos"),
    "ru": ("1 час 30 минут", "2 часа 30 минут"),
    "tl": ("1 oras at 30 minuto", "2 oras at 30 minuto"),
    "vi": ("1 giờ 30 phút", "2 giờ 30 phút"),
    "zh_Hans": ("1小时30分钟", "2小时30分钟"),
}
#: 2 mm: the least space between two numbers printed side by side.
MIN_GAP_PT = 2 / 25.4 * 72


@pytest.mark.parametrize("language", LANGUAGES)
def test_time_phrases_read_naturally_in_every_language(project, language):
    tr = load_translator(project.locales, language)
    assert (duration(90, tr), duration(150, tr)) == NATURAL[language]
    assert duration(30, tr).startswith("30") or duration(30, tr).endswith("30") or "30" in duration(30, tr)
    assert duration(120, tr) == tr.ngettext("%(num)s hour", "%(num)s hours", 2) % {"num": "2"}


@pytest.fixture(scope="module")
def loaded(project):
    return load_content(project.content), Translators(project.locales)


def _html(project, loaded, clinic: str, language: str) -> str:
    content, translators = loaded
    job = plan(load_clinics(project, [clinic]), [language], ["iv"], ["standard"])[0]
    return compose_job(job, content, translators, project.templates).html


@pytest.mark.parametrize(
    "clinic,language,date",
    [
        ("thameside", "en", "1 December 2026"),  # the clinic's region, en_GB
        ("example", "en", "December 1, 2026"),  # en_US
        ("thameside", "fr", "1 décembre 2026"),  # the handout language's own CLDR format
        ("thameside", "zh_Hans", "2026年12月1日"),
        ("thameside", "ar", "1 ديسمبر 2026"),
        ("example", "hi", "1 दिसंबर 2026"),
    ],
)
def test_dates_follow_the_region_in_its_language_and_cldr_elsewhere(project, loaded, clinic, language, date):
    text = html.unescape(re.sub(r"<[^>]+>", "", _html(project, loaded, clinic, language)))
    assert date in text, text[-600:]  # the colophon's review date (and the footer's)


def test_the_uk_get_help_box_says_what_its_file_says(project, loaded):
    english = _html(project, loaded, "thameside", "en")
    # the help boxes' numbers: the emergency, crisis and clinic boxes each have their own
    box = "".join(re.findall(r'<div class="numbers">.*?</div>', english, flags=re.S))
    for number in ("999", "112", "111", "116 123"):
        assert f'class="number tel">{number}</bdi>' in box or f'class="tel">{number}</bdi>' in box, number
    assert "Urgent advice, not an emergency" in box and "Calls only" in box
    assert "or text" not in english.lower()  # Samaritans takes calls only
    assert "(in English)" not in english  # an English handout needs no language note
    arabic = _html(project, loaded, "thameside", "ar")
    assert "(باللغة الإنجليزية)" in arabic and "مكالمات هاتفية فقط" in arabic
    assert "رسالة نصية" not in arabic  # Samaritans takes calls only: no texting is promised


def test_the_us_crisis_line_is_call_or_text_in_english_and_spanish(project, loaded):
    spanish = _html(project, loaded, "example", "es")
    assert "Llame o envíe un mensaje de texto" in spanish and "(en " not in spanish
    korean = _html(project, loaded, "example", "ko")
    assert "전화 또는 문자" in korean and "(영어 및 스페인어 상담)" in korean


# --- the test clinic: numbers in other formats, in every language ------------------------


@pytest.fixture(scope="session")
def faraway(project, tmp_path_factory) -> dict[str, Path]:
    """The test clinic's IV handout (standard edition) in every language, built once per run
    (by whichever test process asks first, in two render processes) by the real build, each
    PDF verified as the build verifies it."""

    def make(out: Path) -> dict[str, Path]:
        clinic = load_clinic(TEST_CLINIC, available_languages(project.locales))
        results = build(project, plan([clinic], editions=["standard"]), out, BuildOptions(workers=2))
        assert all(r.ok for r in results), [r.message for r in results if not r.ok]
        return {r.job.language: r.path for r in results}

    return once_per_run(tmp_path_factory, "faraway", make)


def _poppler(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout


def _words(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes (x0, y0, x1, y1, text), as poppler places them."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    return [
        [
            (float(a), float(b), float(c), float(d), html.unescape(w))
            for a, b, c, d, w in re.findall(
                r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page
            )
        ]
        for page in out.split("<page ")[1:]
    ]


def _number_boxes(page, number: str) -> list[tuple[float, float, float, float]]:
    """Where a number is printed on a page: its words in a row (poppler lists a right-to-left
    line's words from the right, and mirrors its brackets), as one box."""
    groups = [g.replace(")", "(") for g in number.split()]
    found = []
    for i in range(len(page) - len(groups) + 1):
        words = [w[4].replace(")", "(") for w in page[i : i + len(groups)]]
        if words in (groups, groups[::-1]):
            row = page[i : i + len(groups)]
            found.append(
                (min(w[0] for w in row), min(w[1] for w in row), max(w[2] for w in row), max(w[3] for w in row))
            )
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_number_reads_back_as_configured_in_every_language(faraway, language):
    text = " ".join(_poppler(faraway[language]).split())
    for number, reversed_form in NUMBERS.items():
        # poppler mirrors brackets in right-to-left lines (the page prints them the right way)
        pattern = "".join("[()]" if c in "()" else re.escape(c) for c in number)
        assert len(re.findall(rf"(?<![\d+]){pattern}(?!\d)", text)) >= (2 if number != "+49 30 1234 5678" else 1), (
            number,
            text,
        )
        if reversed_form:
            assert reversed_form not in text, (number, reversed_form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_get_help_numbers_never_run_into_each_other(faraway, language):
    """Two numbers printed on the same line (the Get-help box's two columns, the masthead)
    have at least 2 mm between them."""
    for n, page in enumerate(_words(faraway[language]), 1):
        boxes = [box for number in NUMBERS for box in _number_boxes(page, number)]
        for a, b in combinations(boxes, 2):
            same_line = min(a[3], b[3]) - max(a[1], b[1]) > 0.5 * min(a[3] - a[1], b[3] - b[1])
            if same_line:
                gap = max(a[0], b[0]) - min(a[2], b[2])
                assert gap >= MIN_GAP_PT, (language, n, a, b, gap)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_test_clinic_prints_its_times_and_crisis_languages(faraway, project, language):
    text = " ".join(_poppler(faraway[language]).split())
    tr = load_translator(project.locales, language)
    if language != "ar":  # poppler reorders Arabic words (test_time_phrases_... checks them)
        for phrase in NATURAL[language]:  # fold: poppler places Devanagari vowel signs apart
            assert fold(phrase) in fold(text), phrase
    assert "150" not in text and not re.search(r"(?<![\w.])90(?![\w.])", text)
    if language == "en":
        assert "(in " not in text  # the crisis line answers in English
    else:  # ... and German: every other handout says so, in its language
        names = format_list(
            [
                Locale.parse(lang).get_language_name(tr.locale) or Locale.parse(lang).get_language_name()
                for lang in ("en", "de")
            ],
            locale=tr.locale,
        )
        note = tr.gettext("(in %(languages)s)") % {"languages": names}
        if language not in ("ar", "hi"):  # poppler reorders Arabic words and Devanagari reph
            assert fold(note) in fold(text), note


def test_a_crisis_line_texted_at_another_number_prints_that_number_to_dial(project, loaded):
    """A text service on its own number (Shout's 85258 beside Samaritans' 116 123): printed
    as a number to dial, isolated and verified like the others."""
    content, translators = loaded
    job = plan(load_clinics(project, ["thameside"]), ["ar"], ["iv"], ["standard"])[0]
    clinic = dataclasses.replace(job.clinic, contact=dataclasses.replace(job.clinic.contact, crisis_line_text="85258"))
    doc = compose_job(dataclasses.replace(job, clinic=clinic), content, translators, project.templates)
    # the space before the number is in a span of its own (html.keep_break_before_inline)
    assert 'أرسل رسالة نصية إلى الرقم<span class="sp"> </span><bdi dir="ltr" class="tel">85258</bdi>' in doc.html
    assert "مكالمات هاتفية فقط" not in doc.html  # no longer calls only
    assert doc.expected is not None and doc.expected.printed["85258"] == 1

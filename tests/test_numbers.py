"""Numbers read right in every script: read back from real PDFs, in the order they are printed.

pdftotext and pypdf both give digits in visual order, so a number reversed by the Unicode
bidi algorithm (``0142-555-503``) or by an override character reads back reversed.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess

import pytest
from pypdf import PdfReader

from generator.build import compose_job, load_clinics, plan
from generator.content import load_content
from generator.html import HandoutDocument, isolate_numbers
from generator.pdf import render_pdf
from generator.translation import Translators
from generator.verify import verify

NUMBERS = {
    "example": {"503-555-0142": "0142-555-503", "503-555-0199": "0199-555-503"},
    "thameside": {"020 7946 0321": "0321 7946 020", "020 7946 0877": "0877 7946 020", "116 123": "123 116"},
}


def _job(project, clinic: str, language: str, edition: str = "standard"):
    return plan(load_clinics(project, [clinic]), [language], ["iv"], [edition])[0]


@pytest.fixture(scope="module")
def loaded(project):
    return load_content(project.content), Translators(project.locales)


def _compose(project, loaded, clinic, language, edition="standard") -> HandoutDocument:
    content, translators = loaded
    return compose_job(_job(project, clinic, language, edition), content, translators, project.templates)


def _texts(pdf: bytes) -> list[str]:
    """The PDF's text as poppler and as pypdf read it, with whitespace folded."""
    poppler = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    pypdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return [" ".join(text.split()) for text in (poppler, pypdf)]


@pytest.mark.parametrize("clinic", ["example", "thameside"])
@pytest.mark.parametrize("edition", ["standard", "bilingual"])
def test_arabic_handouts_print_every_number_left_to_right(project, loaded, clinic, edition):
    if clinic == "example" and edition == "bilingual":
        edition = "large"  # the example clinic's third edition; thameside has no large print
    doc = _compose(project, loaded, clinic, "ar", edition)
    pdf = render_pdf(doc).data
    for text in _texts(pdf):
        for number, reversed_form in NUMBERS[clinic].items():
            # the box, the masthead (the clinic's number) and the running text all print it
            assert text.count(number) >= (2 if number.startswith(("503-555-0142", "020 7946 0321")) else 1), (
                number,
                text,
            )
            assert reversed_form not in text, (reversed_form, text)


def test_without_the_isolates_the_arabic_numbers_read_reversed(project, loaded):
    """The test above can fail: the same handout with its <bdi> taken out reads reversed."""
    doc = _compose(project, loaded, "thameside", "ar")
    bare = (
        doc.html.replace('<bdi dir="ltr" class="number tel">', "<span>")
        .replace('<bdi dir="ltr" class="tel">', "<span>")
        .replace("</bdi>", "</span>")
    )
    pdf = render_pdf(dataclasses.replace(doc, html=bare, alternatives=())).data
    poppler, _ = _texts(pdf)
    assert "0321 7946 020" in poppler and "123 116" in poppler


def test_an_override_character_cannot_reverse_a_clinic_number(project, loaded):
    """U+202E around a filled-in number (as a pasted translation could put it) leaves the
    number's digits in order: the number is an isolate of its own."""
    doc = _compose(project, loaded, "example", "es")
    isolated = '<bdi dir="ltr" class="tel">503-555-0199</bdi>'
    assert isolated in doc.html
    overridden = doc.html.replace(isolated, "\u202e" + isolated + "\u202c")
    good = _texts(render_pdf(dataclasses.replace(doc, html=overridden, alternatives=())).data)[0]
    assert "503-555-0199" in good and "9910-555-305" not in good


def test_numbers_in_text_are_isolated_and_words_with_digits_are_not():
    html = (
        "<p>Version 1.0.0 (5fb2af42) · 21 نوفمبر 2026 · {clinic_phone} &#x27; "
        '<bdi dir="ltr" class="tel">020 7946 0321</bdi> H2O <svg><text>12</text></svg></p>'
    )
    out = isolate_numbers(html)
    assert '<bdi dir="ltr" class="num">1.0.0</bdi>' in out
    assert '<bdi dir="ltr" class="num">21</bdi>' in out and '<bdi dir="ltr" class="num">2026</bdi>' in out
    assert "(5fb2af42)" in out and "H2O" in out and "{clinic_phone}" in out and "&#x27;" in out
    assert '<bdi dir="ltr" class="tel">020 7946 0321</bdi>' in out and "<text>12</text>" in out


def test_a_phone_number_never_breaks_across_lines(project, loaded):
    """In a column too narrow for the text, every number stays whole on one line."""
    doc = _compose(project, loaded, "thameside", "ar")
    narrow = doc.html.replace("</head>", "<style>main { columns: auto; width: 32mm; }</style></head>")
    pdf = render_pdf(dataclasses.replace(doc, html=narrow, alternatives=())).data
    raw = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")
    lines = raw.splitlines()
    assert sum("020 7946 0321" in line for line in lines) >= 3
    assert not any(line.strip().endswith(("020", "020 7946")) for line in lines)
    # a time phrase keeps its number: "6 ساعات" is never split after the number
    assert not any(line.strip().endswith(("لمدة 6", " 6")) for line in lines)


def test_the_poison_help_line_is_a_number_to_dial_and_verified(project, loaded):
    """Every phone-number placeholder (placeholders.KINDS) prints as one isolate that
    verification counts, the poison help line of the oral route included."""
    content, translators = loaded
    job = plan(load_clinics(project, ["example"]), ["ar"], ["oral"], ["standard"])[0]
    doc = compose_job(job, content, translators, project.templates)
    assert '<bdi dir="ltr" class="tel">1-800-222-1222</bdi>' in doc.html
    assert doc.expected.printed["1-800-222-1222"] == 1
    assert verify(render_pdf(doc).data, doc.expected) == []

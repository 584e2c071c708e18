"""Layout checks on real renderings (issue 15 §1, issue 12 §3): text printed over other text
is reported, long numbers do not run into each other, each help box ("Get help now", the crisis
line, "Call the clinic") is whole with its numbers and leaves no column more than a quarter empty
before it."""

from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from pypdf import PdfReader

from generator.build import build, compose_job, load_clinics, plan
from generator.content import load_content
from generator.html import HandoutDocument
from generator.overlap import GAP_LIMIT
from generator.pdf import render_pdf
from generator.translation import Translators

from .conftest import pdf_text


def document(project, body: str) -> HandoutDocument:
    return HandoutDocument(
        html=f'<!DOCTYPE html><html lang="en"><body style="font: 12pt Noto Sans">{body}</body></html>',
        language="en",
        base_url=project.templates,
        asset_roots=(project.templates,),
    )


def test_text_printed_over_other_text_is_reported(project):
    # the second line set 1 em higher than it belongs: over the lower half of the first
    overlapping = document(
        project, '<p style="margin: 0">First line of text</p><p style="margin: -1em 0 0 3em">Second line here</p>'
    )
    found = [line for line in render_pdf(overlapping).overflows if "empty (at most" not in line]
    assert found == ["page 1: text overlaps other text: 'First line of text' and 'Second line here'"], found
    apart = document(
        project, '<p style="margin: 0">First line of text</p><p style="margin: 0 0 0 3em">Second line here</p>'
    )
    assert [line for line in render_pdf(apart).overflows if "empty (at most" not in line] == []


def test_very_long_numbers_take_the_whole_width_without_overlapping(project_copy, tmp_path):
    clinic = project_copy.clinics / "thameside.toml"
    numbers = {
        "020 7946 0321": "+44 20 7946 0321 ext. 4567",
        "020 7946 0877": "+44 (0)20 7946 0877 5566",
        '"116 123"': '"+44 116 123 0000 1111"',
    }
    text = clinic.read_text()
    for old, new in numbers.items():
        text = text.replace(old, new)
    clinic.write_text(text)
    [result] = build(
        project_copy, plan(load_clinics(project_copy, ["thameside"]), ["en"], ["im"], ["standard"]), tmp_path
    )
    assert result.ok, result.message
    assert not [w for w in result.warnings if "overlaps" in w or "runs out" in w], result.warnings
    printed = pdf_text(result.path)
    for number in ("+44 20 7946 0321 ext. 4567", "+44 (0)20 7946 0877 5566", "+44 116 123 0000 1111"):
        assert number in printed


@pytest.mark.parametrize("language, route", [("en", "iv"), ("ru", "intranasal")])
def test_each_help_box_is_whole_with_its_numbers_and_leaves_no_column_half_empty(project, language, route):
    # Three boxes, each whole (never over two columns or pages) with its own numbers; where
    # one, kept whole, would leave more than a quarter of a column empty before it, the boxes
    # go one section later or earlier (en/iv: later, ru/intranasal: earlier).
    content, translators = load_content(project.content), Translators(project.locales)
    [job] = plan(load_clinics(project, ["example"]), [language], [route], ["standard"])
    doc = compose_job(job, content, translators, project.templates)
    pdf = render_pdf(doc)
    assert pdf.pages <= 4
    assert pdf.overflows == (), pdf.overflows
    assert pdf.help_gap <= GAP_LIMIT
    text = pdf_text_of(pdf.data)
    for number in (job.clinic.emergency_number, job.clinic.crisis_line, job.clinic.phone):
        assert text.count(number) >= 2, number  # on page 1, and in its box
    if language == "en":
        assert all(title in text for title in ("Get help now", "Thoughts of suicide", "Call the clinic"))


def test_another_placement_is_taken_when_a_box_would_leave_a_column_half_empty(project):
    # a column holds about 51 lines of 5 mm: 36 lines of text, then a box of 21 lines kept
    # whole, which starts the next column and leaves about 0.3 of the first one empty
    lines = "".join(f"<p style='margin: 0'>Line {n}</p>" for n in range(36))
    box = "".join(f"<p style='margin: 0'>Call {n}</p>" for n in range(21))
    box = f'<section class="block block-get-help help-box" style="break-inside: avoid">{box}</section>'

    def columns(*sections: str) -> str:
        return f'<main style="columns: 2; column-fill: auto; line-height: 5mm">{"".join(sections)}</main>'

    doc = document(project, columns(f"<section>{lines}</section>", box))
    as_written = render_pdf(doc)
    assert as_written.help_gap == pytest.approx(0.3, abs=0.05)
    assert any(line.startswith("a help box leaves 0.") for line in as_written.overflows), as_written.overflows
    placed = render_pdf(replace(doc, alternatives=(columns(box, f"<section>{lines}</section>"),)))
    assert placed.help_gap == 0 and placed.pages == as_written.pages
    assert not [line for line in placed.overflows if "help box" in line], placed.overflows


def test_a_help_box_split_over_two_columns_is_reported(project):
    tall = "".join(f"<li>Item {n} of a very long list</li>" for n in range(90))
    doc = document(
        project,
        '<main style="columns: 2; column-fill: auto"><p>Before</p>'
        f'<section class="block block-crisis help-box"><h2>Crisis</h2><ul>{tall}</ul></section></main>',
    )
    found = render_pdf(doc).overflows
    assert any("the help box 'block-crisis' is split over" in line for line in found), found


def test_a_heading_that_ends_a_column_and_a_list_item_split_over_two_are_reported(project):
    words = " ".join(["Medicines for anxiety or sleep can make you very sleepy."] * 40)
    doc = document(
        project,
        '<main style="columns: 2; column-fill: auto"><p>Before</p>'
        '<h2 style="break-after: column">What to bring</h2><p>A list of your medicines.</p>'
        f'<ul><li style="break-inside: auto">{words}</li></ul></main>',
    )
    found = render_pdf(doc).overflows
    assert "page 1: the heading 'What to bring' ends a column; its text starts in the next one" in found, found
    assert any(re.match(r"page [12]: a list item is split over two columns or pages after '", f) for f in found), found
    whole = doc.html.replace("break-after: column", "").replace(words, "Bring it.")
    kept = render_pdf(replace(doc, html=whole)).overflows
    assert not [f for f in kept if "heading" in f or "list item" in f], kept


def pdf_text_of(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))


def test_a_page_or_column_more_than_half_empty_is_reported(project):
    # a column holds about 51 lines of 5 mm: 12 lines, then a column break, leave about 0.75
    # of the first column empty; the 51 lines after it fill the second
    lines = "".join(f"<p style='margin: 0'>Line {n}</p>" for n in range(12))
    more = "".join(f"<p style='margin: 0'>More {n}</p>" for n in range(51))

    def columns(*parts: str) -> str:
        return f'<main style="columns: 2; column-fill: auto; line-height: 5mm">{"".join(parts)}</main>'

    gap = render_pdf(document(project, columns(lines, f'<div style="break-before: column">{more}</div>'))).overflows
    empty = [line for line in gap if "empty (at most" in line]
    assert len(empty) == 1 and re.match(r"page 1: column 1 from the left is 0\.7\d empty", empty[0]), gap
    full = render_pdf(document(project, columns(lines, more, more))).overflows  # page 1 full, the rest on page 2
    assert [line for line in full if line.startswith("page 1:") and "empty (at most" in line] == [], full


def test_a_page_empty_before_a_box_kept_whole_is_reported_in_one_column(project):
    # one column (large print, bilingual): a box kept whole that does not fit the rest of page 1
    # leaves it empty from where the text ends; the largest empty stretch counts, not only the
    # bottom: a page with a line at its foot is still reported
    box = "".join(f"<p style='margin: 0'>Box {n}</p>" for n in range(80))
    doc = replace(
        document(
            project,
            '<main style="line-height: 5mm">'
            + "".join(f"<p style='margin: 0'>Line {n}</p>" for n in range(20))
            + f'<section style="break-inside: avoid">{box}</section></main>',
        ),
        edition="large",
    )
    found = [line for line in render_pdf(doc).overflows if "empty (at most" in line]
    assert any(re.match(r"page 1: the page is 0\.[5-9]\d empty", line) for line in found), found


def test_large_prints_get_help_box_after_page_two_is_reported(project):
    # issue 12 §3: large print prints "Get help now" whole by page 2; a box kept whole that does
    # not fit under the text before it goes on to page 3, and the build says so
    box = '<section class="block block-get-help help-box" style="break-inside: avoid"><h2>Get help now</h2>{}</section>'
    box = box.format("".join(f"<p style='margin: 0'>Call {n}</p>" for n in range(30)))
    before = "".join(f"<p style='margin: 0; line-height: 6mm'>Line {n}</p>" for n in range(60))
    late = replace(document(project, before + box), edition="large")
    found = render_pdf(late).overflows
    assert "page 3: 'Get help now' ends after page 2" in " ".join(found), found
    early = replace(late, html=late.html.replace(before, before[: len(before) // 3]))
    assert not [line for line in render_pdf(early).overflows if "Get help now" in line]
    assert not [line for line in render_pdf(replace(late, edition="bilingual")).overflows if "Get help now" in line]

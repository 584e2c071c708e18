"""Layout checks on real renderings (issue 15 §1, issue 12 §3): text printed over other text
is reported, long numbers do not run into each other, the "Get help now" box is whole on one
page, continuing in the next column only there."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from generator import overlap
from generator.build import build, compose_job, load_clinics, plan
from generator.content import load_content
from generator.html import HandoutDocument
from generator.overlap import GAP_LIMIT
from generator.pdf import page_boxes, render_pdf
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
    found = render_pdf(overlapping).overflows
    assert found == ("page 1: text overlaps other text: 'First line of text' and 'Second line here'",), found
    apart = document(
        project, '<p style="margin: 0">First line of text</p><p style="margin: 0 0 0 3em">Second line here</p>'
    )
    assert render_pdf(apart).overflows == ()


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


@pytest.mark.parametrize("language, route", [("en", "iv"), ("ru", "iv"), ("en", "intranasal")])
def test_the_get_help_box_is_whole_on_one_page_and_continues_in_a_column_only_there(project, language, route):
    # Kept whole, the box jumps on to the next column or page and can leave a column partly
    # empty. It may then continue in the next column, but only on the same page: en/iv and
    # ru/iv would be split over two pages, so they keep the box whole and the gap.
    content, translators = load_content(project.content), Translators(project.locales)
    [job] = plan(load_clinics(project, ["example"]), [language], [route], ["standard"])
    doc = compose_job(job, content, translators, project.templates)
    pdf = render_pdf(doc)
    assert pdf.pages <= 4
    assert not [line for line in pdf.overflows if "overlaps" in line], pdf.overflows
    base = doc.base_url.resolve().as_uri() + "/"
    whole, flowing = (page_boxes(HTML(string=html, base_url=base).render()) for html in (doc.html, *doc.alternatives))
    assert len(overlap.help_pages(whole)) == 1
    if overlap.help_gap(whole) > GAP_LIMIT and len(overlap.help_pages(flowing)) == 1:
        assert pdf.help_gap == min(overlap.help_gap(flowing), overlap.help_gap(whole))
    else:  # the box continuing in the next column would have crossed a page: whole it stays
        assert pdf.help_gap == overlap.help_gap(whole)
    text = pdf_text_of(pdf.data)
    assert text.count(job.clinic.emergency_number) >= 2  # masthead and the box


def pdf_text_of(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))

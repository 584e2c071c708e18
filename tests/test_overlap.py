"""Layout checks on real renderings (issue 15 §1, issue 12 §3): text printed over other text
is reported, long numbers do not run into each other, the "Get help now" box leaves no
half-empty column before it."""
from __future__ import annotations

import io
import re

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
    return HandoutDocument(html=f'<!DOCTYPE html><html lang="en"><body style="font: 12pt Noto Sans">{body}</body></html>',
                           language="en", base_url=project.templates, asset_roots=(project.templates,))


def test_text_printed_over_other_text_is_reported(project):
    # the second line set 1 em higher than it belongs: over the lower half of the first
    overlapping = document(project, '<p style="margin: 0">First line of text</p>'
                                    '<p style="margin: -1em 0 0 3em">Second line here</p>')
    found = render_pdf(overlapping).overflows
    assert found == ("page 1: text overlaps other text: 'First line of text' and 'Second line here'",), found
    apart = document(project, '<p style="margin: 0">First line of text</p><p style="margin: 0 0 0 3em">Second line here</p>')
    assert render_pdf(apart).overflows == ()


def test_very_long_numbers_take_the_whole_width_without_overlapping(project_copy, tmp_path):
    clinic = project_copy.clinics / "thameside.toml"
    numbers = {"020 7946 0321": "+44 20 7946 0321 ext. 4567", "020 7946 0877": "+44 (0)20 7946 0877 5566",
               '"116 123"': '"+44 116 123 0000 1111"'}
    text = clinic.read_text()
    for old, new in numbers.items():
        text = text.replace(old, new)
    clinic.write_text(text)
    [result] = build(project_copy, plan(load_clinics(project_copy, ["thameside"]), ["en"], ["im"],
                                        ["standard"]), tmp_path)
    assert result.ok, result.message
    assert not [w for w in result.warnings if "overlaps" in w or "runs out" in w], result.warnings
    printed = pdf_text(result.path)
    for number in ("+44 20 7946 0321 ext. 4567", "+44 (0)20 7946 0877 5566", "+44 116 123 0000 1111"):
        assert number in printed


@pytest.mark.parametrize("language, route", [("en", "iv"), ("ru", "iv")])
def test_the_get_help_box_leaves_no_half_empty_column(project, language, route):
    # both had a column more than half empty before the box (kept whole, it jumped on to the
    # next column or page); now the box continues in the next column between two items
    content, translators = load_content(project.content), Translators(project.locales)
    [job] = plan(load_clinics(project, ["example"]), [language], [route], ["standard"])
    doc = compose_job(job, content, translators, project.templates)
    pdf = render_pdf(doc)
    assert pdf.help_gap <= GAP_LIMIT and pdf.pages <= 4
    assert not [line for line in pdf.overflows if "overlaps" in line], pdf.overflows
    text = pdf_text_of(pdf.data)
    assert text.count(job.clinic.emergency_number) >= 2  # masthead and the box


def pdf_text_of(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages))

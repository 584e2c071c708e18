"""Embedded CJK fonts keep only the glyphs a handout uses, and every glyph stays the same."""

import io

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from generator.build import load_clinics, plan
from generator.content import load_content
from generator.html import compose
from generator.pdf import render_pdf
from generator.translation import Translators

from .conftest import pdf_text


def cid_fonts(data: bytes) -> dict[str, tuple[str, bytes, set[int]]]:
    """BaseFont -> (FontFile3 subtype, font program, CIDs given widths) of each CFF font."""
    fonts = {}
    for page in PdfReader(io.BytesIO(data)).pages:
        for ref in page["/Resources"]["/Font"].values():
            cid_font = ref.get_object()["/DescendantFonts"][0].get_object()
            file = cid_font["/FontDescriptor"].get_object().get("/FontFile3")
            if file is None:
                continue
            widths, cids = list(cid_font["/W"]), set()
            for first, run in zip(widths[::2], widths[1::2], strict=False):
                cids.update(range(first, first + len(run)))
            file = file.get_object()
            fonts[cid_font["/BaseFont"]] = (file["/Subtype"], file.get_data(), cids)
    return fonts


def charstrings_by_cid(subtype: str, program: bytes) -> dict[int, bytes]:
    """Each glyph's outline program by the CID a PDF reader looks it up with."""
    cff = CFFFontSet()
    if subtype == "/OpenType":  # WeasyPrint's own: the text's numbers are glyph indexes
        cff.decompile(io.BytesIO(TTFont(io.BytesIO(program), lazy=True).reader["CFF "]), None, isCFF2=False)
        names = cff.topDictIndex[0].charset
        by_cid = dict(enumerate(names))
    else:  # bare CID-keyed CFF: the charset maps CIDs to glyphs
        cff.decompile(io.BytesIO(program), None, isCFF2=False)
        by_cid = {0 if n == ".notdef" else int(n[3:]): n for n in cff.topDictIndex[0].charset}
    strings = cff.topDictIndex[0].CharStrings
    result = {}
    for cid, name in by_cid.items():
        charstring = strings[name]
        charstring.compile()
        result[cid] = charstring.bytecode
    return result


@pytest.mark.parametrize("language", ["zh_Hans", "ko"])
def test_cjk_fonts_are_compacted_without_changing_a_glyph(project, language, tmp_path):
    [job] = plan(load_clinics(project, ["example"]), [language], ["iv"], ["standard"])
    doc = compose(
        job.clinic,
        load_content(project.content).routes["iv"],
        Translators(project.locales).get(language),
        project.templates,
    )
    whole, compact = render_pdf(doc, compact_fonts=False).data, render_pdf(doc).data
    before, after = cid_fonts(whole), cid_fonts(compact)
    assert before.keys() == after.keys() and before, "the handout uses CJK (CFF) fonts"
    for name, (subtype, program, cids) in after.items():
        assert subtype == "/CIDFontType0C", name
        old_subtype, old_program, old_cids = before[name]
        assert old_subtype == "/OpenType" and cids == old_cids
        new_glyphs, old_glyphs = charstrings_by_cid(subtype, program), charstrings_by_cid(old_subtype, old_program)
        assert set(new_glyphs) == cids | {0}  # only the glyphs the text uses
        for cid in cids:
            assert new_glyphs[cid] == old_glyphs[cid], f"{name}: glyph {cid} changed"
    (tmp_path / "whole.pdf").write_bytes(whole)
    (tmp_path / "compact.pdf").write_bytes(compact)
    assert pdf_text(tmp_path / "compact.pdf") == pdf_text(tmp_path / "whole.pdf")
    assert len(compact) < 150 * 1024 < len(whole)

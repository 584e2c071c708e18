"""Embedded CJK fonts keep only the glyphs a handout uses, and every glyph stays the same."""

import io

import pytest
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from generator import fontcompact
from generator.build import load_clinics, plan
from generator.content import load_content
from generator.fontcompact import MARGIN, _compact_cff, _extents
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


def opentype_programs(data: bytes) -> list[tuple[bytes, set[int]]]:
    """(font program, CIDs given widths) of each CFF font WeasyPrint embedded as OpenType."""
    return [(program, cids) for subtype, program, cids in cid_fonts(data).values() if subtype == "/OpenType"]


def compact_cff_as_before(opentype: bytes, cids: set[int]) -> bytes | None:
    """fontcompact's first algorithm, kept as the reference: fontTools reads every table of the
    font, keeps the glyphs and recalculates the FontBBox from every kept glyph's outline
    (about 250 ms per font where the fast path takes a few)."""
    font = TTFont(io.BytesIO(opentype), lazy=True)
    if "CFF " not in font.reader:
        return None
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(font.reader["CFF "]), None, isCFF2=False)
    top = cff.topDictIndex[0]
    if not hasattr(top, "ROS") or not hasattr(top, "FDSelect"):
        return None
    names = top.charset
    keep = sorted({0} | {cid for cid in cids if cid < len(names)})
    charstrings = top.CharStrings
    new_names = [".notdef" if gid == 0 else f"cid{gid:05d}" for gid in keep]
    charstrings.charStrings = {new: charstrings[names[gid]] for new, gid in zip(new_names, keep, strict=False)}
    charstrings.charStringsAreIndexed = False
    top.FDSelect.gidArray = [top.FDSelect.gidArray[gid] for gid in keep]
    top.FDSelect.format = 3
    top.charset = new_names
    out = io.BytesIO()
    cff.compile(out, font, isCFF2=False)
    return out.getvalue()


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
def test_cjk_fonts_are_compacted_without_changing_a_glyph(project, language, tmp_path, monkeypatch):
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
    # the fast path writes the very bytes the first algorithm wrote, from the same input
    for program, cids in opentype_programs(whole):
        expected = compact_cff_as_before(program, cids)
        assert _compact_cff(program, cids) == expected
        with monkeypatch.context() as without:  # no libharfbuzz found: every glyph's bounds, same bytes
            without.setattr(fontcompact, "_harfbuzz", lambda: None)
            assert _compact_cff(program, cids) == expected
        assert_extents_contain_exact_bounds(program, cids)
    (tmp_path / "whole.pdf").write_bytes(whole)
    (tmp_path / "compact.pdf").write_bytes(compact)
    assert pdf_text(tmp_path / "compact.pdf") == pdf_text(tmp_path / "whole.pdf")
    assert len(compact) < 150 * 1024 < len(whole)


def assert_extents_contain_exact_bounds(program: bytes, cids: set[int]) -> None:
    """The fast FontBBox computes exact bounds only for glyphs whose HarfBuzz extents reach an
    edge; that is right only if every glyph's exact bounds (fontTools, as the FontBBox is
    made) lie within its extents, give or take the rounding margin."""
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(TTFont(io.BytesIO(program), lazy=True).reader["CFF "]), None, isCFF2=False)
    top = cff.topDictIndex[0]
    gids = sorted(cids)
    extents = _extents(program, gids)
    assert extents is not None, "HarfBuzz is loadable (Pango's)"
    checked = 0
    for gid, box in zip(gids, extents, strict=True):
        bounds = top.CharStrings[top.charset[gid]].calcBounds(top.CharStrings)
        if box is None or bounds is None:
            continue
        assert box[0] - MARGIN <= bounds[0] and box[1] - MARGIN <= bounds[1], gid
        assert bounds[2] <= box[2] + MARGIN and bounds[3] <= box[3] + MARGIN, gid
        checked += 1
    assert checked > 100

"""Compaction of embedded CJK fonts (CID-keyed CFF), a WeasyPrint finisher.

WeasyPrint subsets fonts keeping every glyph's number, because its text refers to glyphs
by number. For a TrueType font the dropped glyphs cost nothing once compressed; but Noto
Sans CJK is a CID-keyed CFF font with 65,000 glyphs, and its glyph table keeps an offset
for each of them that does not compress, about 150 KB per font. Embedded as a bare
CID-keyed CFF font (FontFile3 /CIDFontType0C, as Acrobat embeds CJK fonts), the numbers
in the text are CIDs that the font's charset maps to its glyphs (PDF 1.7, 9.7.4.2), so
only the glyphs the handout uses need to be kept, each under its old number as its CID.
See benchmarks/README.md for what it saves and costs.
"""

from __future__ import annotations

import io

import pydyf
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont


def compact_cid_fonts(document, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: shrink embedded CJK fonts (Noto Sans CJK) from ~350 KB to ~50 KB.
    ``document`` (WeasyPrint's) is not used; ``pdf`` is changed in place."""
    by_ref = {obj.reference: obj for obj in pdf.objects if getattr(obj, "number", None) is not None}
    used: dict[bytes, set[int]] = {}
    for obj in pdf.objects:
        if isinstance(obj, pydyf.Dictionary) and obj.get("Subtype") == "/CIDFontType0":
            font_file = by_ref[obj["FontDescriptor"]].get("FontFile3")
            if font_file is not None:
                used.setdefault(font_file, set()).update(_cids(obj["W"]))
    for ref, cids in used.items():
        stream = by_ref[ref]
        if stream.extra.get("Subtype") != "/OpenType":
            continue
        cff = _compact_cff(b"".join(stream.stream), cids)
        if cff is not None:
            stream.stream = [cff]
            stream.extra["Subtype"] = "/CIDFontType0C"


def _cids(widths: list) -> set[int]:
    """The CIDs a /W array gives widths for: [first [w w ...] first [w ...] ...]."""
    return {first + i for first, run in zip(widths[::2], widths[1::2], strict=False) for i in range(len(run))}


def _compact_cff(opentype: bytes, cids: set[int]) -> bytes | None:
    """The font's CFF table with only the glyphs ``cids`` (+ .notdef), each glyph's CID being
    its number in ``opentype``; None if the font is not CID-keyed CFF (then it stays as is)."""
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

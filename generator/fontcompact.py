"""Compaction of embedded CJK fonts (CID-keyed CFF), a WeasyPrint finisher.

WeasyPrint subsets fonts keeping every glyph's number, because its text refers to glyphs
by number. For a TrueType font the dropped glyphs cost nothing once compressed; but Noto
Sans CJK is a CID-keyed CFF font with 65,000 glyphs, and its glyph table keeps an offset
for each of them that does not compress, about 150 KB per font. Embedded as a bare
CID-keyed CFF font (FontFile3 /CIDFontType0C, as Acrobat embeds CJK fonts), the numbers
in the text are CIDs that the font's charset maps to its glyphs (PDF 1.7, 9.7.4.2), so
only the glyphs the handout uses need to be kept, each under its old number as its CID.
See benchmarks/README.md for what it saves and costs.

Fast path (a few milliseconds per font instead of about 250): only the kept glyphs' entries
of the 65,000-entry tables (CharStrings offsets, FDSelect) are read, their outline programs
are copied as they are, and the FontBBox fontTools would compute from every kept glyph's
exact bounds is found by computing exact bounds only for the glyphs that can reach an edge
(HarfBuzz's glyph extents, which contain the exact bounds, tell which). The output is
byte-identical to fontTools decompiling everything and recalculating the bounding box
(tests/test_pdf_fonts.py keeps that algorithm and compares).
"""

from __future__ import annotations

import bisect
import ctypes
import ctypes.util
import io
from collections.abc import Callable, Sequence
from functools import cache

import pydyf
from fontTools.cffLib import CFFFontSet, CharStrings, FDSelect
from fontTools.misc.arrayTools import intRect, unionRect
from fontTools.misc.psCharStrings import T2CharString
from fontTools.ttLib import TTFont

Rect = tuple[float, float, float, float]


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
    data = font.reader["CFF "]
    cff = CFFFontSet()
    cff.decompile(io.BytesIO(data), None, isCFF2=False)
    top = cff.topDictIndex[0]
    raw = top.rawDict  # read from here: an attribute of the 65,000 glyphs' tables parses all of them
    if "ROS" not in raw or "FDSelect" not in raw or "CharStrings" not in raw:
        return None
    keep = sorted({0} | {cid for cid in cids if cid < top.numGlyphs})
    fds = _fd_select(data, raw["FDSelect"], top.numGlyphs, keep)
    fd_array = top.FDArray
    names = [".notdef" if gid == 0 else f"cid{gid:05d}" for gid in keep]
    strings = CharStrings(None, None, top.GlobalSubrs, None, None, fd_array)
    for name, program, fd in zip(names, _charstrings(data, raw["CharStrings"], keep), fds, strict=True):
        strings.charStrings[name] = T2CharString(program, private=fd_array[fd].Private, globalSubrs=top.GlobalSubrs)
    top.CharStrings = strings
    top.charset = names
    top.FDSelect = FDSelect(format=3)
    top.FDSelect.gidArray = fds
    top.FontBBox = _font_bbox(strings, names, _extents(opentype, keep), top.FontBBox)
    font.recalcBBoxes = False  # done above, as fontTools would (its way decompiles every glyph)
    out = io.BytesIO()
    cff.compile(out, font, isCFF2=False)
    return out.getvalue()


def _card(data: bytes, pos: int, size: int) -> int:
    return int.from_bytes(data[pos : pos + size], "big")


def _charstrings(data: bytes, pos: int, gids: Sequence[int]) -> list[bytes]:
    """The outline programs of glyphs ``gids`` from the CharStrings INDEX at ``pos``."""
    size = data[pos + 2]
    base = pos + 3 + (_card(data, pos, 2) + 1) * size - 1  # offsets count from the byte before the data
    programs = []
    for gid in gids:
        at = pos + 3 + gid * size
        programs.append(data[base + _card(data, at, size) : base + _card(data, at + size, size)])
    return programs


def _fd_select(data: bytes, pos: int, count: int, gids: Sequence[int]) -> list[int]:
    """The font dictionary of each of glyphs ``gids`` (FDSelect format 0, 3 or 4)."""
    kind = data[pos]
    if kind == 0:
        return [data[pos + 1 + gid] for gid in gids]
    if kind not in (3, 4):
        raise ValueError(f"unsupported FDSelect format {kind}")
    glyph, fd = (2, 1) if kind == 3 else (4, 2)
    ranges = _card(data, pos + 1, glyph)
    step, start = glyph + fd, pos + 1 + glyph
    firsts = [_card(data, start + i * step, glyph) for i in range(ranges)]
    result = []
    for gid in gids:
        i = bisect.bisect_right(firsts, gid) - 1
        if i < 0 or gid >= count:
            raise ValueError(f"glyph {gid} has no font dictionary")
        result.append(_card(data, start + i * step + glyph, fd))
    return result


def _font_bbox(strings: CharStrings, names: list[str], extents: list[Rect | None] | None, default: list) -> list:
    """FontBBox as fontTools' ``recalcFontBBox`` makes it: the integer rectangle around the
    union of every glyph's exact bounds. A glyph's exact bounds lie inside its HarfBuzz
    extents (control points, rounded: +-1 unit, hence MARGIN), so along each side only the
    glyphs whose extents reach past the best exact value found so far need their exact
    bounds computed (a handful per side instead of every glyph)."""
    exact: dict[int, Rect | None] = {}

    def bounds(i: int) -> Rect | None:
        if i not in exact:  # a copy: the kept program stays as it is (not re-encoded)
            original = strings.charStrings[names[i]]
            copy = T2CharString(original.bytecode, private=original.private, globalSubrs=original.globalSubrs)
            exact[i] = copy.calcBounds(strings)
        return exact[i]

    if extents is None:  # no HarfBuzz: every glyph's exact bounds
        rects = [bounds(i) for i in range(len(names))]
    else:
        rects = [bounds(i) for i in range(len(names)) if extents[i] is None]  # unknown: computed
        for side, sign in ((0, 1), (1, 1), (2, -1), (3, -1)):  # xMin, yMin (lowest), xMax, yMax (highest)
            rects.append(_extreme(side, sign, extents, bounds))
    union = None
    for rect in rects:
        if rect is not None:
            union = rect if union is None else unionRect(union, rect)
    return list(default) if union is None else list(intRect(union))


#: how far a HarfBuzz extent may lie inside the exact bounds (font units): its rounding
MARGIN = 2


def _extreme(side: int, sign: int, extents: list[Rect | None], bounds: Callable[[int], Rect | None]) -> Rect | None:
    """The exact bounds of the glyph that reaches furthest along ``side`` (sign 1: lowest
    value wins, -1: highest), looking only at glyphs whose extents could beat it."""
    order = sorted((sign * rect[side], i) for i, rect in enumerate(extents) if rect is not None)
    best: Rect | None = None
    for reach, i in order:
        if best is not None and reach - MARGIN > sign * best[side]:
            break
        rect = bounds(i)
        if rect is not None and (best is None or sign * rect[side] < sign * best[side]):
            best = rect
    return best


class _HbExtents(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in ("x_bearing", "y_bearing", "width", "height")]


@cache
def _harfbuzz():
    """libharfbuzz (Pango's, which WeasyPrint loads anyway), or None."""
    name = ctypes.util.find_library("harfbuzz")
    if name is None:
        return None
    try:
        hb = ctypes.CDLL(name)
    except OSError:
        return None
    hb.hb_blob_create.restype = hb.hb_face_create.restype = hb.hb_font_create.restype = ctypes.c_void_p
    hb.hb_blob_create.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    hb.hb_face_create.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    hb.hb_font_create.argtypes = [ctypes.c_void_p]
    hb.hb_face_get_upem.argtypes = [ctypes.c_void_p]
    hb.hb_face_get_upem.restype = ctypes.c_uint
    hb.hb_font_set_scale.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    hb.hb_font_get_glyph_extents.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER(_HbExtents)]
    hb.hb_font_get_glyph_extents.restype = ctypes.c_int
    for destroy in (hb.hb_font_destroy, hb.hb_face_destroy, hb.hb_blob_destroy):
        destroy.argtypes = [ctypes.c_void_p]
    return hb


def _extents(opentype: bytes, gids: Sequence[int]) -> list[Rect | None] | None:
    """Each glyph's extents (xMin, yMin, xMax, yMax) in font units from HarfBuzz; None for a
    glyph it gives none (or a flat one, which it reports at 0) and None without HarfBuzz."""
    hb = _harfbuzz()
    if hb is None:
        return None
    blob = hb.hb_blob_create(opentype, len(opentype), 0, None, None)  # 0: HarfBuzz copies the data
    face = hb.hb_face_create(blob, 0)
    font = hb.hb_font_create(face)
    try:
        upem = hb.hb_face_get_upem(face)
        hb.hb_font_set_scale(font, upem, upem)
        result: list[Rect | None] = []
        box = _HbExtents()
        for gid in gids:
            if hb.hb_font_get_glyph_extents(font, gid, ctypes.byref(box)) and box.width and box.height:
                x, y = box.x_bearing, box.y_bearing
                result.append((x, y + box.height, x + box.width, y))
            else:
                result.append(None)
        return result
    finally:
        hb.hb_font_destroy(font)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)

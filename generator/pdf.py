"""Stage 5: HTML -> PDF with WeasyPrint. The only module that imports weasyprint.

Content, translations and clinic files come from outside the engineering team, so the
renderer reads nothing but regular files inside the handout's asset folders (no network,
no ``data:`` URLs, no device files), embeds no attachment, links only to ``https:``,
``mailto:`` and ``tel:``, and gives up on a handout that takes longer than a time limit.
"""
from __future__ import annotations

import io
import logging
import mimetypes
import os
import re
import signal
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pydyf
from fontTools.cffLib import CFFFontSet
from fontTools.ttLib import TTFont
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from .config import DEFAULT_TIME_LIMIT, MAX_IMAGE_BYTES
from .errors import RenderError
from .html import DEFAULT_FONTS, FONTS_BY_LANGUAGE, HandoutDocument
from .logo import LogoError, printable_png
from .segments import allowed_link


@dataclass(frozen=True)
class RenderedPDF:
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    #: text that runs out of its box or off the page, one line each
    overflows: tuple[str, ...] = ()


#: Tagged PDF for assistive technology: structure tree, /Lang, title, bookmarks from headings.
PDF_VARIANT = "pdf/ua-1"
#: Tolerance for rounding in the layout, in CSS px.
EPSILON = 0.5


#: WeasyPrint's warning when no font has a glyph for a character.
NOTDEF_RE = re.compile(r"\.notdef glyph rendered.*\((U\+[0-9A-F]{4,6})\)")


class AssetFetcher(URLFetcher):
    """Fetch only regular files inside the given roots (folders, or single files), at most
    ``max_bytes`` each: no network, no ``data:`` URLs, nothing else on disk. A PNG is
    served as printed: decoded under a pixel limit and scaled down (logo.printable_png).

    A refusal raises ``ValueError``; with ``fail_on_errors`` WeasyPrint turns it into its
    fatal fetch error, which stops the rendering. Refusals are also kept in ``refused``,
    because WeasyPrint swallows every error while it draws an SVG image.
    """

    def __init__(self, roots: tuple[Path, ...], max_bytes: int = MAX_IMAGE_BYTES) -> None:
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.roots = tuple(root.resolve() for root in roots)
        self.max_bytes = max_bytes
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        try:
            return self._read(url)
        except ValueError as exc:
            self.refused.append(str(exc))
            raise

    def _read(self, url: str) -> URLFetcherResponse:
        shown = url if len(url) <= 100 else url[:100] + "…"
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"refused to fetch {shown}: a handout may only use files in its "
                             "asset folders (no network, no data: URLs)")
        try:
            path = Path(unquote(parts.path)).resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
            raise ValueError(f"refused to fetch {shown}: {exc}") from None
        if not any(path.is_relative_to(root) for root in self.roots):
            raise ValueError(f"refused to fetch {shown}: it is outside the handout's asset folders "
                             f"({', '.join(map(str, self.roots))})")
        try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ValueError(f"refused to fetch {path}: not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as fp:
                data = fp.read(self.max_bytes + 1)
        finally:
            os.close(fd)
        if len(data) > self.max_bytes:
            raise ValueError(f"refused {path}: larger than {self.max_bytes // 1024} KiB; "
                             "use a smaller file")
        if path.suffix.lower() == ".png":  # a logo: checked and scaled down to what print needs
            try:
                data = printable_png(data)
            except LogoError as exc:
                raise ValueError(f"refused {path}: {exc}") from None
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return _Served(path.as_uri(), data, {"Content-Type": content_type})


class _Served(URLFetcherResponse):
    """A response WeasyPrint uses as served: without ``path``, it does not read a raster
    image's file again from disk to embed it (which would skip the scaled-down copy)."""
    path = None


class _OutOfTime(BaseException):
    """Raised from SIGALRM; a BaseException so that WeasyPrint's ``except Exception``
    cannot swallow it."""


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[list[bool]]:
    """Raise :class:`_OutOfTime` in this block after ``seconds`` (then every 0.1 s, in case
    WeasyPrint swallowed it). Signals work on the main thread only; elsewhere there is no limit.
    Yields a flag list: ``[True]`` once the time is up."""
    expired: list[bool] = []
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield expired
        return

    def alarm(signum, frame):
        expired.append(True)
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        yield expired
    finally:
        while True:  # an alarm may still arrive here; the flag remembers it
            try:
                signal.setitimer(signal.ITIMER_REAL, 0)
                break
            except _OutOfTime:
                pass
        signal.signal(signal.SIGALRM, previous)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _refuse_attachments_and_links(document) -> None:
    """No file is ever embedded, and links go only to https:, mailto: and tel:."""
    if document.metadata.attachments:
        raise RenderError("the handout asks to embed a file as a PDF attachment "
                          '(<link rel="attachment">); handouts embed no files')
    for page in document.pages:
        for link_type, target, *_ in page.links:
            if link_type == "attachment":
                raise RenderError(f"the handout asks to embed {target} as a PDF attachment "
                                  '(<a rel="attachment">); handouts embed no files')
            if link_type == "external" and not allowed_link(target):
                raise RenderError(f"link to {target} refused: links may only use https:, "
                                  "mailto: or tel:")


def render_pdf(doc: HandoutDocument, time_limit: float | None = DEFAULT_TIME_LIMIT,
               compact_fonts: bool = True) -> RenderedPDF:
    """Lay out and write the PDF in memory; WeasyPrint's warnings are returned, not printed.

    Anything that goes wrong, including a refused fetch and running out of time, is a
    :class:`RenderError` for this handout only.
    """
    logger = logging.getLogger("weasyprint")
    collect = _Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    fetcher = AssetFetcher(doc.asset_roots)
    try:
        with _time_limit(time_limit) as expired:
            html = HTML(string=doc.html, base_url=doc.base_url.resolve().as_uri() + "/",
                        url_fetcher=fetcher)
            # pdf_forms: the fill-in lines (<input>) are form fields staff can type into
            document = html.render(pdf_variant=PDF_VARIANT, pdf_forms=True)
            _refuse_attachments_and_links(document)
            data = document.write_pdf(pdf_variant=PDF_VARIANT,
                                      finisher=compact_cid_fonts if compact_fonts else None)
            overflowing = tuple(overflows(document))
        if expired:  # the alarm went off inside code that swallowed it
            raise _OutOfTime
    except _OutOfTime:
        raise RenderError(f"rendering took longer than the time limit of {time_limit:g} s; "
                          "shorten the text or raise the limit with --time-limit") from None
    except FatalURLFetchingError as exc:
        raise RenderError(str(exc.__cause__ or exc)) from None
    except RenderError:
        raise
    except Exception as exc:  # WeasyPrint raises many kinds; report them per handout
        raise RenderError(f"WeasyPrint failed: {exc}") from exc
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
    if fetcher.refused:
        raise RenderError(fetcher.refused[0])
    missing = sorted({m.group(1) for m in map(NOTDEF_RE.search, collect.messages) if m})
    if missing:
        raise RenderError(f"no font covers {', '.join(missing)} in this '{doc.language}' handout "
                          "(printed as empty boxes); install a font for the script, e.g. Debian's "
                          "fonts-noto-core or fonts-noto-cjk, or fix the character in the catalog")
    return RenderedPDF(data=data, pages=len(document.pages), warnings=tuple(collect.messages),
                       overflows=overflowing)


def overflows(document) -> list[str]:
    """Lines whose text runs past their box (a word too long for its column, a number that
    may not wrap), and boxes that run off the page's printable area."""
    found: list[str] = []
    for number, page in enumerate(document.pages, 1):
        page_box = page._page_box
        left, top = page_box.content_box_x(), page_box.content_box_y()
        right, bottom = left + page_box.width, top + page_box.height
        content = [child for child in page_box.children if not isinstance(child, boxes.MarginBox)]
        for box in (box for root in content for box in root.descendants()):
            if isinstance(box, boxes.LineBox):
                start, end = box.position_x, box.position_x + box.width
                for child in box.children:
                    if not _text(child).strip():
                        continue  # a space or an empty run: nothing visible to cut off
                    # less than half a letter over is rounding or a trailing space in RTL text
                    slack = max(EPSILON, child.style["font_size"] / 2)
                    if child.position_x < start - slack or \
                            child.position_x + child.margin_width() > end + slack:
                        found.append(f"page {number}: text runs out of its box: {_text(child)!r}")
            elif isinstance(box, (boxes.BlockBox, boxes.ReplacedBox)):
                x, y = box.border_box_x(), box.border_box_y()
                if x < left - EPSILON or x + box.border_width() > right + EPSILON or \
                        y + box.border_height() > bottom + EPSILON:
                    found.append(f"page {number}: a box runs off the page: {_text(box)[:60]!r}")
    return list(dict.fromkeys(found))


def _text(box) -> str:
    if isinstance(box, boxes.TextBox):
        return box.text
    return " ".join(_text(child) for child in getattr(box, "children", ()))[:80]


def warm_up() -> None:
    """Once per process: load WeasyPrint's modules and every script's fonts with a tiny
    document, so that the first handout is not slower than the rest."""
    families = dict.fromkeys([*DEFAULT_FONTS, *(f for fs in FONTS_BY_LANGUAGE.values() for f in fs)])
    family = ", ".join(f'"{name}"' for name in families)
    HTML(string=f'<p style="font-family: {family}; hyphens: auto" lang="en">Aa Ếẹ 中文 한국어 '
                '\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940'
                '</p>').write_pdf()


def compact_cid_fonts(document, pdf: pydyf.PDF) -> None:
    """WeasyPrint finisher: shrink embedded CJK fonts (Noto Sans CJK) from ~350 KB to ~50 KB.

    WeasyPrint subsets fonts keeping every glyph's number, because its text refers to glyphs
    by number. For a TrueType font the dropped glyphs cost nothing once compressed; but Noto
    Sans CJK is a CID-keyed CFF font with 65,000 glyphs, and its glyph table keeps an offset
    for each of them that does not compress, about 150 KB per font. Embedded as a bare
    CID-keyed CFF font (FontFile3 /CIDFontType0C, as Acrobat embeds CJK fonts), the numbers
    in the text are CIDs that the font's charset maps to its glyphs (PDF 1.7, 9.7.4.2), so
    only the glyphs the handout uses need to be kept, each under its old number as its CID.
    """
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

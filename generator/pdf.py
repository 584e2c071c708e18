"""Stage 5: HTML -> PDF with WeasyPrint. The only module that imports weasyprint.

Rendering only; the rules it applies live in their own modules, which never import WeasyPrint:
what a handout may read (:mod:`.assets`), how long it may take (:mod:`.timelimit`), whether
its text fits (:mod:`.layout`, judged on the geometry :func:`page_areas` reads here) and how
its CJK fonts are compacted (:mod:`.fontcompact`). The renderer embeds no attachment and
links only to ``https:``, ``mailto:`` and ``tel:``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from weasyprint import HTML
from weasyprint import __version__ as _weasyprint_version
from weasyprint.formatting_structure import boxes
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from . import layout, overlap, timelimit
from .assets import read_asset
from .config import DEFAULT_TIME_LIMIT, MAX_IMAGE_BYTES
from .errors import RenderError
from .fontcompact import compact_cid_fonts
from .fonts import all_families
from .html import HandoutDocument, notes_other_column
from .segments import allowed_link


@dataclass(frozen=True)
class RenderedPDF:
    data: bytes
    pages: int
    warnings: tuple[str, ...]
    #: text that runs out of its box or off the page, or over other text, one line each
    overflows: tuple[str, ...] = ()
    #: share of a column left empty before the "Get help now" box (overlap.help_gap)
    help_gap: float = 0.0


#: Tagged PDF for assistive technology: structure tree, /Lang, title, bookmarks from headings.
PDF_VARIANT = "pdf/ua-1"


#: WeasyPrint's warning when no font has a glyph for a character.
NOTDEF_RE = re.compile(r"\.notdef glyph rendered.*\((U\+[0-9A-F]{4,6})\)")


class AssetFetcher(URLFetcher):
    """Serves WeasyPrint what the asset policy (:func:`assets.read_asset`) allows: regular
    files inside the given roots (folders, or single files), at most ``max_bytes`` each.

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
            asset = read_asset(url, self.roots, self.max_bytes)
        except ValueError as exc:
            self.refused.append(str(exc))
            raise
        return _Served(asset.url, asset.data, {"Content-Type": asset.content_type})


class _Served(URLFetcherResponse):
    """A response WeasyPrint uses as served: without ``path``, it does not read a raster
    image's file again from disk to embed it (which would skip the scaled-down copy)."""

    path = None


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _refuse_attachments_and_links(document) -> None:
    """No file is ever embedded, and links go only to https:, mailto: and tel:."""
    if document.metadata.attachments:
        raise RenderError(
            'the handout asks to embed a file as a PDF attachment (<link rel="attachment">); handouts embed no files'
        )
    for page in document.pages:
        for link_type, target, *_ in page.links:
            if link_type == "attachment":
                raise RenderError(
                    f"the handout asks to embed {target} as a PDF attachment "
                    '(<a rel="attachment">); handouts embed no files'
                )
            if link_type == "external" and not allowed_link(target):
                raise RenderError(f"link to {target} refused: links may only use https:, mailto: or tel:")


def render_pdf(
    doc: HandoutDocument,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    compact_fonts: bool = True,
    limit_given: float | None = None,
) -> RenderedPDF:
    """Lay out and write the PDF in memory; WeasyPrint's warnings are returned, not printed.

    Anything that goes wrong, including a refused fetch and running out of time, is a
    :class:`RenderError` for this handout only. ``limit_given``: the limit the message names,
    where ``time_limit`` is what is left of it (the build's, after composing).
    """
    logger = logging.getLogger("weasyprint")
    collect = _Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    fetcher = AssetFetcher(doc.asset_roots)
    try:
        with timelimit.time_limit(time_limit) as expired:
            document, gap = _placed(doc, fetcher)
            _refuse_attachments_and_links(document)
            data = document.write_pdf(pdf_variant=PDF_VARIANT, finisher=compact_cid_fonts if compact_fonts else None)
            overflowing = (*layout.overflows(page_areas(document)), *_help_problems(doc, page_boxes(document), gap))
        if expired:  # the alarm went off inside code that swallowed it
            raise timelimit.OutOfTime
    except timelimit.OutOfTime:
        raise RenderError(
            f"rendering took longer than the time limit of {limit_given or time_limit:g} s; "
            "shorten the text or raise the limit with --time-limit"
        ) from None
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
        raise RenderError(
            f"no font covers {', '.join(missing)} in this '{doc.language}' handout "
            "(printed as empty boxes); install a font for the script, e.g. Debian's "
            "fonts-noto-core or fonts-noto-cjk, or fix the character in the catalog"
        )
    return RenderedPDF(
        data=data, pages=len(document.pages), warnings=tuple(collect.messages), overflows=overflowing, help_gap=gap
    )


def _placed(doc: HandoutDocument, fetcher: AssetFetcher):
    """Lay the handout out; when a help box, kept whole, leaves more than GAP_LIMIT of a
    column empty before it, lay it out with the help boxes one section later, then one
    earlier (doc.alternatives), and take the layout with the least gap that is no longer."""
    base_url = doc.base_url.resolve().as_uri() + "/"

    def lay_out(html: str):
        # pdf_forms: the fill-in lines (<input>) become form fields staff can type into
        return HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(pdf_variant=PDF_VARIANT, pdf_forms=True)

    boxes = doc.moved or overlap.HELP_CLASSES
    document, chosen = lay_out(doc.html), doc.html
    pages, gap = len(document.pages), overlap.help_gap(page_boxes(document), boxes)
    for html in doc.alternatives:
        if gap <= overlap.GAP_LIMIT:
            break
        other = lay_out(html)
        other_gap = overlap.help_gap(page_boxes(other), boxes)
        if len(other.pages) <= pages and other_gap < gap:
            document, chosen, pages, gap = other, html, len(other.pages), other_gap
    if doc.edition == "standard":
        document = _filled(document, chosen, lay_out)
    return document, gap


def _filled(document, html: str, lay_out):
    """The standard edition's last page with both columns used. The questions area fills the
    column the body ends in; when the body ends in the first column, the other one is empty:
    lay the handout out once more with write-in lines there too (an absolute box, so the flow
    and the pages stay the same), and keep that layout if its last page is fuller."""
    last = page_boxes(document)[-1]
    empty = max(overlap.empty_shares([last], 2)[0])
    if empty <= overlap.EMPTY_LIMIT:
        return document
    other = lay_out(notes_other_column(html, titled=not overlap.notes_printed(last)))
    if len(other.pages) != len(document.pages) or max(overlap.empty_shares(page_boxes(other)[-1:], 2)[0]) >= empty:
        return document
    return other


def _help_problems(doc: HandoutDocument, pages: list, gap: float) -> list[str]:
    """Text over other text, a help box or a list item split, a heading that ends a column, a
    page or column more than half empty, (in the standard edition's two columns) a help box
    that leaves more than GAP_LIMIT of a column empty before it, and (in large print) "Get
    help now" after page 2: layout warnings."""
    found = [
        *overlap.overlaps(pages),
        *overlap.split_boxes(pages),
        *overlap.flow_problems(pages),
        *overlap.half_empty(pages, 2 if doc.edition == "standard" else 1),
        *(overlap.help_late(pages) if doc.edition == "large" else ()),
    ]
    if doc.edition == "standard" and gap > overlap.GAP_LIMIT:
        found.append(
            f"a help box leaves {gap:.2f} of a column empty before it (at most {overlap.GAP_LIMIT} is allowed); "
            "shorten the text before it or move a section"
        )
    return found


def page_boxes(document) -> list[boxes.PageBox]:
    """Each laid-out page's box tree (see :func:`_page_box`)."""
    return [_page_box(page) for page in document.pages]


def page_areas(document) -> list[layout.PageArea]:
    """Each laid-out page's printable area, lines and blocks, for :func:`layout.overflows`."""
    return [_page_area(number, page_box) for number, page_box in enumerate(page_boxes(document), 1)]


def _page_box(page) -> boxes.PageBox:
    """The page's box tree. WeasyPrint has no public API for the laid-out boxes, so this is the
    one place the project reads a private attribute of WeasyPrint (``Page._page_box``, there
    since WeasyPrint 0.x and in 70). ``tests/test_layout.py`` fails if a WeasyPrint upgrade
    drops it; without it, no handout is built, saying why."""
    try:
        return page._page_box
    except AttributeError:
        raise RenderError(
            "this WeasyPrint has no Page._page_box, which the overflow check reads "
            "(generator/pdf.py, _page_box): install the version in requirements.lock"
        ) from None


def _page_area(number: int, page_box: boxes.PageBox) -> layout.PageArea:
    left, top = page_box.content_box_x(), page_box.content_box_y()
    content = [child for child in page_box.children if not isinstance(child, boxes.MarginBox)]
    items: list[layout.Line | layout.Block] = []
    for box in (box for root in content for box in root.descendants()):
        if isinstance(box, boxes.LineBox):
            runs = tuple(
                layout.Run(_text(child), child.position_x, child.margin_width(), child.style["font_size"])
                for child in box.children
            )
            items.append(layout.Line(box.position_x, box.width, runs))
        elif isinstance(box, (boxes.BlockBox, boxes.ReplacedBox)):
            items.append(
                layout.Block(
                    box.border_box_x(), box.border_box_y(), box.border_width(), box.border_height(), partial(_text, box)
                )
            )
    return layout.PageArea(number, left, top, left + page_box.width, top + page_box.height, tuple(items))


def _text(box) -> str:
    if isinstance(box, boxes.TextBox):
        return box.text
    return " ".join(_text(child) for child in getattr(box, "children", ()))[:80]


def weasyprint_version() -> str:
    return _weasyprint_version


def warm_up() -> None:
    """Once per process: load WeasyPrint's modules and every script's fonts with a tiny
    document, so that the first handout is not slower than the rest."""
    family = ", ".join(f'"{name}"' for name in all_families())
    HTML(
        string=f'<p style="font-family: {family}; hyphens: auto" lang="en">Aa Ếẹ 中文 한국어 '
        "\u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0939\u093f\u0928\u094d\u0926\u0940"
        "</p>"
    ).write_pdf()

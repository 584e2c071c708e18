"""Stage 5: HTML -> PDF with WeasyPrint. The only module that imports weasyprint."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.urls import URLFetcher

from .errors import RenderError
from .html import HandoutDocument


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
    """Fetch only regular files inside the given folders: no network, nothing else on disk."""

    def __init__(self, roots: tuple[Path, ...]) -> None:
        super().__init__(allowed_protocols={"file"})
        self.roots = tuple(root.resolve() for root in roots)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise ValueError(f"refused to fetch {url}: only the project's own files are allowed")
        path = Path(unquote(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise ValueError(f"refused to fetch {url}: not a file in the project's asset folders")
        return super().fetch(path.as_uri(), headers)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def render_pdf(doc: HandoutDocument) -> RenderedPDF:
    """Lay out and write the PDF in memory; WeasyPrint's warnings are returned, not printed."""
    logger = logging.getLogger("weasyprint")
    collect = _Collect()
    logger.addHandler(collect)
    propagate, logger.propagate = logger.propagate, False
    try:
        html = HTML(string=doc.html, base_url=doc.base_url.resolve().as_uri() + "/",
                    url_fetcher=AssetFetcher(doc.asset_roots))
        document = html.render(pdf_variant=PDF_VARIANT)
        data = document.write_pdf(pdf_variant=PDF_VARIANT)
    except Exception as exc:  # WeasyPrint raises many kinds; report them per handout
        raise RenderError(f"WeasyPrint failed: {exc}") from exc
    finally:
        logger.removeHandler(collect)
        logger.propagate = propagate
    missing = sorted({m.group(1) for m in map(NOTDEF_RE.search, collect.messages) if m})
    if missing:
        raise RenderError(f"no font covers {', '.join(missing)} in this '{doc.language}' handout "
                          "(printed as empty boxes); install a font for the script, e.g. Debian's "
                          "fonts-noto-core or fonts-noto-cjk, or fix the character in the catalog")
    return RenderedPDF(data=data, pages=len(document.pages), warnings=tuple(collect.messages),
                       overflows=tuple(overflows(document)))


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

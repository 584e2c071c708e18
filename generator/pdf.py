"""Stage 5: HTML -> PDF with WeasyPrint. The only module that imports weasyprint."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .errors import RenderError
from .html import HandoutDocument


@dataclass(frozen=True)
class RenderedPDF:
    data: bytes
    pages: int
    warnings: tuple[str, ...]


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
        document = html.render()
        data = document.write_pdf()
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
    return RenderedPDF(data=data, pages=len(document.pages), warnings=tuple(collect.messages))

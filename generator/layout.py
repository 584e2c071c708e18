"""The layout check: text that runs out of its box, and boxes that run off the page.

It judges plain geometry (:class:`PageArea`, in CSS px), which :func:`pdf.page_areas` reads
from WeasyPrint's laid-out pages; this module never sees WeasyPrint itself. What it finds is
a warning (a failure with ``--strict``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

#: Tolerance for rounding in the layout, in CSS px.
EPSILON = 0.5


@dataclass(frozen=True)
class Run:
    """A piece of a line (a text run or an inline box) as laid out."""

    text: str
    x: float
    width: float  #: margin width
    font_size: float


@dataclass(frozen=True)
class Line:
    x: float
    width: float
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Block:
    """A block or replaced box (an image), by its border box."""

    x: float
    y: float
    width: float
    height: float
    #: its text, joined only for a box that runs off the page (costly for a whole section)
    text: Callable[[], str]


@dataclass(frozen=True)
class PageArea:
    """One page: its printable area and its lines and blocks, in document order."""

    number: int
    left: float
    top: float
    right: float
    bottom: float
    items: tuple[Line | Block, ...]


def overflows(pages: Iterable[PageArea]) -> list[str]:
    """Lines whose text runs past their box (a word too long for its column, a number that
    may not wrap), and boxes that run off the page's printable area; one line each."""
    found: list[str] = []
    for page in pages:
        for item in page.items:
            if isinstance(item, Line):
                found.extend(f"page {page.number}: text runs out of its box: {run.text!r}" for run in _runs_out(item))
            elif _off_page(item, page):
                found.append(f"page {page.number}: a box runs off the page: {item.text()[:60]!r}")
    return list(dict.fromkeys(found))


def _runs_out(line: Line) -> Iterable[Run]:
    start, end = line.x, line.x + line.width
    for run in line.runs:
        if not run.text.strip():
            continue  # a space or an empty run: nothing visible to cut off
        # less than half a letter over is rounding or a trailing space in RTL text
        slack = max(EPSILON, run.font_size / 2)
        if run.x < start - slack or run.x + run.width > end + slack:
            yield run


def _off_page(block: Block, page: PageArea) -> bool:
    return (
        block.x < page.left - EPSILON
        or block.x + block.width > page.right + EPSILON
        or block.y + block.height > page.bottom + EPSILON
    )

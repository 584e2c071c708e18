"""Two more layout checks on a laid-out WeasyPrint document (issue 15 §1, issue 12 §3),
beside ``generator/layout.py``'s overflow check.

This module reads the boxes WeasyPrint made (line boxes, text boxes) by their attributes
only; it does not import WeasyPrint, and it is given each page's box tree by
``generator/pdf.py`` (the one place that reads it). Each check is one small function:

- :func:`overlaps`: two pieces of text printed over each other (a long number running into
  the number beside it, a footer running into the page label);
- :func:`help_gap`: how much of a column is left empty before the "Get help now" box, which
  is kept whole and so jumps to the next column when it does not fit;
- :func:`split_boxes`: a help box printed in pieces (a patient must see all of it at once);
- :func:`flow_problems`: a heading printed as the last line of a column or page, its text in
  the next one, and a list item (a checklist line, a sign to watch for) printed in two pieces;
- :func:`half_empty`: a page or column (the last ones included) more than half empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: The section that holds the numbers to call (html.HELP_SECTION_CLASS).
HELP_CLASSES = ("block-get-help", "block-crisis", "block-call-clinic")
#: The most of a column a help box may leave empty before it (pdf._placed).
GAP_LIMIT = 0.25
#: The most of a page or column that may be left empty below its last line (issue 12 §3).
EMPTY_LIMIT = 0.5
#: Below this much overlap, in CSS px each way, two glyph runs only touch (rounding, kerning).
TOUCH = 1.5


@dataclass(frozen=True)
class Run:
    """One run of text as printed: its text and the box around its glyphs' core (from a little
    above the x-height to a little below the baseline, so that lines set close together, whose
    ascenders and descenders may share space, do not count as overlapping)."""

    text: str
    left: float
    top: float
    right: float
    bottom: float
    line: int  # id of its line box: runs of one line are laid side by side by the line itself

    def overlap(self, other: Run) -> bool:
        width = min(self.right, other.right) - max(self.left, other.left)
        height = min(self.bottom, other.bottom) - max(self.top, other.top)
        return width > TOUCH and height > TOUCH


def _descendants(box) -> Iterator:
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _descendants(child)


def _runs(page_box) -> list[Run]:
    """Every visible text run of a page, its margin boxes (footer, page label) included, each
    once with its innermost line (an inline-block's lines sit inside the line around it)."""
    texts = {}
    for line in (b for b in _descendants(page_box) if type(b).__name__ == "LineBox"):
        for box in _descendants(line):
            text = getattr(box, "text", None)
            if type(box).__name__ == "TextBox" and text and text.strip():
                texts[id(box)] = (box, id(line))  # outer lines come first: the inner one wins
    runs = []
    for box, line in texts.values():
        size = box.style["font_size"]
        baseline = box.position_y + box.baseline
        runs.append(
            Run(
                box.text.strip(),
                box.position_x,
                baseline - 0.55 * size,
                box.position_x + box.width,
                baseline + 0.15 * size,
                line,
            )
        )
    return runs


def overlaps(pages: list, name: str = "") -> list[str]:
    """Text printed over other text: ``page N: 'a' overlaps 'b'``, one line per pair of
    lines that touch (runs of the same line are the line's own business)."""
    found: list[str] = []
    prefix = f"{name}: " if name else ""
    for number, page_box in enumerate(pages, 1):
        runs = sorted(_runs(page_box), key=lambda r: r.top)
        for i, run in enumerate(runs):
            for other in runs[i + 1 :]:
                if other.top >= run.bottom:
                    break  # sorted by top: nothing further down reaches this run
                if other.line != run.line and run.overlap(other):
                    found.append(
                        f"{prefix}page {number}: text overlaps other text: {run.text[:60]!r} and {other.text[:60]!r}"
                    )
    return list(dict.fromkeys(found))


def _sections(pages: list) -> list[tuple[int, Any]]:
    """Every fragment of a ``<section>`` (one per column or page it spans), in flow order,
    with the index of its page."""
    return [
        (number, box)
        for number, page_box in enumerate(pages)
        for box in _descendants(page_box)
        if getattr(box, "element_tag", "") == "section"
    ]


def _is_help(box, classes=HELP_CLASSES) -> bool:
    return bool(set(classes) & set(_classes(box)))


def split_boxes(pages: list) -> list[str]:
    """A help box printed in more than one piece (over two columns or pages): one line each.
    Each box is kept whole with its numbers; WeasyPrint splits it only where it is taller
    than a column or a page."""
    pieces: dict[str, list[int]] = {}
    for number, box in _sections(pages):
        for css in set(HELP_CLASSES) & set(_classes(box)):
            pieces.setdefault(css, []).append(number + 1)
    return [
        f"page {where[0]}: the help box {css!r} is split over {len(where)} columns or pages"
        for css, where in pieces.items()
        if len(where) > 1
    ]


#: The page by which large print's "Get help now" must have ended (issue 12 §3).
HELP_BY_PAGE = 2


def help_late(pages: list, by_page: int = HELP_BY_PAGE) -> list[str]:
    """The "Get help now" box printed, in whole or in part, after page ``by_page``."""
    last = max((number + 1 for number, box in _sections(pages) if _is_help(box, HELP_CLASSES[:1])), default=0)
    if last <= by_page:
        return []
    return [
        f"page {last}: 'Get help now' ends after page {by_page} (large print must print it whole by "
        f"page {by_page}); shorten the key points or the text before it"
    ]


def help_gap(pages: list, classes: tuple[str, ...] = HELP_CLASSES) -> float:
    """The largest share (0 to 1) of a column's height left empty before a help box (the
    "Get help now" box, the "Call the clinic" box; or only those of ``classes``): a box is kept
    whole, so when it does not fit below the content before it, it starts the next column or
    page and leaves the rest of that column blank."""
    fragments = _sections(pages)
    return max((_gap_before(pages, fragments, name) for name in classes), default=0.0)


def _gap_before(pages: list, fragments: list[tuple[int, Any]], name: str) -> float:
    first = next((i for i, (_, box) in enumerate(fragments) if _is_help(box, (name,))), None)
    if not first:
        return 0.0
    page, box = fragments[first]
    before_page, before = fragments[first - 1]
    if before_page == page and abs(before.position_x - box.position_x) < 1:
        return 0.0  # right below the content before it
    page_box = pages[before_page]
    bottom = page_box.content_box_y() + page_box.height
    end = before.position_y + before.margin_height()
    return max(0.0, (bottom - end) / page_box.height)


#: The headings of the handout's sections and sub-sections.
HEADINGS = ("h2", "h3")


@dataclass(frozen=True)
class Line:
    """A line of the handout's body as laid out: its page index and top, the tag and id of
    the element it is a line of, the id of the list item it is in (or None), its text."""

    page: int
    top: float
    tag: str
    element: int
    item: int | None
    text: str

    def before(self, other: Line) -> bool:
        """``other`` comes after this line in a later column or on a later page (the flow
        goes back up, or on to another page)."""
        return other.page > self.page or other.top < self.top - 1


def _main_lines(pages: list) -> list[Line]:
    """Every line of the handout's body (``<main>``) in flow order."""
    lines: list[Line] = []

    def walk(box, page: int, item: int | None) -> None:
        if type(box).__name__ == "LineBox":
            lines.append(Line(page, box.position_y, box.element_tag, id(box.element), item, _text(box)))
            return
        if getattr(box, "element_tag", "") == "li":
            item = id(box.element)
        for child in getattr(box, "children", ()) or ():
            walk(child, page, item)

    for number, page_box in enumerate(pages):
        main = next((b for b in _descendants(page_box) if getattr(b, "element_tag", "") == "main"), None)
        if main is not None:
            walk(main, number, None)
    return lines


def flow_problems(pages: list) -> list[str]:
    """A heading whose text starts in the next column or page, and a list item split over
    two columns or pages (each is kept whole: ``main li { break-inside: avoid }``)."""
    lines = _main_lines(pages)
    return [*_stranded_headings(lines), *_split_items(lines)]


def _stranded_headings(lines: list[Line]) -> list[str]:
    """A number set beside a heading, as in the help boxes, is not its next column: the next
    line is compared with the heading's first line (a heading may wrap)."""
    first: dict[int, Line] = {}
    for line in lines:
        first.setdefault(line.element, line)
    return [
        f"page {line.page + 1}: the heading {line.text[:60]!r} ends a column; its text starts in the next one"
        for line, following in zip(lines, lines[1:], strict=False)
        if line.tag in HEADINGS and following.element != line.element and first[line.element].before(following)
    ]


def _split_items(lines: list[Line]) -> list[str]:
    return [
        f"page {line.page + 1}: a list item is split over two columns or pages after {line.text[-60:]!r}"
        for line, following in zip(lines, lines[1:], strict=False)
        if line.item is not None and following.item == line.item and line.before(following)
    ]


def _text(box) -> str:
    return " ".join(b.text for b in _descendants(box) if type(b).__name__ == "TextBox" and b.text).strip()


def _printed(page_box) -> Iterator[tuple[float, float, float, float]]:
    """What a page prints in its body (its margin boxes left out), as (left, right, top,
    bottom): each line, image, and empty box with a height (a write-in line is a box's border)."""
    for root in page_box.children:
        if type(root).__name__ == "MarginBox":
            continue
        for box in _descendants(root):
            name = type(box).__name__
            if name == "LineBox" or "Replaced" in name or (name == "BlockBox" and not box.children and box.height):
                left, top = box.border_box_x(), box.border_box_y()
                yield left, left + box.border_width(), top, top + box.border_height()


def _largest_gap(spans: list[tuple[float, float]], top: float, bottom: float) -> float:
    """The tallest stretch from ``top`` to ``bottom`` that no span covers."""
    gap, reached = 0.0, top
    for start, end in sorted(spans):
        gap = max(gap, min(start, bottom) - reached)
        reached = max(reached, end)
    return max(gap, bottom - reached)


def empty_shares(pages: list, columns: int = 1) -> list[list[float]]:
    """For each page, the share (0 to 1) of its body's height that is the tallest empty
    stretch (below the last thing printed, or before a box kept whole), in each of its
    ``columns`` (left to right; what spans both counts for both)."""
    shares = []
    for page_box in pages:
        top, height = page_box.content_box_y(), page_box.height
        left, width = page_box.content_box_x(), page_box.width
        spans: list[list[tuple[float, float]]] = [[] for _ in range(columns)]
        for start, end, upper, lower in _printed(page_box):
            for column in range(columns):
                if start < left + (column + 1) * width / columns - 1 and end > left + column * width / columns + 1:
                    spans[column].append((upper, lower))
        shares.append([_largest_gap(column, top, top + height) / height for column in spans])
    return shares


def half_empty(pages: list, columns: int = 1) -> list[str]:
    """A page or column more than EMPTY_LIMIT empty: one line each."""
    names = ("the page",) if columns == 1 else tuple(f"column {n + 1} from the left" for n in range(columns))
    return [
        f"page {number}: {names[column]} is {share:.2f} empty (at most {EMPTY_LIMIT} is allowed); "
        "keep fewer things whole before it or shorten the text"
        for number, page in enumerate(empty_shares(pages, columns), 1)
        for column, share in enumerate(page)
        if share > EMPTY_LIMIT
    ]


def notes_printed(page_box) -> bool:
    """Whether the page prints the questions area's title (``.notes``: it is left out where
    its title and first lines have no room)."""
    return any("notes-head" in _classes(box) for box in _descendants(page_box))


def _classes(box) -> list[str]:
    element = getattr(box, "element", None)
    return (element.get("class") or "").split() if element is not None else []

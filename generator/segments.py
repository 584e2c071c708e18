"""Stage 2: split Markdown into translation units, and put translated units back.

A unit is the inline text of one heading, paragraph, list item or table cell, with its
inline markup (``**bold**``, links) kept inside, as Sphinx's gettext builder and mdpo do.
markdown-it gives each block a source line map, so every unit knows its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.token import Token

#: CommonMark plus tables; raw HTML is never passed through (it is escaped as text).
MD = MarkdownIt("commonmark", {"html": False}).enable("table")

#: The only link targets a handout may have.
LINK_SCHEMES = ("https", "mailto", "tel")

#: Sees every link as written: markdown-it's own check would quietly turn javascript:, file:
#: and data: links into text, and a writer should rather hear about them.
_EVERY_LINK = MarkdownIt("commonmark", {"html": False}).enable("table")
_EVERY_LINK.validateLink = lambda url: True  # type: ignore[method-assign]

PLACEHOLDER_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")

_KIND_BY_OPENER = {"heading_open": "heading", "paragraph_open": "paragraph", "th_open": "cell", "td_open": "cell"}


@dataclass(frozen=True)
class Unit:
    text: str  # the msgid: Markdown source of the inline content
    line: int  # line in the source file
    kind: str  # heading, paragraph, item or cell


def _inline_tokens(tokens: list[Token], first_line: int) -> Iterator[tuple[Token, Unit]]:
    depth_in_item = 0
    for i, token in enumerate(tokens):
        if token.type == "list_item_open":
            depth_in_item += 1
        elif token.type == "list_item_close":
            depth_in_item -= 1
        elif token.type == "inline" and token.content.strip():
            opener = tokens[i - 1].type if i else ""
            kind = _KIND_BY_OPENER.get(opener, "paragraph")
            if kind == "paragraph" and depth_in_item:
                kind = "item"
            line = first_line + (token.map[0] if token.map else 0)
            yield token, Unit(token.content, line, kind)


class Fallback(str):
    """A unit's source text standing in for a missing translation; it is printed marked."""


FALLBACK_OPEN = Token("html_inline", "", 0, content='<mark class="untranslated" lang="en">')
FALLBACK_CLOSE = Token("html_inline", "", 0, content="</mark>")


def units(markdown: str, first_line: int = 1) -> list[Unit]:
    """The translation units of a Markdown text, in document order."""
    return [unit for _, unit in _inline_tokens(MD.parse(markdown), first_line)]


def render(markdown: str, translate: Callable[[Unit], str] | None = None, first_line: int = 1) -> str:
    """Render Markdown to HTML, replacing each unit's text by ``translate(unit)``.

    A :class:`Fallback` result is wrapped in ``<mark class="untranslated">``.
    """
    env: dict = {}  # the block's link reference definitions, for its units
    tokens = MD.parse(markdown, env)
    if translate is not None:
        for token, unit in _inline_tokens(tokens, first_line):
            text = translate(unit)
            token.content = text
            token.children = MD.parseInline(text, env)[0].children
            if isinstance(text, Fallback):
                token.children = [FALLBACK_OPEN, *(token.children or ()), FALLBACK_CLOSE]
    return MD.renderer.render(tokens, MD.options, env)


def chunks(markdown: str, first_line: int = 1) -> list[tuple[str, int]]:
    """The top-level blocks of a Markdown text (a heading, a paragraph, a whole list), each
    with its first line, so that two languages can be set side by side block by block."""
    lines = markdown.splitlines()
    return [
        ("\n".join(lines[t.map[0] : t.map[1]]), first_line + t.map[0])
        for t in MD.parse(markdown)
        if t.level == 0 and t.nesting != -1 and t.map
    ]


def placeholders(text: str) -> list[str]:
    """Names of ``{placeholder}`` fields in a unit, in order."""
    return PLACEHOLDER_RE.findall(text)


def allowed_link(url: str) -> bool:
    """Whether a link may be printed: https:, mailto: and tel: only."""
    try:
        return urlsplit(url.strip()).scheme.lower() in LINK_SCHEMES
    except ValueError:  # e.g. a broken IPv6 host
        return False


def links(markdown: str, first_line: int = 1) -> list[tuple[int, str]]:
    """Every link target in a Markdown text, with the line of its paragraph."""
    return [
        (first_line + (token.map[0] if token.map else 0), str(child.attrs["href"]))
        for token in _EVERY_LINK.parse(markdown)
        for child in token.children or ()
        if child.type == "link_open"
    ]

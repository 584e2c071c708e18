"""Stage 2: split Markdown into translation units, and put translated units back.

A unit is the inline text of one heading, paragraph, list item or table cell, with its
inline markup (``**bold**``, links) kept inside, as Sphinx's gettext builder and mdpo do.
markdown-it gives each block a source line map, so every unit knows its line.
"""

from __future__ import annotations

import functools
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


#: How many distinct texts the parse caches below keep. A build or ``handouts check`` composes
#: every handout from the same few hundred blocks and chunks, and parsed the same Markdown
#: again for each (language, route, edition); the results depend on the text alone.
CACHE_SIZE = 4096


def units(markdown: str, first_line: int = 1) -> list[Unit]:
    """The translation units of a Markdown text, in document order."""
    return list(_units(markdown, first_line))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _units(markdown: str, first_line: int) -> tuple[Unit, ...]:
    return tuple(unit for _, unit in _inline_tokens(MD.parse(markdown), first_line))


def render(markdown: str, translate: Callable[[Unit], str] | None = None, first_line: int = 1) -> str:
    """Render Markdown to HTML, replacing each unit's text by ``translate(unit)``.

    A :class:`Fallback` result is wrapped in ``<mark class="untranslated">``. ``translate``
    is called once per unit, in document order; the HTML is cached by the text and the
    translations (with which of them are fallbacks).
    """
    if translate is None:
        return _render(markdown, None)
    texts = tuple(translate(unit) for unit in _units(markdown, first_line))
    return _render(markdown, tuple((str(text), isinstance(text, Fallback)) for text in texts))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _render(markdown: str, texts: tuple[tuple[str, bool], ...] | None) -> str:
    env: dict = {}  # the block's link reference definitions, for its units
    tokens = MD.parse(markdown, env)
    if texts is not None:
        for (token, _), (text, fallback) in zip(_inline_tokens(tokens, 1), texts, strict=True):
            token.content = text
            token.children = MD.parseInline(text, env)[0].children
            if fallback:
                token.children = [FALLBACK_OPEN, *(token.children or ()), FALLBACK_CLOSE]
    return MD.renderer.render(tokens, MD.options, env)


def chunks(markdown: str, first_line: int = 1) -> list[tuple[str, int]]:
    """The top-level blocks of a Markdown text (a heading, a paragraph, a whole list), each
    with its first line, so that two languages can be set side by side block by block."""
    return list(_chunks(markdown, first_line))


@functools.lru_cache(maxsize=CACHE_SIZE)
def _chunks(markdown: str, first_line: int) -> tuple[tuple[str, int], ...]:
    lines = markdown.splitlines()
    return tuple(
        ("\n".join(lines[t.map[0] : t.map[1]]), first_line + t.map[0])
        for t in MD.parse(markdown)
        if t.level == 0 and t.nesting != -1 and t.map
    )


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

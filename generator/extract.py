"""Babel extractors for the content, named in ``babel.cfg`` so plain ``pybabel extract`` works.

Each has Babel's extractor signature ``(fileobj, keywords, comment_tags, options)`` and
yields ``(lineno, funcname, message, comments)``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

from .content import split_block
from .placeholders import translator_comments
from .segments import placeholders, units

Extracted = tuple[int, None, str, list[str]]


def extract_markdown(fileobj, keywords, comment_tags, options) -> Iterator[Extracted]:
    """One message per unit of a content block, plus the block's title."""
    path = Path(getattr(fileobj, "name", "<content>"))
    parts = split_block(fileobj.read().decode("utf-8"), path)
    title = parts.meta.get("title")
    if isinstance(title, str) and title:
        yield parts.key_lines.get("title", 1), None, title, ["Section heading."]
    for unit in units(parts.body, parts.body_line):
        yield unit.line, None, unit.text, translator_comments(unit.text, placeholders(unit.text))


def extract_routes(fileobj, keywords, comment_tags, options) -> Iterator[Extracted]:
    """Handout titles and subtitles from ``content/routes.toml``."""
    for lineno, line in enumerate(fileobj.read().decode("utf-8").splitlines(), 1):
        match = re.match(r"\s*(title|subtitle)\s*=", line)
        if match:
            key = match.group(1)
            kind = "Handout title" if key == "title" else "Handout subtitle"
            yield lineno, None, tomllib.loads(line.strip())[key], [f"{kind}, printed at the top of page 1."]

"""Stage 1: English source content (Markdown blocks with TOML front matter) and routes.

A block is one file under ``content/``::

    +++
    id = "iv/expect"
    title = "What to expect"      # "" continues the section before it
    version = "1.0.0"
    reviewed = 2026-11-21
    reviewer = "..."
    review_due = 2027-11-21
    +++
    Markdown body...

``content/routes.toml``, the route table, lists per route the handout title and its blocks in
print order. (The build's manifest, ``handouts/manifest.json``, is something else: see manifest.py.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import ContentError
from .segments import LINK_SCHEMES, allowed_link, links, units

ROUTE_IDS = ("iv", "intranasal", "im", "oral")
#: the route table: each route's title, subtitle and blocks in print order (not the build's
#: manifest, handouts/manifest.json, which records what was built)
ROUTE_TABLE = "routes.toml"
FRONT_MATTER_FENCE = "+++"
BLOCK_KEYS = {"id": str, "title": str, "version": str, "reviewed": dt.date, "reviewer": str, "review_due": dt.date}
#: Optional: units whose printing is checked in every PDF (generator/verify.py), each given by
#: its source text; a heading marks itself and everything under it up to the next heading.
SAFETY_KEY = "safety"
#: Optional: the block is true only in these countries (ISO 3166 codes, ["US"]) and is printed
#: only for clinics whose ``region`` is in one of them (config.Clinic.country).
COUNTRIES_KEY = "countries"
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
#: C0 and C1 control characters and DEL; tab and newline are what Markdown needs
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: a block's id: its path under content/ without .md ("iv/expect", "shared/disclaimer")
BLOCK_ID_RE = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")


def check_controls(text: str, path: Path, first_line: int = 1, what: str = "") -> None:
    """A control character (form feed, carriage return, escape, U+0085...) is never printed
    and can end a string in the stylesheet: it is an error at its line."""
    match = CONTROL_RE.search(text)
    if match:
        line = first_line + text.count("\n", 0, match.start())
        raise ContentError(
            f"{what}control character U+{ord(match.group()):04X} is not allowed (only tab and newline are); remove it",
            path,
            line,
        )


@dataclass(frozen=True)
class Block:
    id: str
    path: Path
    title: str
    title_line: int
    version: str
    reviewed: dt.date
    reviewer: str
    review_due: dt.date
    body: str
    body_line: int  # line number in the file of the body's first line
    safety: tuple[str, ...] = ()  # safety-critical units (their source text)
    countries: tuple[str, ...] = ()  # empty: printed everywhere

    def prints_for(self, country: str | None) -> bool:
        """Whether a clinic in ``country`` prints this block (one without a country prints
        only the blocks that are true everywhere)."""
        return not self.countries or country in self.countries


@dataclass(frozen=True)
class Route:
    id: str
    title: str
    subtitle: str
    blocks: tuple[Block, ...]
    path: Path
    line: int

    @property
    def version(self) -> str:
        """The newest version among the route's blocks."""
        return max((b.version for b in self.blocks), key=_version_key)

    @property
    def reviewed(self) -> dt.date:
        """The most recent review date among the route's blocks."""
        return max(b.reviewed for b in self.blocks)

    @property
    def review_due(self) -> dt.date:
        """The earliest review due date among the route's blocks."""
        return min(b.review_due for b in self.blocks)

    @property
    def fingerprint(self) -> str:
        """A short hash of the exact English source, printed so staff can compare copies."""
        digest = hashlib.sha256()
        for block in self.blocks:
            for text in (block.id, block.title, block.version, block.body):
                digest.update(text.encode("utf-8") + b"\0")
        digest.update(f"{self.title}\0{self.subtitle}".encode())
        return digest.hexdigest()[:8]


@dataclass(frozen=True)
class Content:
    routes: dict[str, Route]
    blocks: dict[str, Block]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True)
class BlockText:
    """A block file split into its parts, before the front matter is checked."""

    meta: dict
    key_lines: dict[str, int]
    body: str
    body_line: int


def split_block(text: str, path: Path) -> BlockText:
    """Split ``+++`` TOML front matter from the Markdown body; errors name path and line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ContentError(
            f"a content block must start with '{FRONT_MATTER_FENCE}' front matter "
            "(id, title, version, reviewed, reviewer, review_due)",
            path,
            1,
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        raise ContentError(f"front matter is not closed with '{FRONT_MATTER_FENCE}'", path, 1) from None
    try:
        meta = tomllib.loads("\n".join(lines[1:end]))
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(exc)
        raise ContentError(f"bad front matter: {exc}", path, line + 1 if line else 1) from None
    key_lines: dict[str, int] = {}
    for i in range(1, end):
        match = re.match(r"\s*([A-Za-z_]+)\s*=", lines[i])
        if match:
            key_lines.setdefault(match.group(1), i + 1)
    return BlockText(meta, key_lines, "\n".join(lines[end + 1 :]) + "\n", end + 2)


def _check_front_matter(parts: BlockText, path: Path, root: Path) -> None:
    """Every key present, of its type, without control characters; nothing unknown."""
    meta = parts.meta

    def key_line(key: str) -> int:
        return parts.key_lines.get(key, 1)

    for key, kind in BLOCK_KEYS.items():
        if key not in meta:
            raise ContentError(f"front matter lacks '{key}'", path, 1)
        if not isinstance(meta[key], kind) or (kind is dt.date and isinstance(meta[key], dt.datetime)):
            raise ContentError(f"front matter '{key}' must be a {kind.__name__}", path, key_line(key))
    for key in ("id", "title", "version", "reviewer"):  # TOML's escapes ("\f") included
        check_controls(meta[key], path, key_line(key), f"front matter '{key}': ")
    for key in sorted(meta.keys() - BLOCK_KEYS.keys() - {SAFETY_KEY, COUNTRIES_KEY}):
        raise ContentError(f"unknown front matter key '{key}'", path, key_line(key))
    expected_id = path.relative_to(root).with_suffix("").as_posix()
    if meta["id"] != expected_id:
        raise ContentError(f"id is '{meta['id']}' but the file's path says '{expected_id}'", path, key_line("id"))
    if not VERSION_RE.match(meta["version"]):
        raise ContentError(f"version '{meta['version']}' is not MAJOR.MINOR.PATCH", path, key_line("version"))
    if meta["review_due"] <= meta["reviewed"]:
        raise ContentError("review_due must be after reviewed", path, key_line("review_due"))


def _safety_marks(parts: BlockText, path: Path) -> list[str]:
    """The block's ``safety`` list: units of its own text, as written."""
    safety = parts.meta.get(SAFETY_KEY, [])
    known = {unit.text for unit in units(parts.body)}
    wrong = [m for m in safety if not isinstance(m, str) or m not in known] if isinstance(safety, list) else [safety]
    if wrong:
        raise ContentError(
            f"{SAFETY_KEY}: {wrong[0]!r} is not a unit of this block; list each "
            "heading, paragraph or list item as written in the text",
            path,
            parts.key_lines.get(SAFETY_KEY, 1),
        )
    return safety


def safety_units(block: Block) -> set[str]:
    """The source texts of a block's safety-critical units: each marked unit, and for a
    marked heading every unit under it up to the next heading."""
    marked, covering = set(), False
    for unit in units(block.body):
        if unit.kind == "heading":
            covering = unit.text in block.safety
        if covering or unit.text in block.safety:
            marked.add(unit.text)
    return marked


def _countries(parts: BlockText, path: Path) -> tuple[str, ...]:
    """The block's ``countries`` list: two-letter ISO 3166 codes, in capitals."""
    countries = parts.meta.get(COUNTRIES_KEY, [])
    if (
        not isinstance(countries, list)
        or not countries
        and COUNTRIES_KEY in parts.meta
        or not all(isinstance(c, str) and COUNTRY_RE.match(c) for c in countries)
    ):
        raise ContentError(
            f"{COUNTRIES_KEY} must be a list of two-letter country codes in capitals, "
            'such as ["US"] (leave it out for a block true everywhere)',
            path,
            parts.key_lines.get(COUNTRIES_KEY, 1),
        )
    return tuple(countries)


def load_block(path: Path, root: Path) -> Block:
    """Read one block file; every mistake names the file and line."""
    try:
        text = path.read_text("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    check_controls(text, path)
    if not text.strip():
        raise ContentError(
            "the file is empty; a content block needs '+++' front matter (id, title, "
            "version, reviewed, reviewer, review_due) and text",
            path,
            1,
        )
    parts = split_block(text, path)
    meta = parts.meta
    _check_front_matter(parts, path, root)
    if not parts.body.strip():
        raise ContentError("the block has no text after its front matter", path, parts.body_line - 1)
    for line, target in links(parts.body, parts.body_line):
        if not allowed_link(target):
            raise ContentError(
                f"link to {target!r} refused: links may only use {', '.join(s + ':' for s in LINK_SCHEMES)}", path, line
            )
    safety = _safety_marks(parts, path)
    countries = _countries(parts, path)
    return Block(
        id=meta["id"],
        path=path,
        title=meta["title"],
        title_line=parts.key_lines.get("title", 1),
        version=meta["version"],
        reviewed=meta["reviewed"],
        reviewer=meta["reviewer"],
        review_due=meta["review_due"],
        body=parts.body,
        body_line=parts.body_line,
        safety=tuple(safety),
        countries=countries,
    )


def load_content(root: Path) -> Content:
    """Load the route table (``content/routes.toml``: each route's title and blocks in print
    order) and every block it names."""
    route_table = root / ROUTE_TABLE
    try:
        text = route_table.read_text("utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ContentError(
            "the route table is missing: it lists each route's title, subtitle and blocks "
            "in print order; restore it from git",
            route_table,
        ) from None
    except UnicodeDecodeError as exc:
        raise ContentError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", route_table) from None
    except tomllib.TOMLDecodeError as exc:
        raise ContentError(f"invalid TOML: {exc}", route_table, _toml_error_line(exc)) from None
    lines = text.splitlines()

    def table_line(route_id: str) -> int:
        for i, line in enumerate(lines, 1):
            if line.strip() == f"[{route_id}]":
                return i
        return 1

    blocks: dict[str, Block] = {}
    routes: dict[str, Route] = {}
    for route_id, table in data.items():
        line = table_line(route_id)
        _check_route(route_id, table, route_table, line)
        route_blocks = []
        for block_id in table["blocks"]:
            if block_id not in blocks:
                path = root / f"{block_id}.md"
                if not path.is_file():
                    raise ContentError(
                        f"route '{route_id}' names block '{block_id}', but {path} does not exist", route_table, line
                    )
                blocks[block_id] = load_block(path, root)
            route_blocks.append(blocks[block_id])
        routes[route_id] = Route(
            id=route_id,
            title=table["title"],
            subtitle=table["subtitle"],
            blocks=tuple(route_blocks),
            path=route_table,
            line=line,
        )
    for route_id in ROUTE_IDS:
        if route_id not in routes:
            raise ContentError(f"route '{route_id}' is missing", route_table)
    return Content(routes=routes, blocks=blocks)


def _check_route(route_id: str, table: object, route_table: Path, line: int) -> None:
    """A route's table: a known id; a title and subtitle that are text without control
    characters; blocks, a list of block ids (paths under content/, never outside it)."""
    if route_id not in ROUTE_IDS:
        raise ContentError(f"unknown route '{route_id}' (known: {', '.join(ROUTE_IDS)})", route_table, line)
    if not isinstance(table, dict):
        raise ContentError(
            f"'{route_id}' must be a table ([{route_id}]) with title, subtitle and blocks", route_table, line
        )
    for key in ("title", "subtitle", "blocks"):
        if key not in table:
            raise ContentError(f"route '{route_id}' lacks '{key}'", route_table, line)
    for key in ("title", "subtitle"):
        if not isinstance(table[key], str):
            raise ContentError(
                f"route '{route_id}': {key} must be text in quotes, not {type(table[key]).__name__} {table[key]!r}"[
                    :300
                ],
                route_table,
                line,
            )
        check_controls(table[key], route_table, line, f"route '{route_id}' {key}: ")
    blocks = table["blocks"]
    if (
        not isinstance(blocks, list)
        or not blocks
        or not all(isinstance(b, str) and BLOCK_ID_RE.match(b) for b in blocks)
    ):
        raise ContentError(
            f"route '{route_id}': blocks must be a list of block ids such as "
            '"iv/expect" (paths under content/ without .md)',
            route_table,
            line,
        )


def _toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    match = re.search(r"at line (\d+)", str(exc))
    return int(match.group(1)) if match else None

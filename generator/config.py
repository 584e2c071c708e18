"""Clinic configuration: one TOML file per clinic under ``content/clinics/``.

Everything is validated on load; each mistake names the file, the key and (where the key
is in the file) its line.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError

from .content import ROUTE_IDS
from .errors import ConfigError

PAPER_SIZES = {"letter": "letter", "a4": "A4"}
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = (".svg", ".png")
#: The esketamine label requires at least two hours of observation after each dose.
MIN_STAY_MINUTES = {"intranasal": 120}


@dataclass(frozen=True)
class Protocol:
    """Per-route values that differ between clinics."""
    fasting_minutes: int
    clear_liquids_minutes: int
    stay_minutes: int
    driver_required: bool


@dataclass(frozen=True)
class Clinic:
    id: str
    path: Path
    name: str
    logo: Path
    paper: str             # CSS page size keyword: "letter" or "A4"
    languages: tuple[str, ...]
    routes: tuple[str, ...]
    primary_colour: str
    accent_colour: str
    phone: str
    after_hours_phone: str
    emergency_number: str
    crisis_line: str
    website: str
    protocol: dict[str, Protocol]


class _Reader:
    """Typed access to a parsed TOML table that reports the exact key on error."""

    def __init__(self, path: Path, data: dict, text: str) -> None:
        self.path, self.data, self.lines = path, data, text.splitlines()

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{key}: {message}", self.path, self.line_of(key))

    def line_of(self, dotted: str) -> int | None:
        *tables, key = dotted.split(".")
        table = ".".join(tables)
        current = ""
        for lineno, raw in enumerate(self.lines, 1):
            line = raw.strip()
            header = re.match(r"^\[([^\[\]]+)\]$", line)
            if header:
                current = header.group(1).strip()
            elif current == table and re.match(rf"{re.escape(key)}\s*=", line):
                return lineno
        return None

    def get(self, dotted: str, kind: type, default=...):
        node = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                if default is not ...:
                    return default
                raise self.error(dotted, "missing; add it to the clinic's file")
            node = node[part]
        if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
            raise self.error(dotted, f"must be a {_TYPE_NAMES[kind]}, not {node!r}")
        if kind is str and not node.strip():
            raise self.error(dotted, "must not be empty")
        return node


_TYPE_NAMES = {str: "string", int: "whole number", bool: "true or false", list: "list", dict: "table"}


def load_clinic(path: Path, known_languages: set[str]) -> Clinic:
    """Read and validate one clinic's file."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError("no such clinic file", path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"invalid TOML: {exc}", path, int(match.group(1)) if match else None) from None
    r = _Reader(path, data, text)

    logo = path.parent / r.get("logo", str)
    if logo.suffix.lower() not in LOGO_TYPES:
        raise r.error("logo", f"must be an SVG or PNG file, not '{logo.name}'")
    if not logo.is_file():
        raise r.error("logo", f"file not found: {logo}")

    paper = r.get("paper", str).lower()
    if paper not in PAPER_SIZES:
        raise r.error("paper", f"must be one of {', '.join(PAPER_SIZES)}, not '{paper}'")

    languages = r.get("languages", list)
    for lang in languages:
        if not isinstance(lang, str):
            raise r.error("languages", f"{lang!r} is not a language id")
        try:
            Locale.parse(lang)
        except (ValueError, UnknownLocaleError):
            raise r.error("languages", f"'{lang}' is not a language id Babel knows "
                          "(use ids like es, zh_Hans, pt_BR)") from None
        if lang not in known_languages:
            raise r.error("languages", f"no catalog for '{lang}' (have: "
                          f"{', '.join(sorted(known_languages))}); run 'handouts i18n init {lang}'")
    if not languages:
        raise r.error("languages", "must list at least one language")

    routes = r.get("routes", list)
    for route in routes:
        if route not in ROUTE_IDS:
            raise r.error("routes", f"unknown route {route!r} (known: {', '.join(ROUTE_IDS)})")
    if not routes:
        raise r.error("routes", "must list at least one route")

    colours = {}
    for key in ("colors.primary", "colors.accent"):
        value = r.get(key, str)
        if not HEX_COLOUR_RE.match(value):
            raise r.error(key, f"'{value}' is not a colour like #1a5c7a")
        colours[key] = value.lower()

    protocol = {route: _protocol(r, route) for route in routes}
    return Clinic(
        id=path.stem, path=path, name=r.get("name", str), logo=logo, paper=PAPER_SIZES[paper],
        languages=tuple(languages), routes=tuple(routes),
        primary_colour=colours["colors.primary"], accent_colour=colours["colors.accent"],
        phone=r.get("contact.phone", str), after_hours_phone=r.get("contact.after_hours_phone", str),
        emergency_number=r.get("contact.emergency_number", str),
        crisis_line=r.get("contact.crisis_line", str),
        website=r.get("contact.website", str, ""), protocol=protocol)


def _protocol(r: _Reader, route: str) -> Protocol:
    table = f"protocol.{route}"
    r.get(table, dict)

    def minutes(base: str) -> tuple[int, str]:
        """The duration in minutes, and the key it was given with."""
        hours = r.get(f"{table}.{base}_hours", int, None)
        mins = r.get(f"{table}.{base}_minutes", int, None)
        if (hours is None) == (mins is None):
            raise r.error(f"{table}.{base}_hours", f"give exactly one of {base}_hours or {base}_minutes")
        key, value = (f"{table}.{base}_hours", hours * 60) if hours is not None else \
                     (f"{table}.{base}_minutes", mins)
        if not 0 < value <= 24 * 60:
            raise r.error(key, "must be more than 0 and at most 24 hours")
        return value, key

    stay, stay_key = minutes("stay")
    least = MIN_STAY_MINUTES.get(route, 0)
    if stay < least:
        raise r.error(stay_key, f"must be at least {least} minutes for {route} "
                      "(the esketamine label requires at least 2 hours of observation)")
    return Protocol(fasting_minutes=minutes("fasting")[0],
                    clear_liquids_minutes=minutes("clear_liquids")[0],
                    stay_minutes=stay,
                    driver_required=r.get(f"{table}.driver_required", bool))

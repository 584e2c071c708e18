"""Clinic configuration: one TOML file per clinic under ``content/clinics/``.

Everything is validated on load; each mistake names the file, the key and (where the key
is in the file) its line.
"""
from __future__ import annotations

import re
import string
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale, UnknownLocaleError

from .content import ROUTE_IDS
from .errors import ConfigError

PAPER_SIZES = {"letter": "letter", "a4": "A4"}
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = (".svg", ".png")
FONT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
#: WCAG 2 AA: normal-size text needs at least 4.5:1 against its background.
MIN_CONTRAST = 4.5
WHITE = "#ffffff"
EDITIONS = ("standard", "large", "bilingual")
#: Pages per edition unless the clinic says otherwise; standard is one sheet printed on both sides.
DEFAULT_PAGE_BUDGET = {"standard": 4, "large": 16, "bilingual": 10}
URL_FIELDS = {"language", "route", "file"}
#: The largest logo, or any other image or file a handout uses (WeasyPrint reads it whole).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: Seconds one handout may take to lay out and write (``handouts build --time-limit``).
DEFAULT_TIME_LIMIT = 60.0
#: The esketamine label requires at least two hours of observation after each dose.
MIN_STAY_MINUTES = {"intranasal": 120}


@dataclass(frozen=True)
class Protocol:
    """Per-route values that differ between clinics."""
    fasting_minutes: int
    clear_liquids_minutes: int
    stay_minutes: int
    driver_required: bool
    #: how long the whole visit takes, check-in to going home
    session_minutes: int


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
    #: the poison help line, for doses taken at home (needed when the clinic offers oral)
    poison_control: str
    protocol: dict[str, Protocol]
    #: text colour on the primary colour (the header band)
    on_primary_colour: str = WHITE
    #: a font family installed on the machine, tried before the language's own fonts
    font: str | None = None
    #: the clinic's online copy of each handout, with {language}, {route} and {file}
    handout_url: str | None = None
    large_print: bool = False
    #: languages that also get a bilingual edition, and its second language
    bilingual: tuple[str, ...] = ()
    bilingual_second: str = "en"
    page_budget: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PAGE_BUDGET))

    def online_url(self, language: str, route: str, file: str) -> str | None:
        if self.handout_url is None:
            return None
        return self.handout_url.format(language=language, route=route, file=file)


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
            header = re.match(r"^\[([^\[\]]+)\]\s*(?:#.*)?$", line)  # a comment may follow
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
    if not logo.exists():
        raise r.error("logo", f"file not found: {logo}")
    if not logo.resolve().is_relative_to(path.parent.resolve()):
        raise r.error("logo", f"{logo} is outside the clinic's folder {path.parent} (after "
                      "following links); put the logo file itself beside the clinic's file")
    if not logo.is_file():
        raise r.error("logo", f"{logo} is not a regular file")
    if logo.stat().st_size > MAX_IMAGE_BYTES:
        raise r.error("logo", f"{logo.name} is {logo.stat().st_size // 1024} KiB, more than the "
                      f"{MAX_IMAGE_BYTES // 1024} KiB allowed; use a smaller image")

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
    for key in ("colors.primary", "colors.accent", "colors.on_primary"):
        value = r.get(key, str, WHITE if key == "colors.on_primary" else ...)
        if not HEX_COLOUR_RE.match(value):
            raise r.error(key, f"'{value}' is not a colour like #1a5c7a")
        colours[key] = value.lower()
    # text on its background, and where the pair is printed; the primary colour is the one to change
    primary = colours["colors.primary"]
    for fg, bg, where in ((colours["colors.on_primary"], primary, "the header band's text"),
                          (primary, WHITE, "headings on white paper")):
        ratio = contrast(fg, bg)
        if ratio < MIN_CONTRAST:
            raise r.error("colors.primary", f"contrast {ratio:.2f}:1 for {where} ({fg} on {bg}) is "
                          f"below {MIN_CONTRAST}:1 (WCAG AA); choose a darker colour")

    font = r.get("font", str, None)
    if font is not None:
        if not FONT_NAME_RE.match(font):
            raise r.error("font", f"{font!r} is not a font family name (letters, digits, spaces)")
        if not _font_installed(font):
            raise r.error("font", f"no installed font is called '{font}' (see `fc-list : family`)")

    handout_url = r.get("online.handout_url", str, None)
    if handout_url is not None:
        _check_url_pattern(r, handout_url)

    large_print = r.get("editions.large_print", bool, False)
    second = r.get("editions.bilingual_second", str, "en")
    if second not in known_languages | {"en"}:
        raise r.error("editions.bilingual_second", f"no catalog for '{second}'")
    bilingual = r.get("editions.bilingual", list, [])
    for lang in bilingual:
        if lang not in languages:
            raise r.error("editions.bilingual", f"'{lang}' is not one of this clinic's languages")
    budget = dict(DEFAULT_PAGE_BUDGET)
    for edition in r.get("page_budget", dict, {}):
        if edition not in EDITIONS:
            raise r.error(f"page_budget.{edition}", f"unknown edition (known: {', '.join(EDITIONS)})")
        budget[edition] = r.get(f"page_budget.{edition}", int)
        if not 1 <= budget[edition] <= 50:
            raise r.error(f"page_budget.{edition}", "must be between 1 and 50 pages")

    protocol = {route: _protocol(r, route) for route in routes}
    return Clinic(
        id=path.stem, path=path, name=r.get("name", str), logo=logo, paper=PAPER_SIZES[paper],
        languages=tuple(languages), routes=tuple(routes),
        primary_colour=colours["colors.primary"], accent_colour=colours["colors.accent"],
        phone=r.get("contact.phone", str), after_hours_phone=r.get("contact.after_hours_phone", str),
        emergency_number=r.get("contact.emergency_number", str),
        crisis_line=r.get("contact.crisis_line", str),
        website=r.get("contact.website", str, ""), protocol=protocol,
        poison_control=r.get("contact.poison_control", str, ... if "oral" in routes else ""),
        on_primary_colour=colours["colors.on_primary"], font=font, handout_url=handout_url,
        large_print=large_print, bilingual=tuple(bilingual), bilingual_second=second,
        page_budget=budget)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _font_installed(family: str) -> bool:
    found = subprocess.run(["fc-list", f"{family}:", "family"], capture_output=True, text=True)
    return any(family in line.split(",") for line in found.stdout.splitlines())


def _check_url_pattern(r: _Reader, pattern: str) -> None:
    key = "online.handout_url"
    if not pattern.startswith("https://"):
        raise r.error(key, "must start with https://")
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None}
    except ValueError as exc:
        raise r.error(key, f"not a valid pattern: {exc}") from None
    if names - URL_FIELDS:
        raise r.error(key, f"unknown field {{{sorted(names - URL_FIELDS)[0]}}} "
                      f"(known: {', '.join('{' + f + '}' for f in sorted(URL_FIELDS))})")


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
                    driver_required=r.get(f"{table}.driver_required", bool),
                    session_minutes=minutes("session")[0])

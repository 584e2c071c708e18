"""Clinic configuration: one TOML file per clinic under ``content/clinics/``.

Everything is validated on load, one small reader per table. Every problem of a file is
collected and reported at once (``path:line: error: key: message``, saying how to fix it);
things that look copied from the example clinic are warnings on the :class:`Clinic`.
"""

from __future__ import annotations

import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from difflib import get_close_matches
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import segno
from babel import Locale, UnknownLocaleError
from babel.core import get_global

from .content import ROUTE_IDS
from .errors import ConfigError, format_diagnostic
from .fonts import font_installed
from .logo import LogoError, check_logo

PAPER_SIZES = {"letter": "letter", "a4": "A4"}
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_TYPES = (".svg", ".png")
FONT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
#: ``contact.website``, printed beside the clinic's name: https, a host name, a plain path
WEBSITE_RE = re.compile(r"https://[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+(/[A-Za-z0-9._~/-]*)?")
MAX_WEBSITE = 60
#: WCAG 2 AA: normal-size text needs at least 4.5:1 against its background.
MIN_CONTRAST = 4.5
WHITE = "#ffffff"
EDITIONS = ("standard", "large", "bilingual")
#: Pages per edition unless the clinic says otherwise; standard is one sheet printed on both sides.
DEFAULT_PAGE_BUDGET = {"standard": 4, "large": 16, "bilingual": 10}
URL_FIELDS = {"language", "route", "file"}
#: The QR code prints 22 mm wide: beyond version 10 (57 modules, about 210 characters at
#: error level M, the level html.qr_svg uses) its modules get too small to scan reliably.
QR_ERROR_LEVEL = "m"
MAX_QR_VERSION = 10
#: The largest logo, or any other image or file a handout uses (WeasyPrint reads it whole).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: Seconds one handout may take to lay out and write (``handouts build --time-limit``).
DEFAULT_TIME_LIMIT = 60.0
#: The esketamine label requires at least two hours of observation after each dose.
MIN_STAY_MINUTES = {"intranasal": 120}
#: A clinic id (its file's name) is a folder of the output: it must not be one of the
#: build's own files there, nor hidden.
CLINIC_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
RESERVED_IDS = {"manifest.json", "index.html", ".lock", "."}
#: C0 and C1 controls, and the bidi embeddings, overrides and isolates that can hide or
#: reorder printed text.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PLACEHOLDER_LIKE_RE = re.compile(r"\{[^{}]*\}|[{}]")
#: The example clinic, and the fictional 555 numbers it uses.
EXAMPLE_ID = "example"
FICTIONAL_RE = re.compile(r"(?<!\d)555(?!\d)")
#: The routes whose handout prints the poison help line (``contact.poison_control``).
POISON_CONTROL_ROUTES = frozenset({"oral"})

#: The keys of each table, and those that must be given ("a|b": one of the two).
TOP_KEYS = ("name", "logo", "paper", "font", "region", "languages", "routes")
TABLES = ("colors", "contact", "online", "editions", "page_budget", "protocol")
TABLE_KEYS = {
    "colors": ("primary", "accent", "on_primary"),
    "contact": (
        "phone",
        "after_hours_phone",
        "emergency_number",
        "emergency_alternative",
        "urgent_advice",
        "crisis_line",
        "crisis_line_text",
        "crisis_line_languages",
        "poison_control",
        "website",
    ),
    "online": ("handout_url",),
    "editions": ("large_print", "bilingual", "bilingual_second"),
    "page_budget": EDITIONS,
}
PROTOCOL_KEYS = (
    "session_hours",
    "session_minutes",
    "fasting_hours",
    "fasting_minutes",
    "clear_liquids_hours",
    "clear_liquids_minutes",
    "stay_hours",
    "stay_minutes",
    "driver_required",
)
NEEDED = {
    "": ("name", "logo", "paper", "languages", "routes"),
    "colors": ("primary", "accent"),
    "contact": ("phone", "after_hours_phone", "emergency_number", "crisis_line"),
    "protocol": (
        "session_hours|session_minutes",
        "fasting_hours|fasting_minutes",
        "clear_liquids_hours|clear_liquids_minutes",
        "stay_hours|stay_minutes",
        "driver_required",
    ),
}
CONTACT_NUMBERS = ("phone", "after_hours_phone", "emergency_number", "crisis_line")
#: Optional numbers printed in the Get-help box when given.
OPTIONAL_NUMBERS = ("emergency_alternative", "urgent_advice", "crisis_line_text")
_REQUIRED = object()


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
class Branding:
    """How the handouts look: ``[colors]``, and the top-level name, logo, paper and font."""

    name: str
    logo: Path
    paper: str  # CSS page size keyword: "letter" or "A4"
    primary: str
    accent: str
    #: text colour on the primary colour (the header band)
    on_primary: str = WHITE
    #: a font family installed on the machine, tried before the language's own fonts
    font: str | None = None


@dataclass(frozen=True)
class Contact:
    """``[contact]``: the numbers printed in every handout."""

    phone: str
    after_hours_phone: str
    emergency_number: str
    crisis_line: str
    #: printed beside the clinic's name, without https:// (empty: none)
    website: str = ""
    #: the poison help line, for doses taken at home (see POISON_CONTROL_ROUTES)
    poison_control: str = ""
    #: another number that reaches the same emergency services (112 in the UK and EU)
    emergency_alternative: str = ""
    #: urgent medical advice that is not an emergency (NHS 111 in England)
    urgent_advice: str = ""
    #: the number to text the crisis line at ("" when it takes calls only); may be crisis_line
    crisis_line_text: str = ""
    #: the languages the crisis line answers in (Babel ids: "en", "es")
    crisis_line_languages: tuple[str, ...] = ("en",)


@dataclass(frozen=True)
class Editions:
    """``[editions]``: large print, and which languages get a bilingual edition beside which."""

    large_print: bool = False
    bilingual: tuple[str, ...] = ()
    bilingual_second: str = "en"


@dataclass(frozen=True)
class PageBudget:
    """``[page_budget]``: most pages per edition (``budget["large"]``)."""

    standard: int = DEFAULT_PAGE_BUDGET["standard"]
    large: int = DEFAULT_PAGE_BUDGET["large"]
    bilingual: int = DEFAULT_PAGE_BUDGET["bilingual"]

    def __getitem__(self, edition: str) -> int:
        if edition not in EDITIONS:
            raise KeyError(edition)
        return int(getattr(self, edition))


@dataclass(frozen=True)
class Clinic:
    id: str
    path: Path
    branding: Branding
    contact: Contact
    languages: tuple[str, ...]
    routes: tuple[str, ...]
    protocol: dict[str, Protocol]
    editions: Editions = Editions()
    page_budget: PageBudget = PageBudget()
    #: the clinic's online copy of each handout, with {language}, {route} and {file}
    handout_url: str | None = None
    #: the clinic's locale (``en_GB``): its country's date and number formats for handouts in
    #: its language; None: each language's own CLDR formats
    region: str | None = None
    #: ``path:line: warning: ...`` lines (values that look copied from the example clinic)
    warnings: tuple[str, ...] = ()

    #: the region's ISO 3166 country ("US", "GB"): a content block with ``countries`` is
    #: printed only for clinics there; None (no region) prints none of them
    country = property(lambda self: Locale.parse(self.region).territory if self.region else None)
    name = property(lambda self: self.branding.name)
    logo = property(lambda self: self.branding.logo)
    paper = property(lambda self: self.branding.paper)
    primary_colour = property(lambda self: self.branding.primary)
    accent_colour = property(lambda self: self.branding.accent)
    on_primary_colour = property(lambda self: self.branding.on_primary)
    font = property(lambda self: self.branding.font)
    phone = property(lambda self: self.contact.phone)
    after_hours_phone = property(lambda self: self.contact.after_hours_phone)
    emergency_number = property(lambda self: self.contact.emergency_number)
    crisis_line = property(lambda self: self.contact.crisis_line)
    website = property(lambda self: self.contact.website)
    #: the website as printed: riverside-clinic.example
    website_text = property(lambda self: self.contact.website.removeprefix("https://").rstrip("/"))
    poison_control = property(lambda self: self.contact.poison_control)
    large_print = property(lambda self: self.editions.large_print)
    bilingual = property(lambda self: self.editions.bilingual)
    bilingual_second = property(lambda self: self.editions.bilingual_second)

    def online_url(self, language: str, route: str, file: str) -> str | None:
        if self.handout_url is None:
            return None
        return self.handout_url.format(language=language, route=route, file=file)


class ClinicFileError(ConfigError):
    """Every problem of one clinic's file, one ``path:line: error: message`` line each."""

    def __init__(self, path: Path | None, problems: list[ConfigError]) -> None:
        ordered = sorted(problems, key=lambda p: (str(p.path), p.line is None, p.line or 0))
        super().__init__(ordered[0].message, path, ordered[0].line)
        self.problems = tuple(ordered)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


class _File:
    """A parsed clinic file: typed access to its values, with each problem recorded at
    its key's line (or its table's header) instead of raised."""

    def __init__(self, path: Path, text: str, data: dict) -> None:
        self.path, self.data, self.lines = path, data, text.splitlines()
        self.problems: list[ConfigError] = []
        self.warnings: list[str] = []
        self._missing_tables: set[str] = set()

    def error(self, key: str, message: str, line: int | None = None) -> None:
        if line is None and key:
            line = self.line_of(key)
        self.problems.append(ConfigError(f"{key}: {message}" if key else message, self.path, line))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(format_diagnostic("warning", f"{key}: {message}", self.path, self.line_of(key)))

    def line_of(self, dotted: str) -> int | None:
        """The line of a key (``contact.phone``), else of a table's header (``contact``)."""
        *tables, key = dotted.split(".")
        table, current = ".".join(tables), ""
        headers: dict[str, int] = {}
        for lineno, raw in enumerate(self.lines, 1):
            line = raw.strip()
            header = re.match(r"^\[([^\[\]]+)\]\s*(?:#.*)?$", line)  # a comment may follow
            if header:
                current = re.sub(r"\s*\.\s*", ".", header.group(1).strip()).replace('"', "")
                headers.setdefault(current, lineno)
            elif current == table and re.match(rf"{re.escape(key)}\s*=", line):
                return lineno
        return headers.get(dotted) or next((n for name, n in headers.items() if name.startswith(dotted + ".")), None)

    def node(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split(".") if dotted else ():
            if not isinstance(node, dict) or part not in node:
                return _REQUIRED
            node = node[part]
        return node

    def has(self, dotted: str) -> bool:
        return self.node(dotted) is not _REQUIRED

    def get(self, dotted: str, kind: type, default: Any = _REQUIRED) -> Any:
        """The value, or ``default`` when absent; None (and a problem) when it is wrong."""
        value: Any = self.node(dotted)
        if value is _REQUIRED:
            if default is _REQUIRED:
                self.missing(dotted)
                return None
            return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error(dotted, self._type_message(dotted, kind, value))
            return None
        if isinstance(value, str) and not value.strip():
            self.error(dotted, "must not be empty")
            return None
        return value

    def missing(self, dotted: str) -> None:
        table = dotted.rpartition(".")[0]
        needs = _listing(NEEDED[table.partition(".")[0]])
        if not table:
            self.error(dotted, f"missing; a clinic's file needs {needs} at its top")
        elif isinstance(self.node(table), dict):
            self.error(dotted, f"missing; [{table}] needs {needs}", self.line_of(table))
        elif table not in self._missing_tables:
            self._missing_tables.add(table)
            self.error(table, f"missing; add a [{table}] table with {needs}")

    def _type_message(self, dotted: str, kind: type, value: Any) -> str:
        key = dotted.rpartition(".")[2]
        if kind is str and isinstance(value, int | float):
            return f'must be text, not the number {value!r}: put it in quotes, {key} = "{self._raw(dotted)}"'
        if kind is int and isinstance(value, float):
            if key.endswith("_hours") and (value * 60).is_integer():
                return (
                    f"must be whole hours, not {value!r}; write it in minutes instead: "
                    f"{key.removesuffix('_hours')}_minutes = {int(value * 60)}"
                )
            return f"must be a whole number, not {value!r}"
        return f"must be a {_TYPE_NAMES.get(kind, kind.__name__)}, not {value!r}"

    def _raw(self, dotted: str) -> str:
        """The value as written in the file (a number keeps its + and leading zeros)."""
        line = self.line_of(dotted)
        text = self.lines[line - 1].partition("=")[2] if line else ""
        return text.partition("#")[0].strip() or str(self.node(dotted))


def _listing(keys: tuple[str, ...]) -> str:
    """'a, b|c and d' -> 'a, b or c and d'"""
    names = [key.replace("|", " or ") for key in keys]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


_TYPE_NAMES = {str: "string", int: "whole number", bool: "true or false", list: "list", dict: "table"}


def load_clinic(path: Path, known_languages: set[str]) -> Clinic:
    """Read and validate one clinic's file; raise one :class:`ClinicFileError` naming every
    problem it has."""
    f = _open(path)
    _check_id(f)
    _check_known_keys(f)
    _check_characters(f, f.data, "")
    branding = _read_branding(f)
    languages, routes = _read_languages(f, known_languages), _read_routes(f)
    region = _read_region(f)
    contact = _read_contact(f, routes or (), region)
    editions = _read_editions(f, languages, known_languages)
    handout_url = _read_online(f, languages, routes, editions)
    page_budget = _read_page_budget(f)
    protocol = {route: _read_protocol(f, route) for route in routes or ()}
    if f.problems:
        raise ClinicFileError(path, f.problems)
    # without problems, every reader returned its value
    clinic = Clinic(
        id=path.stem,
        path=path,
        branding=_sure(branding),
        contact=_sure(contact),
        languages=_sure(languages),
        routes=_sure(routes),
        protocol={route: _sure(p) for route, p in protocol.items()},
        editions=_sure(editions),
        page_budget=_sure(page_budget),
        handout_url=handout_url,
        region=region,
    )
    _warn_if_copied(f, clinic)
    return replace(clinic, warnings=tuple(f.warnings))


T = TypeVar("T")


def _sure(value: T | None) -> T:
    if value is None:
        raise AssertionError("a reader returned no value but reported no problem")
    return value


def _open(path: Path) -> _File:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError("no such clinic file", path) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    try:
        return _File(path, text, tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        hint = _quote_hint(text.splitlines()[line - 1]) if line and line <= len(text.splitlines()) else ""
        raise ConfigError(f"invalid TOML: {exc}{hint}", path, line) from None


def _quote_hint(line: str) -> str:
    """For ``phone = +49 30 1234``: a number with spaces, dashes or a plus must be quoted."""
    match = re.match(r"^\s*([A-Za-z_][\w-]*)\s*=\s*([+(]?\d[\d ()./+-]*?)\s*(?:#.*)?$", line)
    if not match:
        return ""
    return f'; put the number in quotes: {match.group(1)} = "{match.group(2)}"'


def _check_id(f: _File) -> None:
    clinic_id = f.path.stem
    if clinic_id in RESERVED_IDS or clinic_id.startswith("."):
        f.error(
            "",
            f"the clinic id '{clinic_id}' (the file's name) is taken by the build's own "
            "files in the output folder; rename the file, e.g. to my-clinic.toml",
        )
    elif not CLINIC_ID_RE.match(clinic_id):
        f.error(
            "",
            f"the clinic id '{clinic_id}' (the file's name) must be up to 64 letters, "
            "digits, - and _, starting with a letter or digit; rename the file",
        )


def _unknown(f: _File, node: dict, prefix: str, allowed: tuple[str, ...]) -> None:
    for key, value in node.items():
        if key in allowed:
            continue
        dotted = f"{prefix}.{key}" if prefix else key
        shown = ascii(key)[1:-1] if CONTROL_RE.search(key) else key
        what = (
            f"unknown table [{prefix + '.' if prefix else ''}{shown}]"
            if isinstance(value, dict)
            else f"unknown key '{shown}'" + (f" in [{prefix}]" if prefix else "")
        )
        close = get_close_matches(key, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(allowed)})"
        f.error("", what + hint, f.line_of(dotted))


def _check_known_keys(f: _File) -> None:
    _unknown(f, f.data, "", TOP_KEYS + TABLES)
    for table in TABLES:
        node = f.node(table)
        if node is _REQUIRED:
            continue
        if not isinstance(node, dict):
            f.error(table, f"must be a table ([{table}]), not {node!r}")
            continue
        _unknown(f, node, table, TABLE_KEYS.get(table, ROUTE_IDS))
    protocol = f.node("protocol")
    for route, node in protocol.items() if isinstance(protocol, dict) else ():
        if route in ROUTE_IDS and not isinstance(node, dict):
            f.error(f"protocol.{route}", f"must be a table ([protocol.{route}]), not {node!r}")
        elif route in ROUTE_IDS:
            _unknown(f, node, f"protocol.{route}", PROTOCOL_KEYS)


def _check_characters(f: _File, node: Any, dotted: str) -> None:
    """No control or bidi characters in any value: they can hide or reorder printed text."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_characters(f, value, f"{dotted}.{key}" if dotted else key)
    elif isinstance(node, list):
        for value in node:
            _check_characters(f, value, dotted)
    elif isinstance(node, str) and (found := CONTROL_RE.search(node)):
        char = found.group(0)
        f.error(
            dotted,
            f"contains the invisible control character U+{ord(char):04X} "
            f"({unicodedata.name(char, 'a control character')}), which can hide or reorder "
            "printed text; type the value again without it",
        )


def _text(f: _File, dotted: str, default: Any = _REQUIRED) -> str | None:
    """A printed value: no braces, which would read as a placeholder."""
    value = f.get(dotted, str, default)
    if value and (found := PLACEHOLDER_LIKE_RE.search(value)):
        f.error(
            dotted,
            f"'{found.group(0)}' looks like a placeholder, but a clinic's values are "
            "printed as written; remove the braces",
        )
        return None
    return value


def _read_branding(f: _File) -> Branding | None:
    name, logo, paper = _text(f, "name"), _read_logo(f), f.get("paper", str)
    if paper is not None and paper.lower() not in PAPER_SIZES:
        f.error("paper", f"must be one of {', '.join(PAPER_SIZES)}, not '{paper}'")
        paper = None
    colours = _read_colours(f)
    font = _read_font(f)
    if name is None or logo is None or paper is None or colours is None:
        return None
    return Branding(
        name=name,
        logo=logo,
        paper=PAPER_SIZES[paper.lower()],
        primary=colours[0],
        accent=colours[1],
        on_primary=colours[2],
        font=font,
    )


def _read_logo(f: _File) -> Path | None:
    name = f.get("logo", str)
    if name is None:
        return None
    logo = f.path.parent / name
    try:
        problem = _logo_problem(f.path, logo)
    except (OSError, ValueError) as exc:  # a NUL byte, a name too long
        problem = f"cannot read {name!r}: {exc}"
    if problem:
        f.error("logo", problem)
        return None
    return logo


def _logo_problem(path: Path, logo: Path) -> str | None:
    if logo.suffix.lower() not in LOGO_TYPES:
        return f"must be an SVG or PNG file, not '{logo.name}'"
    if not logo.exists():
        return f"file not found: {logo}"
    if not logo.resolve().is_relative_to(path.parent.resolve()):
        return (
            f"{logo} is outside the clinic's folder {path.parent} (after following links); "
            "put the logo file itself beside the clinic's file"
        )
    if not logo.is_file():
        return f"{logo} is not a regular file"
    if logo.stat().st_size > MAX_IMAGE_BYTES:
        return (
            f"{logo.name} is {logo.stat().st_size // 1024} KiB, more than the "
            f"{MAX_IMAGE_BYTES // 1024} KiB allowed; use a smaller image"
        )
    try:
        check_logo(logo)
    except LogoError as exc:
        return f"{logo.name} cannot be printed: {exc}"
    return None


def _read_colours(f: _File) -> tuple[str, str, str] | None:
    primary, accent, on_primary = (_colour(f, key) for key in ("primary", "accent", "on_primary"))
    if primary is None or accent is None or on_primary is None:
        return None
    # text on its background, and where the pair is printed; the primary colour is the one to change
    for fg, bg, where in ((on_primary, primary, "the header band's text"), (primary, WHITE, "headings on white paper")):
        ratio = contrast(fg, bg)
        if ratio < MIN_CONTRAST:
            f.error(
                "colors.primary",
                f"contrast {ratio:.2f}:1 for {where} ({fg} on {bg}) is below "
                f"{MIN_CONTRAST}:1 (WCAG AA); choose a darker colour",
            )
            return None
    return primary, accent, on_primary


def _colour(f: _File, key: str) -> str | None:
    value = f.get(f"colors.{key}", str, WHITE if key == "on_primary" else _REQUIRED)
    if value is not None and not HEX_COLOUR_RE.match(value):
        f.error(f"colors.{key}", f"'{value}' is not a colour like #1a5c7a")
        return None
    return value.lower() if value else None


def _read_font(f: _File) -> str | None:
    font = f.get("font", str, None)
    if font is not None and not FONT_NAME_RE.match(font):
        f.error("font", f"{font!r} is not a font family name (letters, digits, spaces)")
    elif font is not None and not font_installed(font):
        f.error("font", f"no installed font is called '{font}' (see `fc-list : family`)")
    return font


def _read_languages(f: _File, known: set[str]) -> tuple[str, ...] | None:
    languages = f.get("languages", list)
    if languages is None:
        return None
    if not languages:
        f.error("languages", "must list at least one language")
    problems = [_language_problem(lang, known) for lang in languages]
    names = [lang for lang in languages if isinstance(lang, str)]
    problems += [f"'{lang}' is listed twice" for lang in sorted(set(names)) if names.count(lang) > 1]
    for problem in filter(None, problems):
        f.error("languages", problem)
    return tuple(languages) if languages and not any(problems) else None


def _language_problem(lang: Any, known: set[str]) -> str | None:
    """Why ``lang`` cannot be built, saying which id to use instead; None if it can."""
    if not isinstance(lang, str):
        return f'{lang!r} is not a language id; write it in quotes, like "es"'
    if lang in known:
        return None
    try:
        wanted = Locale.parse(lang.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        close = get_close_matches(lang, sorted(known), n=1)
        return f"'{lang}' is not a language id Babel knows (use ids like es, zh_Hans, pt_BR" + (
            f"; did you mean '{close[0]}'?)" if close else ")"
        )
    same = [k for k in sorted(known) if _variant_of(wanted, k)]
    if same:
        return (
            f"no catalog for '{lang}', but there is one for '{same[0]}', the same language: "
            f"use '{same[0]}' (one catalog serves every region and spelling of a language)"
        )
    return (
        f"no catalog for '{lang}' (have: {', '.join(sorted(known))}); to translate into "
        f"it, run 'handouts i18n init {lang.replace('-', '_')}'"
    )


def _variant_of(wanted: Locale, known: str) -> bool:
    """Whether ``known`` (a catalog's id) is the language ``wanted`` in another region or case."""
    try:
        have = Locale.parse(known)
        likely = get_global("likely_subtags").get(str(wanted), wanted.language)
        script = wanted.script or Locale.parse(likely).script
    except (ValueError, TypeError, UnknownLocaleError):
        return False
    return have.language == wanted.language and have.script in (None, script)


def _read_routes(f: _File) -> tuple[str, ...] | None:
    routes = f.get("routes", list)
    if routes is None:
        return None
    if not routes:
        f.error("routes", "must list at least one route")
    bad = [route for route in routes if route not in ROUTE_IDS]
    for route in bad:
        close = get_close_matches(str(route), ROUTE_IDS, n=1)
        f.error(
            "routes",
            f"unknown route {route!r} (known: {', '.join(ROUTE_IDS)})"
            + (f"; did you mean '{close[0]}'?" if close else ""),
        )
    return tuple(routes) if routes and not bad else None


def _read_contact(f: _File, routes: tuple[str, ...], region: str | None = None) -> Contact | None:
    phone, after_hours, emergency, crisis = (_text(f, f"contact.{key}") for key in CONTACT_NUMBERS)
    needs_poison = sorted(POISON_CONTROL_ROUTES & set(routes))
    if needs_poison and not f.has("contact.poison_control"):
        f.error(
            "contact.poison_control",
            f"missing; a clinic offering {', '.join(needs_poison)} "
            "must give the poison help line (1-800-222-1222 in the US)",
            f.line_of("contact"),
        )
    poison = _text(f, "contact.poison_control", "")
    website = _read_website(f)
    optional = {key: _dialable(f, f"contact.{key}") for key in OPTIONAL_NUMBERS}
    languages = _read_crisis_languages(f, region)
    if None in (phone, after_hours, emergency, crisis, poison, website, languages, *optional.values()):
        return None
    return Contact(
        phone=_sure(phone),
        after_hours_phone=_sure(after_hours),
        emergency_number=_sure(emergency),
        crisis_line=_sure(crisis),
        website=_sure(website),
        poison_control=_sure(poison),
        crisis_line_languages=_sure(languages),
        **{key: _sure(value) for key, value in optional.items()},
    )


#: A number to dial or text as a clinic file may write it: digits, spaces, brackets, dashes,
#: dots, a leading +.
DIALABLE_RE = re.compile(r"^\+?[\d(][\d ().-]*\d$|^\d$")


def _dialable(f: _File, dotted: str) -> str | None:
    """An optional number ("" when absent); None (and a problem) when it is not a number."""
    value = _text(f, dotted, "")
    if value and not DIALABLE_RE.match(value):
        f.error(
            dotted,
            f"'{value}' is not a phone number; write only the number, with digits, "
            'spaces, brackets and dashes, like "111" or "+44 20 7946 0321" (its label is '
            "printed by the handout)",
        )
        return None
    return value


def _read_crisis_languages(f: _File, region: str | None) -> tuple[str, ...] | None:
    """``contact.crisis_line_languages``: the languages the crisis line answers in; by
    default the region's language (else English)."""
    key = "contact.crisis_line_languages"
    default = [Locale.parse(region).language] if region else ["en"]
    languages = f.get(key, list, default)
    if languages is None:
        return None
    if not languages:
        f.error(key, 'must list at least one language, like ["en"]')
        return None
    bad = [lang for lang in languages if _language_id(lang) is None]
    for lang in bad:
        f.error(key, f'{lang!r} is not a language id; write Babel ids in quotes, like ["en", "es"]')
    return None if bad else tuple(languages)


def _language_id(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def _read_region(f: _File) -> str | None:
    """``region``: a locale with its country (``en_GB``) whose date and number formats
    the clinic's handouts in that language use."""
    region = f.get("region", str, None)
    if region is None:
        return None
    try:
        locale = Locale.parse(region.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        locale = None
    if locale is None or not locale.territory:
        f.error(
            "region",
            f"{region!r} is not a locale with a country that Babel knows; write a "
            'language and a country, like "en_GB" or "en_US"',
        )
        return None
    return str(locale)


def _read_website(f: _File) -> str | None:
    website = f.get("contact.website", str, "")
    if website and (len(website) > MAX_WEBSITE or not WEBSITE_RE.fullmatch(website)):
        f.error(
            "contact.website",
            f"{website[:80]!r} is not a web address like https://clinic.example: "
            "https://, a host name, then an optional path of letters, digits, '.', '-', '_', '~' and "
            f"'/' (no query or spaces), at most {MAX_WEBSITE} characters; it is printed on every handout",
        )
        return None
    return website


def _read_editions(f: _File, languages: tuple[str, ...] | None, known: set[str]) -> Editions | None:
    large_print = f.get("editions.large_print", bool, False)
    second = f.get("editions.bilingual_second", str, "en")
    if second is not None and second not in known:
        f.error("editions.bilingual_second", _language_problem(second, known) or "")
        second = None
    bilingual = f.get("editions.bilingual", list, [])
    for lang in bilingual or ():
        if languages is not None and lang not in languages:
            f.error(
                "editions.bilingual",
                f"'{lang}' is not one of this clinic's languages "
                f"({', '.join(languages)}); add it to languages, or remove it here",
            )
            bilingual = None
    if None in (large_print, second, bilingual):
        return None
    return Editions(large_print=large_print, bilingual=tuple(bilingual), bilingual_second=second)


def _read_page_budget(f: _File) -> PageBudget | None:
    budget = {}
    for edition in EDITIONS:
        pages = f.get(f"page_budget.{edition}", int, DEFAULT_PAGE_BUDGET[edition])
        if pages is not None and not 1 <= pages <= 50:
            f.error(f"page_budget.{edition}", "must be between 1 and 50 pages")
        budget[edition] = pages
    return None if None in budget.values() else PageBudget(**budget)


def _read_online(
    f: _File, languages: tuple[str, ...] | None, routes: tuple[str, ...] | None, editions: Editions | None
) -> str | None:
    key = "online.handout_url"
    pattern = f.get(key, str, None)
    if pattern is None:
        return None
    problem = _url_pattern_problem(pattern)
    if problem:
        f.error(key, problem)
        return None
    if languages and routes and editions:
        urls = [
            pattern.format(language=lang, route=route, file=file)
            for lang in languages
            for route in routes
            for file in _filenames(route, lang, editions)
        ]
        problem = _qr_problem(max(urls, key=len))
        if problem:
            f.error(key, problem)
    return pattern


def _url_pattern_problem(pattern: str) -> str | None:
    if not pattern.startswith("https://"):
        return "must start with https://"
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        return (
            f"not a valid pattern: {exc}; write the fields as {{language}}, {{route}} and "
            "{file}, and a brace that is part of the address as {{ or }}"
        )
    known = ", ".join("{" + name + "}" for name in sorted(URL_FIELDS))
    for name, spec, conversion in fields:
        if name not in URL_FIELDS:
            close = get_close_matches(name, sorted(URL_FIELDS), n=1)
            return f"unknown field {{{name}}} (known: {known})" + (f"; did you mean {{{close[0]}}}?" if close else "")
        if spec or conversion:
            written = name + ("!" + conversion if conversion else "") + (":" + spec if spec else "")
            return f"the field {{{written}}} has a format; write plain fields only, like {{{name}}}"
    return None


def _filenames(route: str, language: str, editions: Editions) -> list[str]:
    """The file names a route's handouts get in one language (as build.Job.filename)."""
    names = [f"{route}.pdf"]
    if editions.large_print:
        names.append(f"{route}.large.pdf")
    if language in editions.bilingual:
        names.append(f"{route}.{language}+{editions.bilingual_second}.pdf")
    return names


def _qr_problem(url: str) -> str | None:
    """Whether the longest address fits a QR code that still scans at the printed size."""
    try:
        version = int(segno.make(url, error=QR_ERROR_LEVEL, micro=False).version)
    except segno.DataOverflowError:
        version = 41
    if version <= MAX_QR_VERSION:
        return None
    return (
        f"the longest address it makes ({len(url)} characters: {url[:80]}"
        f"{'…' if len(url) > 80 else ''}) is too long for a QR code that scans at its printed "
        f"size (at most version {MAX_QR_VERSION}, about 210 characters); use a shorter address"
    )


def _read_protocol(f: _File, route: str) -> Protocol | None:
    table = f"protocol.{route}"
    if not isinstance(f.node(table), dict):
        if not f.has(table):
            f.error(
                "routes",
                f"'{route}' is offered but there is no [{table}] table; add one with {_listing(NEEDED['protocol'])}",
            )
        return None
    session = _minutes(f, table, "session")
    fasting, liquids = _minutes(f, table, "fasting"), _minutes(f, table, "clear_liquids")
    stay = _minutes(f, table, "stay")
    least = MIN_STAY_MINUTES.get(route, 0)
    if stay is not None and stay < least:
        f.error(
            f"{table}.stay_{'hours' if f.has(f'{table}.stay_hours') else 'minutes'}",
            f"must be at least {least} minutes for {route} (the esketamine label requires at "
            "least 2 hours of observation)",
        )
    driver = f.get(f"{table}.driver_required", bool)
    if fasting is None or liquids is None or stay is None or driver is None or session is None:
        return None
    return Protocol(
        fasting_minutes=fasting,
        clear_liquids_minutes=liquids,
        stay_minutes=stay,
        driver_required=driver,
        session_minutes=session,
    )


def _minutes(f: _File, table: str, base: str) -> int | None:
    """A duration given as ``<base>_hours`` or ``<base>_minutes``, in minutes."""
    hours_key, minutes_key = f"{table}.{base}_hours", f"{table}.{base}_minutes"
    given = [key for key in (hours_key, minutes_key) if f.has(key)]
    if len(given) != 1:
        f.error(
            hours_key if given else table,
            f"give exactly one of {base}_hours or {base}_minutes"
            if given
            else f"missing; [{table}] needs {base}_hours or {base}_minutes",
        )
        return None
    value = f.get(given[0], int)
    if value is None:
        return None
    minutes = value * 60 if given[0] == hours_key else value
    if not 0 < minutes <= 24 * 60:
        f.error(given[0], "must be more than 0 and at most 24 hours")
        return None
    return minutes


def _warn_if_copied(f: _File, clinic: Clinic) -> None:
    """Name each value still as in the example clinic's file: its logo, its fictional 555
    numbers, its online address."""
    if clinic.id == EXAMPLE_ID:
        return
    example = _example_values(f.path.parent / f"{EXAMPLE_ID}.toml")
    if example.get("logo") is not None and _read_or_none(clinic.logo) == example["logo"]:
        f.warn("logo", f"{clinic.logo.name} is the example clinic's logo; put your clinic's own logo beside the file")
    for key in CONTACT_NUMBERS:
        number = getattr(clinic.contact, key)
        if FICTIONAL_RE.search(number):
            f.warn(
                f"contact.{key}",
                f"'{number}' is a fictional 555 number like the example clinic's; put your clinic's real number",
            )
    host = example.get("host")
    if clinic.handout_url and host and urlsplit(clinic.handout_url).netloc == host:
        f.warn(
            "online.handout_url",
            f"is the example clinic's address ({host}); put where your "
            "clinic publishes its handouts, or remove [online] for no QR code",
        )


def _example_values(path: Path) -> dict[str, Any]:
    """The example clinic's logo bytes and online host, as far as they can be read."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
        logo = (path.parent / str(data.get("logo", ""))).read_bytes()
    except (OSError, ValueError):
        return {}
    online = data.get("online")
    url = online.get("handout_url") if isinstance(online, dict) else None
    return {"logo": logo, "host": urlsplit(url).netloc if isinstance(url, str) else None}


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours, from 1 to 21."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)

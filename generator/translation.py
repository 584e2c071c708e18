"""Stage 3: translation catalogs (``locales/<lang>/LC_MESSAGES/messages.po``).

Catalogs are read from the ``.po`` that translators edit, never from a possibly stale ``.mo``:
Babel parses the ``.po`` and compiles it in memory for ``gettext``/``ngettext``. English is the
source language and needs no catalog. Each language has ``locales/<lang>/review.toml`` telling
whether its translation is a draft or approved by a medical translator.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from babel import Locale
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, PoFileParser
from babel.numbers import format_decimal

from .approvals import approvals_path, approved_msgids, read_approvals
from .errors import CatalogError, ContentError
from .gates import (
    ERROR_CHECKS,
    WARNING_CHECKS,
    CheckedCatalog,
    Problem,
    assign_to_entries,
    blank,
    from_content,
    header_problems,
    msgfmt_problems,
    msgid_of,
    plural_count_problems,
    run_checks,
)
from .glossary import Glossary, load_glossary
from .placeholders import SAFETY_MSGIDS
from .plurals import choices
from .tomlfile import read_toml

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"

__all__ = [
    "SOURCE_LANGUAGE",
    "DOMAIN",
    "Review",
    "Translator",
    "Translators",
    "from_content",
    "is_translated",
    "load_translator",
    "make_translator",
    "read_catalog",
]


@dataclass(frozen=True)
class Review:
    status: str  # "draft" or "approved"
    approved_by: str | None = None
    approved_on: dt.date | None = None

    def is_draft_for(self, source_changed: dt.date) -> bool:
        """Approval counts only if it is newer than the source text it was approved for."""
        return self.status != "approved" or self.approved_on is None or self.approved_on < source_changed


#: The English source is not a translation: it is never marked as a draft translation.
SOURCE_REVIEW = Review("approved", "source language", dt.date.max)


def _empty() -> Mapping:
    return MappingProxyType({})


def _english_plural(n: int) -> int:
    return int(n != 1)


@dataclass(frozen=True)
class Translator:
    """Everything one language needs: units, gettext/ngettext, review status. Made by
    :func:`load_translator` (or :func:`make_translator`) and never changed afterwards."""

    language: str
    #: Babel's catalog as read (None for English); for reading only
    catalog: Catalog | None = None
    path: Path | None = None
    review: Review = SOURCE_REVIEW
    #: msgid -> what is wrong with its translation (placeholders, markup, numbers, glossary)
    problems: Mapping[str, tuple[Problem, ...]] = field(default_factory=_empty)
    #: what a reviewer should look at (``handouts check`` lists them; a build goes on)
    warnings: tuple[Problem, ...] = ()
    #: msgids used by every handout (template labels and phrases built in code)
    shared_ids: frozenset[str] = frozenset()
    #: those of them not (fully) translated: line in the catalog by msgid (None: not in it)
    untranslated_shared: Mapping[str, int | None] = field(default_factory=_empty)
    #: msgid -> its translation (a tuple of forms for a plural entry); complete ones only
    strings: Mapping[str, str | tuple[str, ...]] = field(default_factory=_empty)
    lines: Mapping[str, int] = field(default_factory=_empty)
    #: msgids whose per-unit approval (approvals.toml) still holds
    approved_units: frozenset[str] = frozenset()
    plural: Callable[[int], int] = field(default=_english_plural, compare=False, repr=False)

    @functools.cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.language)

    def is_draft(self, source_changed: dt.date, printed: Iterable[str]) -> bool:
        """A handout printing ``printed`` is a draft unless the whole language is approved
        (review.toml) or every unit it prints is approved as it is now (approvals.toml)."""
        return self.review.is_draft_for(source_changed) and not self.approved_units.issuperset(printed)

    @property
    def is_source(self) -> bool:
        return self.catalog is None

    @property
    def html_lang(self) -> str:
        """BCP 47 tag for HTML and PDF metadata: zh_Hans -> zh-Hans."""
        return self.language.replace("_", "-")

    @property
    def direction(self) -> str:
        return "rtl" if self.locale.character_order == "right-to-left" else "ltr"

    @property
    def native_name(self) -> str:
        """The language's name in its own script, from Babel's locale data."""
        return self.locale.get_display_name(self.locale) or self.language

    def gettext(self, message: str) -> str:
        """The translation, or the English when it is missing, fuzzy or blank."""
        translated = self.strings.get(message)
        return translated if isinstance(translated, str) else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.strings.get(singular)
        if isinstance(forms, tuple):
            return forms[self.plural(n)]
        return singular if n == 1 else plural

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def unit(self, msgid: str) -> str | None:
        """The translation of a content unit, or None when it is missing or fuzzy."""
        if self.catalog is None:
            return msgid
        translated = self.strings.get(msgid)
        return translated if isinstance(translated, str) else None

    def line_of(self, msgid: str) -> int | None:
        return self.lines.get(msgid)


def make_translator(
    language: str,
    catalog: Catalog | None = None,
    path: Path | None = None,
    *,
    review: Review | None = None,
    tool_problems: Mapping[str, list[Problem]] | None = None,
    expected: Iterable[str] = (),
    safety: frozenset[str] = frozenset(),
    glossary: Glossary | None = None,
    checks: bool = True,
    approved_units: frozenset[str] = frozenset(),
) -> Translator:
    """A frozen Translator for a parsed catalog: every translated entry checked (``checks``),
    ``tool_problems`` (msgfmt's, by msgid) added where the checks found nothing, and
    ``expected`` shared msgids the catalog lacks counted as untranslated."""
    if catalog is None:
        return Translator(language)
    cat = CheckedCatalog(catalog, path, language, safety | SAFETY_MSGIDS, glossary)
    strings, problems, warnings = _checked_strings(cat, checks)
    shared, untranslated = _shared_entries(catalog, strings, expected)
    return Translator(
        language,
        catalog,
        path,
        review or Review("draft"),
        problems=_with_tool_problems(problems, tool_problems or {}),
        warnings=tuple(p for p in warnings if p.severity == "warning"),
        shared_ids=frozenset(msgid for msgid in shared if msgid in strings),
        untranslated_shared=MappingProxyType(untranslated),
        strings=MappingProxyType(strings),
        lines=MappingProxyType({msgid_of(m): m.lineno for m in catalog if m.id and m.lineno}),
        plural=_plural_function(catalog),
        approved_units=approved_units,
    )


def _with_tool_problems(
    problems: dict[str, tuple[Problem, ...]], tool_problems: Mapping[str, list[Problem]]
) -> Mapping[str, tuple[Problem, ...]]:
    """The entries with problems: msgfmt's findings add what our own checks did not already
    say about an entry."""
    for msgid, found in tool_problems.items():
        problems[msgid] = problems.get(msgid) or tuple(found)
    return MappingProxyType({k: v for k, v in problems.items() if v})


def _shared_entries(
    catalog: Catalog, strings: Mapping[str, object], expected: Iterable[str]
) -> tuple[dict[str, int | None], dict[str, int | None]]:
    """The catalog's shared (template) entries by msgid with their lines, and those of them
    untranslated, with the ``expected`` shared msgids the catalog lacks (line None)."""
    shared = {msgid_of(m): m.lineno for m in catalog if m.id and not from_content(loc for loc, _ in m.locations)}
    untranslated = {msgid: line for msgid, line in shared.items() if msgid not in strings}
    untranslated |= {msgid: None for msgid in expected if msgid not in catalog}
    return shared, untranslated


def _checked_strings(
    cat: CheckedCatalog, checks: bool
) -> tuple[dict[str, str | tuple[str, ...]], dict[str, tuple[Problem, ...]], list[Problem]]:
    """Each translated entry's text by msgid, and (``checks``) what the error and warning
    checks find in each."""
    problems: dict[str, tuple[Problem, ...]] = {}
    warnings: list[Problem] = []
    strings: dict[str, str | tuple[str, ...]] = {}
    for message in cat.catalog:
        if not message.id or not is_translated(message):
            continue
        msgid = msgid_of(message)
        strings[msgid] = tuple(str(s) for s in message.string or ()) if message.pluralizable else str(message.string)
        if checks:
            problems[msgid] = tuple(run_checks(cat, message, ERROR_CHECKS))
            warnings += run_checks(cat, message, WARNING_CHECKS)
    return strings, problems, warnings


def _plural_function(catalog: Catalog) -> Callable[[int], int]:
    """The catalog's Plural-Forms as a function; English's if it is not valid (the header
    check refuses such a catalog before it is used)."""
    if choices(catalog.num_plurals, catalog.plural_expr) is None:
        return _english_plural
    return gettext.c2py(catalog.plural_expr)


def is_translated(message: Message) -> bool:
    """Translated, not fuzzy, and every plural form filled in with something visible (a
    translation of spaces or invisible characters only would print an empty line)."""
    strings = tuple(message.string or ()) if message.pluralizable else (message.string,)
    return bool(strings) and all(isinstance(s, str) and s and not blank(s) for s in strings) and not message.fuzzy


def catalog_path(locales: Path, language: str) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages(locales: Path) -> set[str]:
    """English plus every language with a catalog."""
    found = {p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return {SOURCE_LANGUAGE} | found


class _CountingParser(PoFileParser):
    """Babel's parser, noting how many ``msgstr[N]`` each plural entry really has (Babel
    pads missing forms with empty strings, so a missing form would read as untranslated)."""

    def __init__(self, catalog: Catalog) -> None:
        super().__init__(catalog, ignore_obsolete=False, abort_invalid=True)
        self.plural_counts: dict[str, int] = {}

    def _add_message(self) -> None:
        if len(self.messages) > 1 and not self.obsolete:
            self.plural_counts[self.messages[0].denormalize()] = len(self.translations)
        super()._add_message()


def parse_catalog(path: Path, language: str, data: bytes | None = None) -> tuple[Catalog, dict[str, int]]:
    """Parse a ``.po`` strictly, once (from ``data`` if already read): the catalog and each
    plural entry's number of forms. A syntax error names the line."""
    raw = b""
    try:
        raw = path.read_bytes() if data is None else data
        raw.decode("utf-8")
        catalog = Catalog(locale=language, domain=DOMAIN)
        parser = _CountingParser(catalog)
        parser.parse(io.BytesIO(raw))
        return catalog, parser.plural_counts
    except FileNotFoundError:
        raise CatalogError(f"no catalog for '{language}'", path) from None
    except PoFileError as exc:
        raise CatalogError(f"cannot parse the catalog: {exc}", path, getattr(exc, "lineno", None)) from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"the catalog is not UTF-8 text ({exc.reason}); save it as UTF-8 with "
            '"Content-Type: text/plain; charset=UTF-8\\n" in its header',
            path,
            raw.count(b"\n", 0, exc.start) + 1,
        ) from None


def read_catalog(path: Path, language: str, data: bytes | None = None) -> Catalog:
    """Parse a ``.po`` strictly (from ``data`` if already read); a syntax error names the line."""
    return parse_catalog(path, language, data)[0]


def read_review(path: Path) -> Review:
    """``review.toml`` beside a catalog: status, approved_by, approved_on (a date). Anything
    else (not UTF-8, a date-time, a number for a name) is a :class:`CatalogError` at its line:
    that language's handouts fail, the others are built."""
    found = read_toml(path)
    if found is None:
        return Review("draft")
    data, text = found

    def line(key: str) -> int | None:
        return next((n for n, row in enumerate(text.splitlines(), 1) if row.split("=", 1)[0].strip() == key), None)

    status, by, on = data.get("status", "draft"), data.get("approved_by"), data.get("approved_on")
    if status not in ("draft", "approved"):
        raise CatalogError(f"status: must be 'draft' or 'approved', not {status!r}"[:300], path, line("status"))
    if by is not None and not (isinstance(by, str) and by.strip()):
        raise CatalogError("approved_by: must be the translator's name in quotes", path, line("approved_by"))
    if on is not None and (isinstance(on, dt.datetime) or not isinstance(on, dt.date)):
        raise CatalogError(f"approved_on: must be a date like 2026-11-21, not {on!r}"[:300], path, line("approved_on"))
    if status == "approved" and not (by and on):
        raise CatalogError("status: 'approved' needs approved_by and approved_on (a date)", path, line("status"))
    return Review(status, by, on)


def load_translator(
    locales: Path, language: str, expected: Iterable[str] = (), safety: frozenset[str] = frozenset()
) -> Translator:
    """Read and check one language's catalog: one parse (Babel's), one ``msgfmt --check``.
    ``expected`` are the template and code strings of the POT: one the catalog lacks (not yet
    merged with ``i18n update``) counts as missing. ``safety``: the msgids of the safety-
    critical units, whose translations must use the glossary's renderings."""
    if language == SOURCE_LANGUAGE:
        return Translator(language)
    path = catalog_path(locales, language)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"no catalog for '{language}'", path) from None
    catalog, plural_counts = parse_catalog(path, language, data)
    text = data.decode("utf-8")  # the parse accepted it, so it is UTF-8
    # Babel reads past some syntax errors (an unclosed string), so msgfmt's own parse decides;
    # a syntax error stops the whole catalog, a --check finding only the entries it is in.
    msgfmt_wide, msgfmt_entries = assign_to_entries(msgfmt_problems(path), catalog)
    problems = [
        *msgfmt_wide,
        *header_problems(path, language, catalog, text),
        *plural_count_problems(path, catalog, plural_counts),
    ]
    if problems:
        raise CatalogError(
            f"the '{language}' catalog cannot be used; no handout in this language "
            "is built until it is fixed:\n" + "\n".join(f"  {p}" for p in problems),
            path,
        )
    return make_translator(
        language,
        catalog,
        path,
        review=read_review(locales / language / "review.toml"),
        tool_problems=msgfmt_entries,
        expected=expected,
        safety=safety,
        glossary=load_glossary(locales, language),
        approved_units=approved_msgids(catalog, read_approvals(approvals_path(locales, language))),
    )


def shared_msgids(pot: Path) -> list[str]:
    """The template and code strings of the POT (every handout uses them)."""
    try:
        template = read_catalog(pot, SOURCE_LANGUAGE)
    except CatalogError:
        return []
    return [msgid_of(m) for m in template if m.id and not from_content(loc for loc, _ in m.locations)]


def safety_msgids(content: Path) -> frozenset[str]:
    """The source texts of every safety-critical unit in ``content`` (none when it cannot be
    read: the content's own errors are reported where it is loaded)."""
    from .content import load_content, safety_units

    try:
        blocks = load_content(content).blocks.values()
    except ContentError:
        return frozenset()
    return frozenset(text for block in blocks for text in safety_units(block))


class Translators:
    """Load each language once per run; a broken catalog fails every handout that needs it.
    ``content`` (default: the ``content`` folder beside ``locales``) says which units are
    safety-critical."""

    def __init__(self, locales: Path, content: Path | None = None) -> None:
        self.locales = locales
        self._content = content if content is not None else locales.parent / "content"
        self._loaded: dict[str, Translator | CatalogError] = {}
        self._expected = shared_msgids(locales / "messages.pot")

    @functools.cached_property
    def safety(self) -> frozenset[str]:
        return safety_msgids(self._content)

    def get(self, language: str) -> Translator:
        if language not in self._loaded:
            try:
                self._loaded[language] = load_translator(self.locales, language, self._expected, self.safety)
            except CatalogError as exc:
                self._loaded[language] = exc
        loaded = self._loaded[language]
        if isinstance(loaded, CatalogError):
            raise loaded
        return loaded

"""Stage 3: translation catalogs (``locales/<lang>/LC_MESSAGES/messages.po``).

Catalogs are read from the ``.po`` that translators edit, never from a possibly stale ``.mo``:
Babel parses the ``.po`` and compiles it in memory for ``gettext``/``ngettext``. English is the
source language and needs no catalog. Each language has ``locales/<lang>/review.toml`` telling
whether its translation is a draft or approved by a medical translator.
"""
from __future__ import annotations

import copy
import datetime as dt
import gettext
import io
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal
from babel.support import Translations

from .approvals import approvals_path, approved_msgids, read_approvals
from .errors import CatalogError
from .gates import (
    Problem,
    assign_to_entries,
    blank,
    entry_problems,
    header_problems,
    msgfmt_problems,
    msgid_of,
    plural_count_problems,
    raw_plural_counts,
)

SOURCE_LANGUAGE = "en"
DOMAIN = "messages"


@dataclass(frozen=True)
class Review:
    status: str                     # "draft" or "approved"
    approved_by: str | None = None
    approved_on: dt.date | None = None

    def is_draft_for(self, source_changed: dt.date) -> bool:
        """Approval counts only if it is newer than the source text it was approved for."""
        return self.status != "approved" or self.approved_on is None or self.approved_on < source_changed


class Translator:
    """Everything one language needs: units, gettext/ngettext, review status."""

    def __init__(self, language: str, catalog: Catalog | None = None, path: Path | None = None,
                 review: Review | None = None, tool_problems: dict[str, list[Problem]] | None = None) -> None:
        self.language = language
        self.locale = Locale.parse(language)
        self.catalog = catalog
        self.path = path
        # the English source is not a translation: it is never marked as a draft translation
        self.review = review or Review("approved", "source language", dt.date.max)
        #: msgid -> what is wrong with its translation (placeholders, markup, numbers, HTML)
        self.problems: dict[str, list[Problem]] = {}
        #: msgids used by every handout (template labels and phrases built in code)
        self.shared_ids: set[str] = set()
        #: those of them not (fully) translated: line in the catalog by msgid
        self.untranslated_shared: dict[str, int | None] = {}
        #: msgids whose per-unit approval (approvals.toml) still holds
        self.approved_units: frozenset[str] = frozenset()
        if catalog is not None:
            for message in catalog:
                if not message.id:
                    continue
                msgid = msgid_of(message)
                shared = not from_content(loc for loc, _ in message.locations)
                if not is_translated(message):
                    if shared:
                        self.untranslated_shared[msgid] = message.lineno
                    continue
                pairs = [(message.id[-1], form) for form in message.string or ()] \
                    if message.pluralizable else [(msgid, str(message.string))]
                for source, target in pairs:
                    for text in entry_problems(source, target, formatted=shared):
                        self.problems.setdefault(msgid, []).append(
                            Problem(path, message.lineno, text, msgid))
                if shared:
                    self.shared_ids.add(msgid)
            # msgfmt's findings add what our own checks did not already say about an entry
            for msgid, problems in (tool_problems or {}).items():
                self.problems.setdefault(msgid, problems)
        if catalog is None:
            self._gnu: gettext.NullTranslations = gettext.NullTranslations()
        else:
            # Only complete entries go into the in-memory .mo, so that gettext falls back to
            # English for anything missing instead of printing an empty string.
            usable = copy.deepcopy(catalog)
            for message in list(usable):
                if message.id and not is_translated(message):
                    del usable[message.id]
            buffer = io.BytesIO()
            write_mo(buffer, usable, use_fuzzy=False)
            buffer.seek(0)
            self._gnu = Translations(fp=buffer, domain=DOMAIN)

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
        return self._gnu.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._gnu.ngettext(singular, plural, n)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def unit(self, msgid: str) -> str | None:
        """The translation of a content unit, or None when it is missing or fuzzy."""
        if self.catalog is None:
            return msgid
        message = self.catalog.get(msgid)
        if message is None or not is_translated(message) or not isinstance(message.string, str):
            return None
        return message.string

    def line_of(self, msgid: str) -> int | None:
        message = self.catalog.get(msgid) if self.catalog is not None else None
        return getattr(message, "lineno", None) if message is not None else None


def from_content(locations: Iterable[str]) -> bool:
    """Whether a message's source references point into content/ (a content unit), rather
    than to a template or code (a string every handout uses)."""
    return any(location.startswith("content/") for location in locations)


def is_translated(message) -> bool:
    """Translated, not fuzzy, and every plural form filled in with something visible (a
    translation of spaces or invisible characters only would print an empty line)."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(strings) and all(s and not blank(s) for s in strings) and not message.fuzzy


def catalog_path(locales: Path, language: str) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def available_languages(locales: Path) -> set[str]:
    """English plus every language with a catalog."""
    found = {p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return {SOURCE_LANGUAGE} | found


def read_catalog(path: Path, language: str, data: bytes | None = None) -> Catalog:
    """Parse a ``.po`` strictly (from ``data`` if already read); a syntax error names the line."""
    raw = b""
    try:
        raw = path.read_bytes() if data is None else data
        raw.decode("utf-8")
        return read_po(io.BytesIO(raw), locale=language, domain=DOMAIN, abort_invalid=True)
    except FileNotFoundError:
        raise CatalogError(f"no catalog for '{language}'", path) from None
    except PoFileError as exc:
        raise CatalogError(f"cannot parse the catalog: {exc}", path, getattr(exc, "lineno", None)) from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"the catalog is not UTF-8 text ({exc.reason}); save it as UTF-8 with "
                           '"Content-Type: text/plain; charset=UTF-8\\n" in its header', path,
                           raw.count(b"\n", 0, exc.start) + 1) from None


def read_review(path: Path) -> Review:
    """``review.toml`` beside a catalog: status, approved_by, approved_on (a date). Anything
    else (not UTF-8, a date-time, a number for a name) is a :class:`CatalogError` at its line:
    that language's handouts fail, the others are built."""
    if not path.is_file():
        return Review("draft")
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"invalid TOML: {exc}", path, _toml_line(exc)) from None

    def line(key: str) -> int | None:
        return next((n for n, row in enumerate(text.splitlines(), 1)
                     if row.split("=", 1)[0].strip() == key), None)

    status, by, on = data.get("status", "draft"), data.get("approved_by"), data.get("approved_on")
    if status not in ("draft", "approved"):
        raise CatalogError(f"status: must be 'draft' or 'approved', not {status!r}"[:300], path, line("status"))
    if by is not None and not (isinstance(by, str) and by.strip()):
        raise CatalogError("approved_by: must be the translator's name in quotes", path, line("approved_by"))
    if on is not None and (isinstance(on, dt.datetime) or not isinstance(on, dt.date)):
        raise CatalogError(f"approved_on: must be a date like 2026-11-21, not {on!r}"[:300], path,
                           line("approved_on"))
    if status == "approved" and not (by and on):
        raise CatalogError("status: 'approved' needs approved_by and approved_on (a date)", path, line("status"))
    return Review(status, by, on)


def _toml_line(exc: tomllib.TOMLDecodeError) -> int | None:
    match = re.search(r"at line (\d+)", str(exc))
    return int(match.group(1)) if match else None


def load_translator(locales: Path, language: str, expected: Iterable[str] = ()) -> Translator:
    """Read and check one language's catalog. ``expected`` are the template and code strings
    of the POT: one the catalog lacks (not yet merged with ``i18n update``) counts as missing."""
    if language == SOURCE_LANGUAGE:
        return Translator(language)
    path = catalog_path(locales, language)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"no catalog for '{language}'", path) from None
    catalog = read_catalog(path, language, data)
    text = data.decode("utf-8")  # read_po accepted it, so it is UTF-8
    # Babel reads past some syntax errors (an unclosed string), so msgfmt's own parse decides;
    # a syntax error stops the whole catalog, a --check finding only the entries it is in.
    syntax = msgfmt_problems(path, check=False)
    msgfmt_wide, msgfmt_entries = (syntax, {}) if syntax else \
        assign_to_entries(msgfmt_problems(path), catalog)
    problems = [*msgfmt_wide, *header_problems(path, language, catalog, text),
                *plural_count_problems(path, catalog, raw_plural_counts(text))]
    if problems:
        raise CatalogError(f"the '{language}' catalog cannot be used; no handout in this language "
                           "is built until it is fixed:\n" + "\n".join(f"  {p}" for p in problems), path)
    review = read_review(locales / language / "review.toml")
    translator = Translator(language, catalog, path, review, msgfmt_entries)
    translator.approved_units = approved_msgids(catalog, read_approvals(approvals_path(locales, language)))
    for msgid in expected:
        if msgid not in catalog:
            translator.untranslated_shared[msgid] = None
    return translator


def shared_msgids(pot: Path) -> list[str]:
    """The template and code strings of the POT (every handout uses them)."""
    try:
        with pot.open("rb") as fp:
            template = read_po(fp)
    except FileNotFoundError:
        return []
    return [msgid_of(m) for m in template
            if m.id and not from_content(loc for loc, _ in m.locations)]


class Translators:
    """Load each language once per run; a broken catalog fails every handout that needs it."""

    def __init__(self, locales: Path) -> None:
        self.locales = locales
        self._loaded: dict[str, Translator | CatalogError] = {}
        self._expected = shared_msgids(locales / "messages.pot")

    def get(self, language: str) -> Translator:
        if language not in self._loaded:
            try:
                self._loaded[language] = load_translator(self.locales, language, self._expected)
            except CatalogError as exc:
                self._loaded[language] = exc
        loaded = self._loaded[language]
        if isinstance(loaded, CatalogError):
            raise loaded
        return loaded

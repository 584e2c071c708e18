"""Per-unit approvals by a medical translator: ``locales/<lang>/approvals.toml``.

Each record says who approved one catalog entry, when, and the hashes of the English source
and of the translation they approved. Records are keyed by a hash of the entry's msgctxt and
msgid, never by its line, so ``i18n update`` (msgmerge), re-wrapping and reordering the
catalog leave them valid. A unit whose source or translation changed after approval no
longer matches its record: it is a draft again, and so is every handout that prints it.

This module reads and writes the records and says which units they still cover; the review
packet and the ``approve`` command are in :mod:`generator.review`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog, Message

from .errors import CatalogError
from .gates import msgid_of
from .tomlfile import read_toml

if TYPE_CHECKING:
    from .content import Route

APPROVALS_NAME = "approvals.toml"
KEY_RE = re.compile(r"^[0-9a-f]{16}$")
HEADER = """\
# Per-unit approvals by a medical translator, written by `handouts i18n approve`.
# One table per catalog entry, keyed by a hash of its msgctxt and msgid (not its line), so
# `handouts i18n update`, msgmerge and re-wrapping keep it valid. An entry whose English or
# translation changed after approval no longer matches its hashes: it is a draft again.
# Commit this file with the catalog; do not edit the hashes by hand.
"""

#: a unit's review status, worst first
UNTRANSLATED, CHANGED, NEW, APPROVED = "untranslated", "changed", "new", "approved"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def unit_key(msgid: str, context: str | None = None) -> str:
    """The record key of an entry: its msgctxt and (singular) msgid, hashed."""
    return _sha(f"{context or ''}\x04{msgid}")


def source_text(message: Message) -> str:
    """The English of an entry; a plural entry's forms joined by NUL."""
    return "\0".join(message.id) if isinstance(message.id, (tuple, list)) else str(message.id)


def translation_text(message: Message) -> str:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return "\0".join(s or "" for s in strings)


def source_hash(message: Message) -> str:
    return _sha(source_text(message))


def translation_hash(message: Message) -> str:
    return _sha(translation_text(message))


def key_of(message: Message) -> str:
    return unit_key(msgid_of(message), message.context)


@dataclass(frozen=True)
class Approval:
    key: str
    msgid: str  # for people reading the file; the key decides
    source: str  # hash of the English approved
    translation: str  # hash of the translation approved
    text: str  # the translation approved, shown to the next reviewer as "before"
    reviewer: str
    approved_on: dt.date

    def covers(self, message: Message) -> bool:
        return self.source == source_hash(message) and self.translation == translation_hash(message)


def approvals_path(locales: Path, language: str) -> Path:
    return locales / language / APPROVALS_NAME


def read_approvals(path: Path) -> dict[str, Approval]:
    """The records of ``approvals.toml`` (none when there is no file). A file that cannot be
    read is a :class:`CatalogError` at its line: that language's handouts fail."""
    read = read_toml(path, "; write it again with 'handouts i18n approve'")
    if read is None:
        return {}
    data, text = read
    units = data.get("unit", {})
    return {key: _record(key, record, path, text) for key, record in (units.items() if isinstance(units, dict) else ())}


_FIELDS = {
    "msgid": str,
    "source_sha256": str,
    "translation_sha256": str,
    "translation": str,
    "reviewer": str,
    "approved_on": dt.date,
}


def _record(key: str, record: object, path: Path, text: str) -> Approval:
    line = next((n for n, row in enumerate(text.splitlines(), 1) if row.strip() == f"[unit.{key}]"), None)
    if not KEY_RE.match(key) or not isinstance(record, dict):
        raise CatalogError(
            f"[unit.{key}] is not an approval record (a 16-digit hash and its fields); "
            "write the file again with 'handouts i18n approve'"[:300],
            path,
            line,
        )
    for name, kind in _FIELDS.items():
        value = record.get(name)
        if not isinstance(value, kind) or (kind is dt.date and isinstance(value, dt.datetime)):
            raise CatalogError(
                f"[unit.{key}] {name}: missing or not a {kind.__name__}; write the file "
                "again with 'handouts i18n approve'",
                path,
                line,
            )
    return Approval(
        key,
        record["msgid"],
        record["source_sha256"],
        record["translation_sha256"],
        record["translation"],
        record["reviewer"],
        record["approved_on"],
    )


def _toml_string(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's, without ASCII-only escaping)."""
    return json.dumps(text, ensure_ascii=False)


def format_approvals(approvals: Iterable[Approval]) -> str:
    """The file's text: records sorted by key, so that a new approval is a small diff."""
    parts = [HEADER]
    for a in sorted(approvals, key=lambda a: a.key):
        parts.append(
            f"\n[unit.{a.key}]\nmsgid = {_toml_string(a.msgid)}\n"
            f'source_sha256 = "{a.source}"\ntranslation_sha256 = "{a.translation}"\n'
            f"translation = {_toml_string(a.text)}\nreviewer = {_toml_string(a.reviewer)}\n"
            f"approved_on = {a.approved_on.isoformat()}\n"
        )
    return "".join(parts)


def is_translated(message: Message) -> bool:
    from .translation import is_translated as translated  # translation.py imports this module

    return translated(message)


@dataclass(frozen=True)
class UnitState:
    message: Message
    key: str
    status: str  # approved, changed, new or untranslated
    previous: Approval | None  # the last approval, when there is one

    @property
    def msgid(self) -> str:
        return msgid_of(self.message)


def _previous(message: Message, approvals: dict[str, Approval], old: str | None) -> Approval | None:
    """The entry's own record, else (its English changed) the record of the English msgmerge
    kept in ``#|`` comments (``old``)."""
    own = approvals.get(key_of(message))
    if own is not None or not old:
        return own
    return approvals.get(unit_key(old, message.context))


def unit_states(
    catalog: Catalog, approvals: dict[str, Approval], previous_ids: dict[str, str] | None = None
) -> Iterator[UnitState]:
    """Each entry's status; ``previous_ids``: msgid -> the old English of a ``#|`` comment."""
    for message in catalog:
        if not message.id:
            continue
        previous = _previous(message, approvals, (previous_ids or {}).get(msgid_of(message)))
        if not is_translated(message):
            status = UNTRANSLATED
        elif previous is not None and previous.key == key_of(message) and previous.covers(message):
            status = APPROVED
        else:
            status = CHANGED if previous is not None else NEW
        yield UnitState(message, key_of(message), status, previous)


def approved_msgids(catalog: Catalog, approvals: dict[str, Approval]) -> frozenset[str]:
    """The msgids whose approval still holds: same English, same translation."""
    if not approvals:
        return frozenset()
    return frozenset(s.msgid for s in unit_states(catalog, approvals) if s.status == APPROVED)


def route_units(route: Route) -> list[str]:
    from .manifest import route_msgids  # manifest imports the index, which imports this module

    return route_msgids(route)

"""``handouts i18n export LANG --format xliff`` and ``handouts i18n import LANG FILE``.

For translators whose tools read XLIFF rather than gettext (CAT tools such as Trados, memoQ,
OmegaT). The XLIFF file is written and read by translate-toolkit (its PO-flavoured XLIFF:
plural entries as groups; namespace 1.1, see :class:`PoXliff`), with the units needing work
only: not approved, changed since approval, or untranslated. Each carries the catalog's notes
(what each placeholder means), its safety mark, the gates' findings, the last approved
translation, and the glossary's terms where ``locales/<lang>/glossary.toml`` exists.

Import changes only the translations that differ from the catalog, each checked by every
translation gate first; one failing gate refuses the whole file and nothing is written. The
catalog is rewritten by translate-toolkit, which keeps every other byte as it was (a round
trip without edits leaves the file byte for byte the same).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from translate.convert.po2xliff import po2xliff
from translate.storage import po, poxliff

from .errors import CatalogError, UsageError
from .gates import entry_problems
from .output import write_atomic
from .project import Project
from .review import build_packet, load_language
from .translation import catalog_path, from_content, load_translator, shared_msgids

FORMATS = ("xliff",)


class PoXliff(poxliff.PoXliffFile):
    """translate-toolkit's PO-flavoured XLIFF (plural entries as ``x-gettext-plurals``
    groups). It declares the XLIFF 1.1 namespace: its plural groups are built with 1.1
    elements, so declaring 1.2 would make a mixed file; the elements are the same in 1.2 and
    CAT tools read both."""


def glossary(project: Project, language: str) -> dict[str, str]:
    """``locales/<lang>/glossary.toml``: English term = "agreed translation" (optional)."""
    path = project.locales / language / "glossary.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read the glossary: {exc}", path) from None
    return {str(k): str(v) for k, v in data.items() if isinstance(v, str)}


def export(project: Project, language: str, output: Path) -> int:
    """Write the units needing work to ``output``; returns how many."""
    packet = build_packet(project, language)
    wanted = {u.state.msgid: u for u in packet.units}
    terms = glossary(project, language)
    path = catalog_path(project.locales, language)
    store = po.pofile(path.read_bytes())
    out = PoXliff(sourcelanguage="en", targetlanguage=language.replace("_", "-"))
    converter = po2xliff()
    count = 0
    for unit in store.units:
        if unit.isheader() or unit.isblank() or _msgid(unit) not in wanted:
            continue
        found = wanted[_msgid(unit)]
        xunit = converter.convertunit(out, unit, path.name)
        if found.safety:
            xunit.addnote(
                "SAFETY-CRITICAL: a patient acts on this sentence (when to get help, what "
                "not to do). Translate it exactly and plainly.",
                origin="developer",
            )
        for finding in found.findings:
            xunit.addnote(f"Check: {finding}", origin="developer")
        used = [f"{en} = {tr}" for en, tr in terms.items() if en.lower() in found.source.lower()]
        if used:
            xunit.addnote("Glossary: " + "; ".join(used), origin="developer")
        if found.previous is not None:
            xunit.addnote(f"Approved before: {found.previous}", origin="developer")
        count += 1
    write_atomic(output, bytes(out))
    return count


def _msgid(unit) -> str:
    source = unit.source
    return str(source.strings[0]) if hasattr(source, "strings") else str(source)


def _strings(value) -> list[str]:
    return [str(s) for s in value.strings] if hasattr(value, "strings") else [str(value or "")]


def _line(unit) -> int | None:
    return getattr(getattr(unit, "xmlelement", None), "sourceline", None)


def import_file(project: Project, language: str, source: Path) -> int:
    """Take the changed translations of ``source`` into the catalog; returns how many. A unit
    that fails a gate, or is not in the catalog, refuses the whole file (CatalogError)."""
    tr = load_language(project, language)
    path = catalog_path(project.locales, language)
    try:
        xliff = PoXliff.parsestring(source.read_bytes())
    except Exception as exc:  # lxml and translate-toolkit raise many kinds for a broken file
        raise UsageError(f"not an XLIFF file this command can read: {exc}"[:400], source) from None
    before = path.read_bytes()
    store = po.pofile(before)
    by_id = {(u.getcontext(), _msgid(u)): u for u in store.units if not u.isheader()}
    problems, changed = [], 0
    for xunit in xliff.units:
        if xunit.isheader():
            continue
        unit = by_id.get((xunit.getcontext(), _msgid(xunit)))
        if unit is None:
            problems.append(
                f"{source}:{_line(xunit)}: error: {_msgid(xunit)[:70]!r} is not in the "
                "catalog (export again after 'handouts i18n update')"
            )
            continue
        nplurals = tr.catalog.num_plurals if tr.catalog is not None else 1
        targets = _strings(xunit.target)
        if unit.hasplural():  # a group has a trans-unit per English form, whatever the language has
            targets = targets[:nplurals]
        if not any(t.strip() for t in targets) or (
            targets == _strings(unit.target) and xunit.isfuzzy() == unit.isfuzzy()
        ):
            continue  # left empty, or as it is: nothing to take
        problems += _gate(unit, targets, source, _line(xunit), nplurals)
        problems += _glyphs(language, targets, source, _line(xunit))
        _take(unit, xunit, targets)
        changed += 1
    if problems:
        raise CatalogError(
            "the XLIFF file was not imported; nothing in the catalog changed:\n"
            + "\n".join(f"  {p}" for p in problems),
            source,
        )
    if changed:
        _write_checked(project, language, path, bytes(store), before)
    return changed


def _gate(unit, targets: list[str], source: Path, line: int | None, nplurals: int) -> list[str]:
    """Every gate the build applies to a translation, on each form."""
    sources = _strings(unit.source)
    shared = not from_content(unit.getlocations())
    if unit.hasplural() and len(targets) != nplurals:
        return [
            f"{source}:{line}: error: {sources[0][:70]!r}: {len(targets)} plural forms, the "
            f"catalog's Plural-Forms says {nplurals}"
        ]
    pairs = [(sources[-1], t) for t in targets] if unit.hasplural() else [(sources[0], targets[0])]
    return [
        f"{source}:{line}: error: {text} (msgid {sources[0][:70]!r})"
        for msgid, target in pairs
        for text in entry_problems(msgid, target, formatted=shared)
    ]


def _glyphs(language: str, targets: list[str], source: Path, line: int | None) -> list[str]:
    """The glyph gate of ``handouts check``: a character none of the language's fonts has
    would print as an empty box."""
    from .check import missing_glyphs  # check imports a slow library: only here

    missing = missing_glyphs(language, targets)
    return [
        f"{source}:{line}: error: no font covers U+{ord(c):04X} {c!r} in '{language}'; it would print as an empty box"
        for c in missing
    ]


def _take(unit, xunit, targets: list[str]) -> None:
    unit.target = targets if unit.hasplural() else targets[0]
    fuzzy = xunit.isfuzzy()
    unit.markfuzzy(fuzzy)
    if not fuzzy:  # as msgmerge users do: the old English goes with the fuzzy flag
        unit.prev_msgctxt, unit.prev_msgid, unit.prev_msgid_plural = [], [], []


def _write_checked(project: Project, language: str, path: Path, data: bytes, before: bytes) -> None:
    """Write the catalog, then read it as the build does; put the old one back if that fails."""
    write_atomic(path, data)
    try:
        load_translator(project.locales, language, shared_msgids(project.pot))
    except CatalogError:
        write_atomic(path, before)
        raise

"""``handouts i18n export LANG --format xliff|xliff2`` and ``handouts i18n import LANG FILE``.

For translators whose tools read XLIFF rather than gettext (CAT tools such as Trados, memoQ,
Phrase, OmegaT). Two formats, both with the units needing work only (not approved, changed
since approval, or untranslated), the safety-critical ones first, each with notes: what its
placeholders mean (the catalog's notes), its safety mark, the gates' findings, the
glossary's terms it holds (``locales/<lang>/glossary.tbx``) and the last approved
translation.

- ``xliff`` (the default): XLIFF 1.2, written and read by translate-toolkit (its
  PO-flavoured XLIFF: plural entries as ``x-gettext-plurals`` groups), without its
  ``approved="yes"`` (which it writes for "not fuzzy"; XLIFF means final by it): the
  target's ``state`` says whether a translation is finished.
- ``xliff2``: XLIFF 2.0, written with :mod:`xml.etree.ElementTree` (translate-toolkit 3.20
  writes a 2.0 unit's notes inside its segment, where the schema does not allow them). A
  unit's id is its approval key (a hash of msgctxt and msgid, as in ``approvals.toml``); its
  segment's state is ``initial`` (untranslated or fuzzy), ``translated`` or ``reviewed``
  (approved); notes carry a ``category``. A plural entry is a group of the same id with a
  unit per plural form of the language (``<id>-<form>``), each saying which numbers use it.

Import reads either format (XLIFF 1.1 files of earlier exports too) and changes only the
translations that differ from the catalog, each checked by every translation gate first; one
failing gate refuses the whole file and nothing is written. A state of ``reviewed`` or
``final`` approves nothing: approvals are recorded by ``handouts i18n approve``. The catalog
is rewritten by translate-toolkit, which keeps every other byte as it was, and passed through
GNU ``msgcat`` so that a changed entry is wrapped as ``msgmerge`` wraps it (a round trip leaves
the file byte for byte the same, also when the translations were emptied in between).
"""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Message
from lxml import etree
from translate.convert.po2xliff import po2xliff
from translate.storage import po, poxliff

from .approvals import APPROVED, UNTRANSLATED, unit_key
from .errors import CatalogError, UsageError
from .glossary import Glossary, fold, load_glossary, take
from .output import write_atomic
from .plurals import choices
from .project import Project
from .review import PacketUnit, build_packet, load_language
from .translation import catalog_path, load_translator, safety_msgids, shared_msgids

FORMATS = ("xliff", "xliff2")
XLIFF12_NS = "urn:oasis:names:tc:xliff:document:1.2"
XLIFF2_NS = "urn:oasis:names:tc:xliff:document:2.0"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
SAFETY_NOTE = (
    "SAFETY-CRITICAL: a patient acts on this sentence (when to get help, what not to do). "
    "Translate it exactly and plainly."
)
#: how many of the numbers that use a plural form its note names
PLURAL_EXAMPLES = 6
#: a segment's state in XLIFF 2.0 by the unit's review status; a fuzzy entry is "initial"
STATE2 = {UNTRANSLATED: "initial", APPROVED: "reviewed"}


class PoXliff(poxliff.PoXliffFile):
    """translate-toolkit's PO-flavoured XLIFF. It builds plural groups with XLIFF 1.1 elements
    whatever the store declares, so the file is built as 1.1 and then declared 1.2
    (:func:`as_xliff12`): every element it writes is a 1.2 element too. It reads 1.1 and 1.2
    (the namespace of the file it is given)."""


def as_xliff12(data: bytes) -> bytes:
    """An XLIFF 1.1 document (translate-toolkit's) as XLIFF 1.2: the same elements in the 1.2
    namespace, ``version="1.2"``."""
    old = etree.fromstring(data, _parser())
    root = etree.Element(f"{{{XLIFF12_NS}}}xliff", nsmap={None: XLIFF12_NS}, version="1.2")
    root.text = old.text
    for child in list(old):
        for element in child.iter(tag=etree.Element):
            element.tag = f"{{{XLIFF12_NS}}}{etree.QName(element).localname}"
        root.append(child)
    for group in root.iter(f"{{{XLIFF12_NS}}}group"):
        _schema_shaped(group)
    for unit in root.iter(f"{{{XLIFF12_NS}}}trans-unit"):
        # translate-toolkit writes approved="yes" for "not fuzzy"; in XLIFF it means a final,
        # reviewed translation (CAT tools lock it): these units await review. The target's
        # state says translated or not.
        unit.attrib.pop("approved", None)
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _schema_shaped(group: etree._Element) -> None:
    """A plural group as the 1.2 schema has it: no ``approved`` (its trans-units say it), its
    notes before its trans-units (translate-toolkit appends them)."""
    group.attrib.pop("approved", None)
    first = group.find(f"{{{XLIFF12_NS}}}trans-unit")
    for note in group.findall(f"{{{XLIFF12_NS}}}note"):
        if first is not None:
            first.addprevious(note)


# -- notes --------------------------------------------------------------------------------


def notes(found: PacketUnit, glossary: Glossary | None) -> list[tuple[str, str]]:
    """(category, text) of each note a unit's export carries, after the catalog's own."""
    found_notes = [("safety", SAFETY_NOTE)] if found.safety else []
    found_notes += [("check", f"Check: {finding}") for finding in found.findings]
    terms = glossary_terms(glossary, found.source)
    if terms:
        found_notes.append(("glossary", "Glossary: " + "; ".join(terms)))
    if found.previous is not None:
        found_notes.append(("approved-before", f"Approved before: {found.previous}"))
    return found_notes


def glossary_terms(glossary: Glossary | None, source: str) -> list[str]:
    """ "English = approved rendering(s)" for each glossary term the source holds."""
    if glossary is None:
        return []
    english = fold(source)
    return [
        f"{' / '.join(term.source)} = {' / '.join(term.renderings)}"
        for term in glossary.terms
        if take(english, [fold(s) for s in term.source])[1]
    ]


# -- export -------------------------------------------------------------------------------


def export(project: Project, language: str, output: Path, format: str = "xliff") -> int:
    """Write the units needing work to ``output`` in ``format``; returns how many."""
    if format not in FORMATS:
        raise UsageError(f"--format: {format!r} is not one of {', '.join(FORMATS)}")
    packet = build_packet(project, language)
    glossary = load_glossary(project.locales, language)
    if format == "xliff2":
        data = export2(project, language, packet.units, glossary)
    else:
        data = export12(project, language, packet.units, glossary)
    write_atomic(output, data)
    return len(packet.units)


def export12(project: Project, language: str, found: list[PacketUnit], glossary: Glossary | None) -> bytes:
    """XLIFF 1.2 through translate-toolkit, in the catalog's order."""
    wanted = {u.state.msgid: u for u in found}
    path = catalog_path(project.locales, language)
    store = po.pofile(path.read_bytes())
    out = PoXliff(sourcelanguage="en", targetlanguage=language.replace("_", "-"))
    converter = po2xliff()
    for unit in store.units:
        if unit.isheader() or unit.isblank() or _msgid(unit) not in wanted:
            continue
        xunit = converter.convertunit(out, unit, path.name)
        for _, text in notes(wanted[_msgid(unit)], glossary):
            xunit.addnote(text, origin="developer")
    return as_xliff12(bytes(out))


def _q(name: str) -> str:
    return f"{{{XLIFF2_NS}}}{name}"


def export2(project: Project, language: str, found: list[PacketUnit], glossary: Glossary | None) -> bytes:
    """XLIFF 2.0 with ElementTree, in the packet's order (safety-critical units first)."""
    tr = load_language(project, language)
    assert tr.catalog is not None
    # unqualified tags under an xmlns attribute: ElementTree's prefix registry is shared with other
    # libraries (WeasyPrint's) and would otherwise decide the prefix
    root = ET.Element("xliff", {"xmlns": XLIFF2_NS, "version": "2.0", "srcLang": "en", "trgLang": tr.html_lang})
    original = catalog_path(project.locales, language).relative_to(project.root).as_posix()
    file = ET.SubElement(root, "file", {"id": "f1", "original": original, XML_SPACE: "preserve"})
    forms = _plural_forms(tr.catalog.num_plurals, tr.catalog.plural_expr)
    for unit in found:
        message = unit.state.message
        unit_notes = [("placeholders", n) for n in unit.notes] + notes(unit, glossary)
        state = STATE2.get(unit.state.status, "initial" if message.fuzzy else "translated")
        if not message.pluralizable:
            _unit2(file, unit.state.key, unit_notes, state, str(message.id), str(message.string or ""))
            continue
        group = ET.SubElement(file, "group", {"id": unit.state.key, "type": "gettext:plural"})
        _plural_units2(group, unit.state.key, message, unit_notes, state, forms)
    ET.indent(root, "  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _plural_units2(
    group: ET.Element, key: str, message: Message, unit_notes: list[tuple[str, str]], state: str, forms: list[list[int]]
) -> None:
    """One unit per plural form of the language, each with the English form it stands for and
    a note on the numbers that use it."""
    singular, plural = (str(s) for s in message.id)
    strings = list(message.string or ())
    for form, numbers in enumerate(forms):
        used = ", ".join(map(str, numbers)) + (", ..." if len(numbers) == PLURAL_EXAMPLES else "")
        note = ("plural-form", f"Plural form {form + 1} of {len(forms)}: used for n = {used or 'no number'}")
        text = strings[form] if form < len(strings) else ""
        english = singular if 1 in numbers and 2 not in numbers else plural  # fr: 0 and 1; zh: all
        _unit2(group, f"{key}-{form}", [*unit_notes, note], state, english, text or "")


def _plural_forms(nplurals: int, expr: str) -> list[list[int]]:
    """For each plural form of the language, the first numbers that use it (1, 21, 31)."""
    chosen = choices(nplurals, expr) or tuple(int(n != 1) for n in range(200))
    return [[n for n, c in enumerate(chosen) if c == form][:PLURAL_EXAMPLES] for form in range(nplurals)]


def _unit2(parent: ET.Element, uid: str, unit_notes: list[tuple[str, str]], state: str, source: str, target: str):
    unit = ET.SubElement(parent, "unit", {"id": uid})
    if unit_notes:
        container = ET.SubElement(unit, "notes")
        for category, text in unit_notes:
            attrs = {"category": category} | ({"priority": "1"} if category == "safety" else {})
            ET.SubElement(container, "note", attrs).text = text
    segment = ET.SubElement(unit, "segment", {"state": state if target else "initial"})
    ET.SubElement(segment, "source").text = source
    if target:
        ET.SubElement(segment, "target").text = target


# -- import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    """One catalog entry's translation as an XLIFF file gives it."""

    key: str  # the entry's approval key (msgctxt and msgid, hashed)
    source: str  # the English, as the file has it (a plural entry's first form's)
    targets: list[str]  # one per plural form of the language, or one
    fuzzy: bool
    line: int | None


def import_file(project: Project, language: str, source: Path) -> int:
    """Take the changed translations of ``source`` (XLIFF 1.x or 2.x) into the catalog;
    returns how many. A unit that fails a gate, or is not in the catalog, refuses the whole
    file (CatalogError)."""
    tr = load_language(project, language)
    nplurals = tr.catalog.num_plurals if tr.catalog is not None else 1
    path = catalog_path(project.locales, language)
    before = path.read_bytes()
    store = po.pofile(before)
    by_key = {unit_key(_msgid(u), u.getcontext() or None): u for u in store.units if not u.isheader()}
    problems: list[str] = []
    changed: dict[str, int | None] = {}
    for incoming in read_xliff(source):
        unit = by_key.get(incoming.key)
        found = _unknown(unit, incoming, source)
        if found or unit is None:
            problems += found
            continue
        targets = incoming.targets[:nplurals] if unit.hasplural() else incoming.targets[:1]
        if not any(t.strip() for t in targets) or (
            targets == _strings(unit.target) and incoming.fuzzy == unit.isfuzzy()
        ):
            continue  # left empty, or as it is: nothing to take
        problems += _plural_count(unit, targets, source, incoming.line, nplurals)
        problems += _glyphs(language, targets, source, incoming.line)
        _take(unit, incoming.fuzzy, targets)
        changed[_msgid(unit)] = incoming.line
    if problems:
        raise _refused(problems, source)
    if changed:
        _write_checked(project, language, bytes(store), before, changed, source)
    return len(changed)


def _refused(problems: list[str], source: Path) -> CatalogError:
    return CatalogError(
        "the XLIFF file was not imported; nothing in the catalog changed:\n" + "\n".join(f"  {p}" for p in problems),
        source,
    )


def _unknown(unit, incoming: Incoming, source: Path) -> list[str]:
    """The error for a unit the catalog does not have, or has with other English."""
    if unit is None:
        return [
            f"{source}:{incoming.line}: error: {incoming.source[:70]!r} is not in the catalog "
            "(export again after 'handouts i18n update')"
        ]
    if incoming.source != _msgid(unit) and incoming.source != _strings(unit.source)[-1]:
        return [
            f"{source}:{incoming.line}: error: the English of {incoming.source[:70]!r} is not the "
            "catalog's; export again and translate the new file"
        ]
    return []


def read_xliff(source: Path) -> list[Incoming]:
    """The translations of an XLIFF file, by its version: 2.x here, 1.x by translate-toolkit."""
    try:
        root = etree.fromstring(source.read_bytes(), _parser())
    except (OSError, etree.XMLSyntaxError) as exc:
        raise UsageError(f"not an XLIFF file this command can read: {exc}"[:400], source) from None
    if root.tag == _q("xliff") and root.get("version", "").startswith("2."):
        return list(_read2(root, source))
    return list(_read1(source))


def _parser() -> etree.XMLParser:
    """An XML parser that fetches nothing and expands no entity (the file comes from outside)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _read1(source: Path) -> Iterator[Incoming]:
    try:
        xliff = PoXliff.parsestring(source.read_bytes())
    except Exception as exc:  # lxml and translate-toolkit raise many kinds for a broken file
        raise UsageError(f"not an XLIFF file this command can read: {exc}"[:400], source) from None
    for xunit in xliff.units:
        if not xunit.isheader():
            key = unit_key(_msgid(xunit), xunit.getcontext() or None)
            fuzzy = any(_fuzzy12(u) for u in (xunit.units if xunit.hasplural() else [xunit]))
            yield Incoming(key, _msgid(xunit), _strings(xunit.target), fuzzy, _line(xunit))


#: target states of XLIFF 1.2 that are not a finished translation: taken as fuzzy
UNFINISHED12 = frozenset({"new", "needs-translation", "needs-adaptation", "needs-l10n"}) | frozenset(
    {"needs-review-translation", "needs-review-adaptation", "needs-review-l10n"}
)


def _fuzzy12(unit) -> bool:
    """A 1.x trans-unit with a target is fuzzy when its target's state is unfinished, or, with
    no state, when it is not approved (translate-toolkit's own files)."""
    target = unit.getlanguageNode(lang=None, index=1)
    if target is None or not unit.target:
        return False
    state = target.get("state")
    return state in UNFINISHED12 if state else unit.xmlelement.get("approved") != "yes"


def _read2(root: etree._Element, source: Path) -> Iterator[Incoming]:
    """Each ``unit`` of an XLIFF 2 file as an entry; a plural group's units as one."""
    forms: dict[str, list[tuple[int, etree._Element]]] = {}
    for unit in root.iter(_q("unit")):
        uid = unit.get("id") or ""
        key, dash, form = uid.partition("-")
        if dash and form.isdigit():
            forms.setdefault(key, []).append((int(form), unit))
        else:
            yield _incoming(key, [unit], source)
    for key, units in forms.items():
        units.sort(key=lambda pair: pair[0])
        if [form for form, _ in units] != list(range(len(units))):
            raise UsageError(f"plural group {key}: its units must be {key}-0, {key}-1, ... in full", source)
        yield _incoming(key, [unit for _, unit in units], source)


def _incoming(key: str, units: list[etree._Element], source: Path) -> Incoming:
    targets, states = [], []
    for unit in units:
        segment = unit.find(_q("segment"))
        if segment is None or segment.find(_q("source")) is None:
            raise UsageError(f"unit {unit.get('id')!r} has no segment with a source", source)
        target = segment.find(_q("target"))
        targets.append("".join(target.itertext()) if target is not None else "")
        states.append(segment.get("state", "initial"))
    first = units[0].find(f"{_q('segment')}/{_q('source')}")
    english = "".join(first.itertext()) if first is not None else ""
    fuzzy = any(state == "initial" for state, target in zip(states, targets, strict=True) if target)
    return Incoming(key, english, targets, fuzzy, units[0].sourceline)


def _msgid(unit) -> str:
    source = unit.source
    return str(source.strings[0]) if hasattr(source, "strings") else str(source)


def _strings(value) -> list[str]:
    return [str(s) for s in value.strings] if hasattr(value, "strings") else [str(value or "")]


def _line(unit) -> int | None:
    return getattr(getattr(unit, "xmlelement", None), "sourceline", None)


def _plural_count(unit, targets: list[str], source: Path, line: int | None, nplurals: int) -> list[str]:
    """A plural entry needs a form for each of the language's plural forms."""
    if unit.hasplural() and len(targets) != nplurals:
        return [
            f"{source}:{line}: error: {_msgid(unit)[:70]!r}: {len(targets)} plural forms, the "
            f"catalog's Plural-Forms says {nplurals}"
        ]
    return []


def _glyphs(language: str, targets: list[str], source: Path, line: int | None) -> list[str]:
    """The glyph gate of ``handouts check``: a character none of the language's fonts has
    would print as an empty box."""
    from .check import missing_glyphs  # check imports a slow library: only here

    missing = missing_glyphs(language, targets)
    return [
        f"{source}:{line}: error: no font covers U+{ord(c):04X} {c!r} in '{language}'; it would print as an empty box"
        for c in missing
    ]


def _take(unit, fuzzy: bool, targets: list[str]) -> None:
    unit.target = targets if unit.hasplural() else targets[0]
    unit.markfuzzy(fuzzy)
    if not fuzzy:  # as msgmerge users do: the old English goes with the fuzzy flag
        unit.prev_msgctxt, unit.prev_msgid, unit.prev_msgid_plural = [], [], []


def as_msgmerge_writes(data: bytes) -> bytes:
    """The catalog as GNU gettext writes it (``msgcat``, the writer of ``msgmerge``, with which
    ``i18n update`` writes every catalog): translate-toolkit wraps a changed entry its own way.
    Unchanged when msgcat is missing or cannot read it (the gates then say why)."""
    if shutil.which("msgcat") is None:
        return data
    proc = subprocess.run(["msgcat", "-"], input=data, capture_output=True)
    return proc.stdout if proc.returncode == 0 and proc.stdout else data


def _write_checked(
    project: Project, language: str, data: bytes, before: bytes, changed: dict[str, int | None], source: Path
) -> None:
    """Write the catalog, then read and check it as the build does (msgfmt and every gate,
    the glossary's included); put the old one back if the catalog or a changed entry fails."""
    path = catalog_path(project.locales, language)
    write_atomic(path, as_msgmerge_writes(data))
    try:
        tr = load_translator(project.locales, language, shared_msgids(project.pot), safety_msgids(project.content))
    except CatalogError:
        write_atomic(path, before)
        raise
    problems = [
        f"{source}:{line}: error: {problem.message} (msgid {msgid[:70]!r})"
        for msgid, line in changed.items()
        for problem in tr.problems.get(msgid, ())
    ]
    if problems:
        write_atomic(path, before)
        raise _refused(problems, source)

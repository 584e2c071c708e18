"""The medical translator's review: ``handouts i18n review LANG`` and ``i18n approve LANG``.

``review`` writes a packet, an HTML page (opens from the folder, prints) and the same as a
PDF, listing every unit of the language that is not approved as it is now: safety-critical
units first, then by handout section, each with its English, its translation, the last
approved translation (a word diff), the handouts that print it, the gates' findings and a
space for a back-translation. The page carries the hashes of what it showed, so that
``approve --from-packet`` approves only units that are still exactly what the reviewer read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from .approvals import (
    APPROVED,
    CHANGED,
    NEW,
    UNTRANSLATED,
    Approval,
    UnitState,
    approvals_path,
    approved_msgids,
    format_approvals,
    read_approvals,
    route_units,
    source_hash,
    translation_hash,
    translation_text,
    unit_states,
)
from .content import Content, load_content
from .errors import HandoutError, UsageError
from .gates import entry_warnings
from .output import write_atomic
from .project import Project
from .segments import units
from .translation import (
    SOURCE_LANGUAGE,
    Translator,
    catalog_path,
    load_translator,
    read_catalog,
    read_review,
    shared_msgids,
)
from .verify import safety_units

TEMPLATE = "review.html"
PACKET_DATA_ID = "handouts-review-packet"
PACKET_FORMAT = 1
EVERY_HANDOUT = "On every handout (labels, page footer, notices)"
HANDOUT_TITLES = "Handout titles"
_DATA_RE = re.compile(r'<script type="application/json" id="' + PACKET_DATA_ID + r'">(.*?)</script>', re.S)


@dataclass(frozen=True)
class PacketUnit:
    state: UnitState
    section: str
    safety: bool
    source: str
    translation: str | None
    previous: str | None  # the last approved translation, when it differs
    old_source: str | None  # the English before msgmerge marked the unit fuzzy
    handouts: tuple[str, ...]  # "iv (standard, large, bilingual)"
    findings: tuple[str, ...]  # the gates' errors and warnings
    notes: tuple[str, ...]  # the catalog's notes for translators (placeholders)
    line: int | None

    @property
    def diff(self) -> Markup:
        return word_diff(self.previous or "", self.translation or "")

    @property
    def data(self) -> dict:
        """What the packet records of the unit for ``approve --from-packet``."""
        message = self.state.message
        return {
            "key": self.state.key,
            "msgid": self.state.msgid,
            "source": source_hash(message),
            "translation": translation_hash(message) if self.translation is not None else None,
        }


@dataclass
class Packet:
    language: str
    native_name: str
    direction: str
    html_lang: str
    whole_language_approved: bool
    units: list[PacketUnit] = field(default_factory=list)
    #: route -> (units it prints, of them not approved)
    progress: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def sections(self) -> list[tuple[str, list[PacketUnit]]]:
        grouped: dict[str, list[PacketUnit]] = {}
        for unit in self.units:
            if not unit.safety:
                grouped.setdefault(unit.section, []).append(unit)
        return list(grouped.items())

    @property
    def safety(self) -> list[PacketUnit]:
        return [u for u in self.units if u.safety]


#: a run of spaces, one Han or kana character (Chinese and Japanese write no spaces: a whole
#: sentence would otherwise be one "word"), or anything else up to the next of those
_TOKEN_RE = re.compile(r"\s+|[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def word_diff(before: str, after: str) -> Markup:
    """``after`` with the words removed since ``before`` struck out and the new ones marked."""
    old, new = _TOKEN_RE.findall(before), _TOKEN_RE.findall(after)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            out.append(Markup("<del>{}</del>").format("".join(old[i1:i2])))
        if op in ("replace", "insert"):
            out.append(Markup("<ins>{}</ins>").format("".join(new[j1:j2])))
        if op == "equal":
            out.append(escape("".join(new[j1:j2])))
    return Markup("").join(out)


def _sections(content: Content) -> tuple[dict[str, str], set[str], dict[str, list[str]]]:
    """Where each content msgid first appears (its section), which are safety-critical, and
    the routes that print each."""
    section: dict[str, str] = {}
    safety: set[str] = set()
    routes: dict[str, list[str]] = {}
    for route in content.routes.values():
        section.setdefault(route.title, HANDOUT_TITLES)
        section.setdefault(route.subtitle, HANDOUT_TITLES)
        current = route.title
        for block in route.blocks:
            current = block.title or current
            name = f"{current} ({block.id})"
            if block.title:
                section.setdefault(block.title, name)
            for unit in units(block.body, block.body_line):
                section.setdefault(unit.text, name)
            safety |= safety_units(block)
        for msgid in route_units(route):
            routes.setdefault(msgid, []).append(route.id)
    return section, safety, routes


def _editions(project: Project, language: str) -> dict[str, list[str]]:
    """route -> the editions of this language the clinics print (every route when no clinic
    offers the language yet)."""
    from .build import load_clinics, plan  # the build module is heavy; only the packet needs it

    broken: list = []
    try:
        jobs = plan(load_clinics(project, (), broken))
    except UsageError:
        jobs = []
    found: dict[str, list[str]] = {}
    for job in jobs:
        if language in (job.language, job.second) and job.edition not in found.get(job.route, []):
            found.setdefault(job.route, []).append(job.edition)
    return found


def _previous_ids(path: Path) -> dict[str, str]:
    """msgid -> the English msgmerge kept in ``#|`` comments (Babel does not read them)."""
    from translate.storage import po

    store = po.pofile(path.read_bytes())
    found = {}
    for unit in store.units:
        old = unit.prev_source
        if old:
            new = str(getattr(unit.source, "strings", [unit.source])[0])
            found[new] = str(getattr(old, "strings", [old])[0])
    return found


def load_language(project: Project, language: str) -> Translator:
    if language == SOURCE_LANGUAGE:
        raise UsageError("English is the source language: there is nothing to review")
    if not (project.locales / language).is_dir():
        raise UsageError(f"no catalog for '{language}' (start one with 'handouts i18n init {language}')")
    return load_translator(project.locales, language, shared_msgids(project.pot))


def current_states(project: Project, tr: Translator) -> list[UnitState]:
    assert tr.catalog is not None and tr.path is not None
    approvals = read_approvals(approvals_path(project.locales, tr.language))
    return list(unit_states(tr.catalog, approvals, _previous_ids(tr.path)))


def build_packet(project: Project, language: str) -> Packet:
    tr = load_language(project, language)
    content = load_content(project.content)
    section, safety, routes = _sections(content)
    shared = set(shared_msgids(project.pot))
    editions = _editions(project, language)
    findings = _findings(tr)
    packet = Packet(
        language,
        tr.native_name,
        tr.direction,
        tr.html_lang,
        not tr.review.is_draft_for(max(r.reviewed for r in content.routes.values())),
    )
    states = current_states(project, tr)
    packet.progress = _progress(printed_units(content, shared), {s.msgid for s in states if s.status == APPROVED})
    for state in states:
        if state.status == APPROVED or not (state.msgid in routes or state.msgid in shared):
            continue
        route_ids = routes.get(state.msgid, list(content.routes))
        packet.units.append(
            _packet_unit(
                state, tr, section.get(state.msgid, EVERY_HANDOUT), state.msgid in safety, route_ids, editions, findings
            )
        )
    order = {name: i for i, name in enumerate(dict.fromkeys([*section.values(), EVERY_HANDOUT]))}
    packet.units.sort(key=lambda u: (not u.safety, order.get(u.section, len(order))))
    return packet


def _findings(tr: Translator) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for msgid, problems in tr.problems.items():
        found.setdefault(msgid, []).extend(f"error: {p.message}" for p in problems)
    assert tr.catalog is not None
    for warning in entry_warnings(tr.path, tr.catalog):
        if warning.msgid:
            found.setdefault(warning.msgid, []).append(f"warning: {warning.message}")
    return found


def _packet_unit(
    state: UnitState,
    tr: Translator,
    section: str,
    safety: bool,
    route_ids: list[str],
    editions: dict[str, list[str]],
    findings: dict[str, list[str]],
) -> PacketUnit:
    message = state.message
    source = " / ".join(message.id) if isinstance(message.id, (tuple, list)) else str(message.id)
    written = translation_text(message)  # a fuzzy entry's too: the old translation to update
    translation = written.replace("\0", " / ") if written.strip("\0 ") else None
    previous = state.previous.text.replace("\0", " / ") if state.previous else None
    old_source = state.previous.msgid if state.previous and state.previous.msgid != state.msgid else None
    by_editions: dict[str, list[str]] = {}
    for r in route_ids:
        by_editions.setdefault(", ".join(editions.get(r, ["no clinic prints it yet"])), []).append(r)
    handouts = tuple(f"{', '.join(rs)} ({what})" for what, rs in by_editions.items())
    notes = tuple(c for c in message.auto_comments if c.strip())
    return PacketUnit(
        state,
        section,
        safety,
        source,
        translation,
        previous if previous != translation else None,
        old_source,
        handouts,
        tuple(findings.get(state.msgid, ())),
        notes,
        message.lineno,
    )


def render_packet(packet: Packet, project: Project) -> str:
    from .html import font_family

    env = Environment(
        loader=FileSystemLoader(project.templates),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    data = json.dumps(
        {"format": PACKET_FORMAT, "language": packet.language, "units": [u.data for u in packet.units]},
        ensure_ascii=True,
        sort_keys=True,
    )
    return env.get_template(TEMPLATE).render(
        packet=packet,
        font_family=Markup(font_family(packet.language, "en")),
        data=Markup(data.replace("<", "\\u003c")),
        data_id=PACKET_DATA_ID,
        CHANGED=CHANGED,
        NEW=NEW,
    )


def write_packet(project: Project, language: str, out_dir: Path, pdf: bool = True) -> tuple[Packet, list[Path]]:
    """Write ``<out_dir>/<lang>.html`` and (through the one WeasyPrint module) ``<lang>.pdf``."""
    packet = build_packet(project, language)
    html = render_packet(packet, project)
    written = [out_dir / f"{language}.html"]
    write_atomic(written[0], html.encode("utf-8"))
    if pdf:
        from .html import HandoutDocument
        from .pdf import render_pdf

        templates = project.templates.resolve()
        rendered = render_pdf(
            HandoutDocument(html=html, language=packet.html_lang, base_url=templates, asset_roots=(templates,)),
            time_limit=600,
        )
        written.append(out_dir / f"{language}.pdf")
        write_atomic(written[1], rendered.data)
    return packet, written


def summary(packet: Packet) -> str:
    lines = [f"{len(packet.units)} unit(s) of '{packet.language}' to review ({len(packet.safety)} safety-critical)"]
    for route, (total, left) in packet.progress.items():
        lines.append(f"  {route}: " + ("approved" if not left else f"{left} of {total} units to approve"))
    return "\n".join(lines)


# -- approve ------------------------------------------------------------------------------


def read_packet(path: Path, language: str) -> dict[str, dict]:
    """The units a packet showed, by key, as it recorded them."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the packet: {exc}", path) from None
    match = _DATA_RE.search(text)
    try:
        data = json.loads(match.group(1) if match else "")
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("format") != PACKET_FORMAT:
        raise UsageError("not a review packet written by 'handouts i18n review' (give its .html file)", path)
    if data.get("language") != language:
        raise UsageError(f"this packet is for '{data.get('language')}', not '{language}'", path)
    units = data.get("units")
    if not isinstance(units, list) or not all(isinstance(u, dict) and isinstance(u.get("key"), str) for u in units):
        raise UsageError("the packet's unit list is damaged; write a new one with 'handouts i18n review'", path)
    return {u["key"]: u for u in units}


@dataclass
class ApproveResult:
    approved: list[UnitState] = field(default_factory=list)
    changed: list[UnitState] = field(default_factory=list)  # since the packet: not approved
    refused: list[UnitState] = field(default_factory=list)  # untranslated or failing a gate
    missing: list[str] = field(default_factory=list)  # in the packet, gone from the catalog


def approve(
    project: Project, language: str, reviewer: str, packet: Path | None, today: dt.date | None = None
) -> ApproveResult:
    """Record approvals: of the units a packet showed that are still exactly as shown (or,
    without a packet, of every unit awaiting review), unless untranslated or failing a gate."""
    reviewer = reviewer.strip()
    if not reviewer:
        raise UsageError("--reviewer: give the medical translator's name and credentials")
    tr = load_language(project, language)
    every = current_states(project, tr)
    states = [s for s in every if s.status != APPROVED]
    shown = read_packet(packet, language) if packet is not None else None
    result = ApproveResult()
    if shown is not None:
        result.missing = sorted(str(u.get("msgid")) for k, u in shown.items() if k not in {s.key for s in every})
    path = approvals_path(project.locales, language)
    records = read_approvals(path)
    lists = {"refused": result.refused, "changed": result.changed, "approved": result.approved}
    for state in states:
        verdict = _verdict(state, shown.get(state.key) if shown is not None else {}, shown is not None, tr)
        if verdict is None:
            continue
        lists[verdict].append(state)
        if verdict == "approved":
            records[state.key] = _record(state, reviewer, today or dt.date.today())
    if result.approved:
        write_atomic(path, format_approvals(records.values()).encode("utf-8"))
    return result


def _verdict(state: UnitState, seen: dict | None, packet: bool, tr: Translator) -> str | None:
    """What approving a unit does: None where a packet did not show it (or, without a packet,
    where it is untranslated), else "refused" (not new or changed, or failing a gate),
    "changed" (not as the packet showed it) or "approved"."""
    if seen is None or (not packet and state.status == UNTRANSLATED):
        return None
    if state.status not in (NEW, CHANGED) or tr.problems.get(state.msgid):
        return "refused"
    if packet and (
        seen.get("source") != source_hash(state.message) or seen.get("translation") != translation_hash(state.message)
    ):
        return "changed"
    return "approved"


def _record(state: UnitState, reviewer: str, day: dt.date) -> Approval:
    message = state.message
    return Approval(
        state.key,
        state.msgid,
        source_hash(message),
        translation_hash(message),
        translation_text(message),
        reviewer,
        day,
    )


def describe(result: ApproveResult, path: Path | None) -> Iterable[str]:
    yield f"approved {len(result.approved)} unit(s)"
    for state in result.changed:
        yield (
            f"{path}:{state.message.lineno}: warning: changed since the packet was written, not "
            f"approved: {state.msgid[:70]!r}; write a new packet with 'handouts i18n review'"
        )
    for state in result.refused:
        yield (
            f"{path}:{state.message.lineno}: warning: not approved ({state.status}, or a gate "
            f"refuses it; see 'handouts check'): {state.msgid[:70]!r}"
        )
    for msgid in result.missing:
        yield f"warning: no longer in the catalog, not approved: {msgid[:70]!r}"


def printed_units(content: Content, shared: Iterable[str]) -> dict[str, frozenset[str]]:
    """route -> the units its handouts print (its own and every handout's labels)."""
    common = frozenset(shared)
    return {route.id: common | frozenset(route_units(route)) for route in content.routes.values()}


def _progress(printed: dict[str, frozenset[str]], approved: set[str] | frozenset[str]) -> dict[str, tuple[int, int]]:
    """route -> (units it prints, of them not approved: pending, or not in the catalog)."""
    return {route: (len(units), len(units - approved)) for route, units in printed.items()}


def progress(
    project: Project,
    language: str,
    content: Content | None = None,
    *,
    catalog: Catalog | None = None,
    printed: dict[str, frozenset[str]] | None = None,
) -> dict[str, tuple[int, int]]:
    """route -> (units it prints, of them not approved); {} when the catalog, its approvals or
    the content cannot be read ('handouts check' says why). ``catalog`` (the language's, as
    read) and ``printed`` (:func:`printed_units`) spare reading them again for each language."""
    try:
        catalog = catalog or read_catalog(catalog_path(project.locales, language), language)
        approved = approved_msgids(catalog, read_approvals(approvals_path(project.locales, language)))
        if printed is None:
            printed = printed_units(content or load_content(project.content), shared_msgids(project.pot))
    except HandoutError:
        return {}
    return _progress(printed, approved)


# -- the i18n subcommands -------------------------------------------------------------------

COMMANDS = ("review", "approve", "export", "import")


def add_commands(isub) -> None:
    """``handouts i18n review|approve|export|import``."""
    r = isub.add_parser("review", help="write the medical translator's review packet (HTML and PDF)")
    r.add_argument("language", help="a Babel language id such as fr or pt_BR")
    r.add_argument("--output", type=Path, metavar="DIR", help="folder for LANG.html and LANG.pdf (default: review/)")
    r.add_argument("--no-pdf", action="store_true", help="write the HTML page only")
    a = isub.add_parser("approve", help="record a medical translator's approval of units")
    a.add_argument("language")
    a.add_argument("--reviewer", required=True, metavar="NAME", help="name and credentials")
    a.add_argument(
        "--from-packet",
        type=Path,
        metavar="FILE",
        help="the packet's .html: approves only the units still as it showed them",
    )
    e = isub.add_parser("export", help="write the units needing work as XLIFF 1.2 or 2.0")
    e.add_argument("language")
    e.add_argument(
        "--format",
        choices=("xliff", "xliff2"),
        default="xliff",
        help="xliff: XLIFF 1.2 (translate-toolkit; the default); xliff2: XLIFF 2.0",
    )
    e.add_argument("--output", type=Path, required=True, metavar="FILE")
    i = isub.add_parser("import", help="take translations from an XLIFF file (1.x or 2.x), every gate applied")
    i.add_argument("language")
    i.add_argument("file", type=Path, metavar="FILE")


def run_command(project: Project, args: argparse.Namespace) -> int:
    """Exit 0, or 1 when a unit a packet showed was not approved (changed since, untranslated,
    failing a gate, gone); a refused import raises (exit 2)."""
    from . import xliff

    if args.i18n_command == "review":
        packet, paths = write_packet(
            project, args.language, args.output or project.root / "review", pdf=not args.no_pdf
        )
        print(summary(packet))
        print("wrote " + ", ".join(map(str, paths)))
    elif args.i18n_command == "approve":
        result = approve(project, args.language, args.reviewer, args.from_packet)
        print("\n".join(describe(result, catalog_path(project.locales, args.language))))
        return 1 if result.changed or result.missing or (args.from_packet and result.refused) else 0
    elif args.i18n_command == "export":
        count = xliff.export(project, args.language, args.output, args.format)
        print(f"wrote {args.output}: {count} unit(s) needing work")
    else:
        print(f"imported {xliff.import_file(project, args.language, args.file)} changed translation(s)")
    return 0


def whole_language_approved(project: Project, language: str, content: Content | None = None) -> bool:
    """review.toml approves the whole language, and no content changed after it."""
    try:
        review = read_review(project.locales / language / "review.toml")
        newest = max(r.reviewed for r in (content or load_content(project.content)).routes.values())
    except HandoutError:
        return False
    return not review.is_draft_for(newest)


def approval_line(stats) -> str:
    """``i18n stats``: each handout of a language, approved or how many units it still needs."""
    if stats.language_approved:
        return f"{stats.language}: every handout approved (review.toml)"
    parts = [
        f"{route} {'approved' if not left else f'{left}/{total} to approve'}"
        for route, (total, left) in stats.to_approve.items()
    ]
    return f"{stats.language}: " + (", ".join(parts) or "approvals cannot be read (see 'handouts check')")

"""``handouts check``: validate content, catalogs and clinics without rendering."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

from .build import compose_job
from .content import Block, Content, load_content
from .errors import BrokenTranslation, CatalogError, ConfigError, HandoutError, format_diagnostic
from .fonts import fonts_for, printable
from .gates import msgid_of
from .jobs import Job, load_clinics, plan
from .project import Project
from .segments import PLACEHOLDER_RE, units
from .translation import Translator, Translators, available_languages

with warnings.catch_warnings():  # textstat 0.7.4 imports the deprecated pkg_resources
    warnings.simplefilter("ignore", UserWarning)
    import textstat

MAX_GRADE = 8.0


@dataclass(frozen=True)
class Finding:
    severity: str  # "error", "warning" or "note"
    text: str


def reading_grade(block: Block) -> float:
    """Flesch-Kincaid grade of a block's text; headings and list items count as sentences."""
    sentences = []
    for unit in units(block.body):
        text = PLACEHOLDER_RE.sub("the clinic", unit.text)
        text = re.sub(r"[*_`]+", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)).strip()
        sentences.append(text if text.endswith((".", "!", "?", ":")) else text + ".")
    return textstat.flesch_kincaid_grade(" ".join(sentences))


def uncovered(tr: Translator, families: list[str]) -> dict[str, str]:
    """Characters of a language's translations that the build would print as an empty box
    (no installed font has them, see :func:`fonts.printable`): char -> a msgid."""
    found: dict[str, str] = {}
    for message in tr.catalog or ():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for char in "".join(str(s) for s in strings if s):
            if char not in found and not printable(char, tuple(families)):
                found[char] = msgid_of(message)
    return found


def missing_glyphs(language: str, texts: list[str]) -> list[str]:
    """Characters of ``texts`` that the build would print as an empty box (for ``i18n import``)."""
    families = tuple(fonts_for(language))
    return sorted({c for text in texts for c in text if not printable(c, families)})


def check(project: Project, content: Content | None = None, languages: Iterable[str] = ()) -> list[Finding]:
    """Every problem ``handouts build`` would meet, without rendering; with ``languages``, only
    those catalogs and the handouts printed in them (a bilingual one in either language)."""
    wanted = set(languages)
    content = content or load_content(project.content)
    findings = [finding for block in content.blocks.values() for finding in _grade_findings(block)]
    broken: list[ConfigError] = []
    try:  # a broken clinic file is reported, and the others are still checked
        clinics = load_clinics(project, (), broken)
    except ConfigError as exc:
        clinics, broken = [], [exc]
    findings += [Finding("error", str(problem)) for error in broken for problem in getattr(error, "problems", (error,))]
    findings += [Finding("warning", warning) for clinic in clinics for warning in clinic.warnings]
    translators = Translators(project.locales)
    unusable: list[CatalogError] = []  # catalogs that cannot be loaded, listed once each
    for language in sorted(wanted or available_languages(project.locales)):
        try:
            tr = translators.get(language)
        except CatalogError as exc:
            unusable.append(exc)
            findings.append(Finding("error", str(exc)))
            continue
        findings += _catalog_findings(tr, language)
    jobs = [job for job in plan(clinics) if not wanted or wanted.intersection(job.languages)]
    return findings + _compose_findings(project, content, translators, jobs, unusable)


def _compose_findings(
    project: Project, content: Content, translators: Translators, jobs: list[Job], unusable: list[CatalogError]
) -> list[Finding]:
    """What composing each handout meets, other than broken entries (listed with their
    catalog) and catalogs that cannot be loaded (listed once)."""
    found = []
    for job in jobs:
        try:
            compose_job(job, content, translators, project.templates)
        except BrokenTranslation:
            continue  # its entries are listed above
        except HandoutError as exc:
            if exc not in unusable:
                found.append(Finding("error", f"{job.name}: {exc}"))
    return found


def _grade_findings(block: Block) -> list[Finding]:
    """A block's reading grade (a note), and a warning where it is above MAX_GRADE."""
    grade = reading_grade(block)
    found = [Finding("note", format_diagnostic("note", f"block '{block.id}' reads at grade {grade:.1f}", block.path))]
    if grade > MAX_GRADE:
        found.append(
            Finding(
                "warning",
                format_diagnostic(
                    "warning",
                    f"block '{block.id}' reads at grade {grade:.1f}, above {MAX_GRADE:g}: "
                    "use shorter sentences and plainer words",
                    block.path,
                ),
            )
        )
    return found


def _catalog_findings(tr: Translator, language: str) -> list[Finding]:
    """A loaded catalog's broken entries (used by a clinic or not), its warnings, and the
    characters no font covers."""
    found = [Finding("error", str(problem)) for problems in tr.problems.values() for problem in problems]
    found += [Finding("warning", str(w)) for w in tr.warnings]
    for char, msgid in uncovered(tr, fonts_for(language)).items():
        found.append(
            Finding(
                "error",
                format_diagnostic(
                    "error",
                    f"no font covers U+{ord(char):04X} {char!r} in '{language}' (msgid {msgid!r}); "
                    "it would print as an empty box",
                    tr.path,
                    tr.line_of(msgid),
                ),
            )
        )
    return found

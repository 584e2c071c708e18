"""``handouts check``: validate content, catalogs and clinics without rendering."""
from __future__ import annotations

import functools
import re
import subprocess
import unicodedata
import warnings
from dataclasses import dataclass

from fontTools.ttLib import TTFont

from .build import compose_job, load_clinics, plan
from .content import Block, Content, load_content
from .errors import BrokenTranslation, CatalogError, ConfigError, HandoutError, format_diagnostic
from .gates import entry_warnings, msgid_of
from .html import fonts_for
from .project import Project
from .segments import PLACEHOLDER_RE, units
from .translation import Translator, Translators, available_languages

with warnings.catch_warnings():  # textstat 0.7.4 imports the deprecated pkg_resources
    warnings.simplefilter("ignore", UserWarning)
    import textstat

MAX_GRADE = 8.0
#: Unicode categories that need no glyph: spaces, line breaks, controls, format characters.
UNPRINTED = {"Zs", "Zl", "Zp", "Cc", "Cf"}


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


@functools.cache
def _coverage(family: str) -> frozenset[int]:
    """Code points of the font fontconfig uses for a family; empty if it is not installed."""
    proc = subprocess.run(["fc-match", "-f", "%{family}\n%{file}\n%{index}", family],
                          capture_output=True, text=True)
    lines = proc.stdout.split("\n")
    if proc.returncode or len(lines) < 3 or family not in lines[0].split(","):
        return frozenset()
    with TTFont(lines[1], fontNumber=int(lines[2] or 0), lazy=True) as font:
        return frozenset(font.getBestCmap())


def uncovered(tr: Translator, families: list[str]) -> dict[str, str]:
    """Characters of a language's translations that none of its fonts has: char -> a msgid."""
    covered = frozenset().union(*(_coverage(family) for family in families))
    found: dict[str, str] = {}
    for message in tr.catalog or ():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for char in "".join(str(s) for s in strings if s):
            if unicodedata.category(char) not in UNPRINTED and ord(char) not in covered:
                found.setdefault(char, msgid_of(message))
    return found


def missing_glyphs(language: str, texts: list[str]) -> list[str]:
    """Characters of ``texts`` that none of the language's fonts has (for ``i18n import``)."""
    covered = frozenset().union(*(_coverage(family) for family in fonts_for(language)))
    return sorted({c for text in texts for c in text
                   if unicodedata.category(c) not in UNPRINTED and ord(c) not in covered})


def check(project: Project, content: Content | None = None) -> list[Finding]:
    findings: list[Finding] = []
    content = content or load_content(project.content)
    for block in content.blocks.values():
        grade = reading_grade(block)
        findings.append(Finding("note", format_diagnostic(
            "note", f"block '{block.id}' reads at grade {grade:.1f}", block.path)))
        if grade > MAX_GRADE:
            findings.append(Finding("warning", format_diagnostic(
                "warning", f"block '{block.id}' reads at grade {grade:.1f}, above {MAX_GRADE:g}: "
                "use shorter sentences and plainer words", block.path)))
    broken: list[ConfigError] = []
    try:  # a broken clinic file is reported, and the others are still checked
        clinics = load_clinics(project, (), broken)
    except ConfigError as exc:
        clinics, broken = [], [exc]
    findings += [Finding("error", str(problem)) for error in broken
                 for problem in getattr(error, "problems", (error,))]
    findings += [Finding("warning", warning) for clinic in clinics for warning in clinic.warnings]
    translators = Translators(project.locales)
    unusable: list[CatalogError] = []  # catalogs that cannot be loaded, listed once each
    for language in sorted(available_languages(project.locales)):
        try:
            tr = translators.get(language)
        except CatalogError as exc:
            unusable.append(exc)
            findings.append(Finding("error", str(exc)))
            continue
        for problems in tr.problems.values():  # every broken entry, used by a clinic or not
            findings += [Finding("error", str(problem)) for problem in problems]
        if tr.catalog is not None and tr.path is not None:
            findings += [Finding("warning", str(w)) for w in entry_warnings(tr.path, tr.catalog)]
        for char, msgid in uncovered(tr, fonts_for(language)).items():
            findings.append(Finding("error", format_diagnostic(
                "error", f"no font covers U+{ord(char):04X} {char!r} in '{language}' (msgid {msgid!r}); "
                "it would print as an empty box", tr.path, tr.line_of(msgid))))
    for job in plan(clinics):
        try:
            compose_job(job, content, translators, project.templates)
        except BrokenTranslation:
            continue  # its entries are listed above
        except HandoutError as exc:
            if exc not in unusable:
                findings.append(Finding("error", f"{job.name}: {exc}"))
    return findings



"""``handouts check``: validate content, catalogs and clinics without rendering."""
from __future__ import annotations

import re
from dataclasses import dataclass

import textstat

from .build import load_clinics, plan
from .content import Block, Content, load_content
from .errors import BrokenTranslation, CatalogError, HandoutError, format_diagnostic
from .html import compose
from .project import Project
from .segments import PLACEHOLDER_RE, units
from .translation import Translators, available_languages

MAX_GRADE = 8.0


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" or "warning"
    text: str


def reading_grade(block: Block) -> float:
    """Flesch-Kincaid grade of a block's text; headings and list items count as sentences."""
    sentences = []
    for unit in units(block.body):
        text = PLACEHOLDER_RE.sub("the clinic", unit.text)
        text = re.sub(r"[*_`]+", "", re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)).strip()
        sentences.append(text if text.endswith((".", "!", "?", ":")) else text + ".")
    return textstat.flesch_kincaid_grade(" ".join(sentences))


def check(project: Project, content: Content | None = None) -> list[Finding]:
    findings: list[Finding] = []
    content = content or load_content(project.content)
    for block in content.blocks.values():
        grade = reading_grade(block)
        if grade > MAX_GRADE:
            findings.append(Finding("warning", format_diagnostic(
                "warning", f"block '{block.id}' reads at grade {grade:.1f}, above {MAX_GRADE:g}: "
                "use shorter sentences and plainer words", block.path)))
    clinics = load_clinics(project)
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
    for job in plan(clinics):
        try:
            compose(job.clinic, content.routes[job.route], translators.get(job.language), project.templates)
        except BrokenTranslation:
            continue  # its entries are listed above
        except HandoutError as exc:
            if exc not in unusable:
                findings.append(Finding("error", f"{job.name}: {exc}"))
    return findings



"""The pipeline: content -> segments -> translation -> HTML -> PDF -> output, per handout."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .config import Clinic, load_clinic
from .content import Content, load_content
from .errors import HandoutError, LayoutError, UsageError
from .html import HandoutDocument, compose
from .index import collect_entries, render_index
from .output import handout_path, write_atomic, write_index
from .pdf import DEFAULT_TIME_LIMIT, render_pdf
from .project import Project
from .translation import Translators, available_languages


@dataclass(frozen=True)
class Job:
    clinic: Clinic
    language: str
    route: str
    edition: str = "standard"
    #: the second language of a bilingual edition
    second: str | None = None

    @property
    def filename(self) -> str:
        """iv.pdf, iv.large.pdf or iv.es+en.pdf"""
        if self.edition == "large":
            return f"{self.route}.large.pdf"
        if self.edition == "bilingual":
            return f"{self.route}.{self.language}+{self.second}.pdf"
        return f"{self.route}.pdf"

    @property
    def name(self) -> str:
        return f"{self.clinic.id}/{self.language}/{self.filename.removesuffix('.pdf')}"


@dataclass
class Result:
    job: Job
    path: Path
    ok: bool
    message: str = ""
    pages: int = 0
    warnings: list[str] = field(default_factory=list)


def load_clinics(project: Project, only: Iterable[str] = ()) -> list[Clinic]:
    known = available_languages(project.locales)
    files = project.clinic_files()
    wanted = set(only)
    unknown = wanted - {f.stem for f in files}
    if unknown:
        raise UsageError(f"unknown clinic {', '.join(sorted(unknown))} (have: "
                         f"{', '.join(f.stem for f in files) or 'none'})", project.clinics)
    return [load_clinic(f, known) for f in files if not wanted or f.stem in wanted]


def plan(clinics: list[Clinic], languages: Iterable[str] = (), routes: Iterable[str] = (),
         editions: Iterable[str] = ()) -> list[Job]:
    """Every (clinic, language, route) the clinics offer, narrowed by the given filters."""
    languages, routes, editions = set(languages), set(routes), set(editions)
    offered_langs = {lang for c in clinics for lang in c.languages}
    offered_routes = {r for c in clinics for r in c.routes}
    if languages - offered_langs:
        raise UsageError(f"no clinic offers language {', '.join(sorted(languages - offered_langs))} "
                         f"(offered: {', '.join(sorted(offered_langs))})")
    if routes - offered_routes:
        raise UsageError(f"no clinic offers route {', '.join(sorted(routes - offered_routes))} "
                         f"(offered: {', '.join(sorted(offered_routes))})")
    return [job for c in clinics for lang in c.languages for route in c.routes
            if (not languages or lang in languages) and (not routes or route in routes)
            for job in _editions(c, lang, route) if not editions or job.edition in editions]


def _editions(clinic: Clinic, language: str, route: str) -> list[Job]:
    """The standard edition, and the large-print and bilingual ones where the clinic wants them."""
    jobs = [Job(clinic, language, route)]
    if clinic.large_print:
        jobs.append(Job(clinic, language, route, "large"))
    if language in clinic.bilingual and language != clinic.bilingual_second:
        jobs.append(Job(clinic, language, route, "bilingual", clinic.bilingual_second))
    return jobs


def build(project: Project, jobs: list[Job], out_dir: Path, content: Content | None = None,
          allow_incomplete: bool = False, strict: bool = False,
          time_limit: float | None = DEFAULT_TIME_LIMIT,
          progress: Callable[[Result, int, int], None] | None = None) -> list[Result]:
    """Build every job; a failing handout is reported and the others still build."""
    content = content or load_content(project.content)
    translators = Translators(project.locales)
    results = []
    for index, job in enumerate(jobs, 1):
        path = handout_path(out_dir, job.clinic.id, job.language, job.filename)
        try:
            doc = compose_job(job, content, translators, project.templates, allow_incomplete)
            pdf = render_pdf(doc, time_limit)
            problems = [*pdf.overflows, *_over_budget(job, pdf.pages)]
            if problems and strict:
                raise LayoutError("; ".join(problems), path)
            write_atomic(path, pdf.data)
            result = Result(job, path, True, pages=pdf.pages,
                            warnings=[*doc.fallbacks, *pdf.warnings, *problems])
        except HandoutError as exc:
            result = Result(job, path, False, str(exc))
        results.append(result)
        if progress:
            progress(result, index, len(jobs))
    if jobs:  # the index lists every handout of these clinics found on disk, built now or before
        clinics = list({job.clinic.id: job.clinic for job in jobs}.values())
        write_index(out_dir, render_index(collect_entries(plan(clinics), content, translators, out_dir),
                                          project.templates))
    return results


def compose_job(job: Job, content: Content, translators: Translators, templates: Path,
                allow_incomplete: bool = False) -> HandoutDocument:
    """The HTML of one job's handout (stages 1-4)."""
    return compose(job.clinic, content.routes[job.route], translators.get(job.language), templates,
                   allow_incomplete=allow_incomplete, edition=job.edition,
                   second=translators.get(job.second) if job.second else None,
                   online_url=job.clinic.online_url(job.language, job.route, job.filename))


def _over_budget(job: Job, pages: int) -> list[str]:
    budget = job.clinic.page_budget[job.edition]
    if pages <= budget:
        return []
    return [f"{pages} pages, over the {job.edition} edition's budget of {budget} "
            f"(language {job.language}, route {job.route}); shorten the text or raise "
            f"page_budget.{job.edition} in {job.clinic.path.name}"]


def print_progress(result: Result, index: int, total: int) -> None:
    status = f"built {result.path} ({result.pages} pages)" if result.ok else f"FAILED {result.job.name}"
    print(f"[{index}/{total}] {status}", file=sys.stderr, flush=True)
    for warning in result.warnings:
        print(f"  warning: {warning}", file=sys.stderr)

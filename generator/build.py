"""The pipeline: content -> segments -> translation -> HTML -> PDF -> verify -> output, per handout."""
from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from .config import DEFAULT_TIME_LIMIT, Clinic, load_clinic
from .content import Content, load_content
from .errors import HandoutError, LayoutError, UsageError
from .html import HandoutDocument, compose
from .index import collect_entries, render_index
from .manifest import MANIFEST_NAME, Entry, Inputs, Manifest
from .output import INDEX_NAME, handout_path, locked, remove_stray_temp_files, write_atomic, write_index
from .project import Project
from .translation import Translators, available_languages
from .verify import check_pdf


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
    #: "built", "unchanged" (up to date, not rendered) or "failed"
    status: str = "built"
    seconds: float = 0.0


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


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Shard ``index`` of ``count`` (1-based): every count-th job in name order, so N
    machines given the same plan split it without overlap and about evenly."""
    if not 1 <= index <= count:
        raise UsageError(f"--shard {index}/{count}: K must be between 1 and N")
    ordered = sorted(jobs, key=lambda job: job.name)
    return [job for i, job in enumerate(ordered) if i % count == index - 1]


def output_key(job: Job) -> str:
    """The output's path relative to the output folder: its name in the manifest."""
    return handout_path(Path(), job.clinic.id, job.language, job.filename).as_posix()


Progress = Callable[[Result, int, int], None]


def build(project: Project, jobs: list[Job], out_dir: Path, content: Content | None = None,
          allow_incomplete: bool = False, strict: bool = False,
          time_limit: float | None = DEFAULT_TIME_LIMIT, progress: Progress | None = None,
          force: bool = False, workers: int | None = 1) -> list[Result]:
    """Build the jobs whose inputs changed since the last build (all of them with ``force``).

    Renders in ``workers`` processes (None: one per CPU). A failing handout is reported, its
    previous PDF and manifest entry are kept, and the others still build. With ``strict``, a
    handout over its page budget or with overflowing text fails. Then the staff index page is
    brought up to date. Raises :class:`BuildLocked` if another build is writing into ``out_dir``.
    """
    content = content or load_content(project.content)
    with locked(out_dir):
        remove_stray_temp_files(out_dir)
        manifest = Manifest.load(out_dir / MANIFEST_NAME)
        recorded = manifest.to_bytes()
        inputs = Inputs(project, content, allow_incomplete, strict)
        done: dict[str, Result] = {}
        todo: dict[str, str] = {}  # output key -> hash of its inputs

        def report(result: Result) -> None:
            done[output_key(result.job)] = result
            if progress:
                progress(result, len(done), len(jobs))

        for job in jobs:
            key, digest = output_key(job), inputs.of(job)
            path = out_dir / key
            if not force and manifest.is_current(key, digest, path):
                report(Result(job, path, True, status="unchanged",
                              pages=manifest.entries[key].pages))
            else:
                todo[key] = digest
        try:
            stale = [job for job in jobs if output_key(job) in todo]
            for job, outcome, seconds in _render_all(project, content, stale, workers,
                                                     (allow_incomplete, time_limit)):
                key = output_key(job)
                path = out_dir / key
                if isinstance(outcome, tuple) and outcome[3] and strict:
                    outcome = str(LayoutError("; ".join(outcome[3]), path))
                if isinstance(outcome, str):
                    report(Result(job, path, False, outcome, status="failed", seconds=seconds))
                    continue
                data, pages, warnings, problems = outcome
                warnings = [*warnings, *problems]  # not failures without --strict
                write_atomic(path, data)
                manifest.entries[key] = Entry(job=job.name, inputs=todo[key],
                                              sha256=hashlib.sha256(data).hexdigest(), pages=pages)
                report(Result(job, path, True, pages=pages, warnings=warnings, seconds=seconds))
            if jobs:
                _update_index(project, content, jobs, out_dir, manifest, inputs)
        finally:  # what was written is recorded, even if the build is interrupted
            if manifest.to_bytes() != recorded or not (out_dir / MANIFEST_NAME).is_file():
                write_atomic(out_dir / MANIFEST_NAME, manifest.to_bytes())
    return [done[output_key(job)] for job in jobs]


#: Handouts a render process makes before a fresh one replaces it: WeasyPrint's memory grows
#: by about 15 MB per 48 handouts (benchmarks/README.md), so recycling keeps the peak flat.
TASKS_PER_WORKER = 50

#: A rendered handout (PDF bytes, pages, warnings, layout problems), or why it failed.
Outcome = tuple[bytes, int, list[str], list[str]] | str

#: What a render process keeps between handouts (set by _start_worker).
_worker: dict = {}


def _start_worker(project: Project, content: Content, options: tuple[bool, float | None]) -> None:
    """Run once in each render process: import WeasyPrint, load fonts, keep the catalogs.
    ``options``: allow_incomplete and time_limit."""
    from . import pdf
    pdf.warm_up()
    _worker.update(project=project, content=content, options=options,
                   translators=Translators(project.locales))


def _render_job(job: Job) -> tuple[Outcome, float]:
    from .pdf import render_pdf  # here, so that a build with nothing to do never imports WeasyPrint
    start = time.perf_counter()
    allow_incomplete, time_limit = _worker["options"]
    try:
        doc = compose_job(job, _worker["content"], _worker["translators"], _worker["project"].templates,
                          allow_incomplete)
        pdf = render_pdf(doc, time_limit)
        check_pdf(pdf.data, doc.expected, job.name, pdf.overflows)  # stage 6: as meant?
        outcome: Outcome = (pdf.data, pdf.pages, [*doc.fallbacks, *pdf.warnings],
                            [*pdf.overflows, *_over_budget(job, pdf.pages)])
    except HandoutError as exc:
        outcome = str(exc)  # path:line: error: message (exceptions lose path and line in a pickle)
    return outcome, time.perf_counter() - start


def _render_all(project: Project, content: Content, jobs: list[Job], workers: int | None,
                options: tuple[bool, float | None]) -> Iterator[tuple[Job, Outcome, float]]:
    """Render each job, yielding results as they come: in this process when one worker has
    little to do, else in a pool of processes that each import WeasyPrint once."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1 and len(jobs) <= TASKS_PER_WORKER:
        if jobs:
            _start_worker(project, content, options)
        for job in jobs:
            yield job, *_render_job(job)
        return
    # spawn: workers share nothing with this process (no lock file, no threads). A fresh pool
    # for every TASKS_PER_WORKER handouts per process keeps memory flat over long runs
    # (ProcessPoolExecutor's own max_tasks_per_child deadlocks in Python 3.11 to 3.13:
    # https://github.com/python/cpython/issues/115634).
    batch = TASKS_PER_WORKER * workers
    for start in range(0, len(jobs), batch):
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_start_worker,
                                 initargs=(project, content, options)) as pool:
            futures = {pool.submit(_render_job, job): job for job in jobs[start:start + batch]}
            try:
                for future in as_completed(futures):
                    yield futures[future], *future.result()
            finally:
                for future in futures:
                    future.cancel()


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


def _update_index(project: Project, content: Content, jobs: list[Job], out_dir: Path,
                  manifest: Manifest, inputs: Inputs) -> None:
    """Write the staff index page when what it shows may have changed: the PDFs on disk and
    their dates, review status, content, clinics, templates. It lists every handout of the
    jobs' clinics found on disk, built now or before."""
    clinics = list({job.clinic.id: job.clinic for job in jobs}.values())
    listed = plan(clinics)
    digest = inputs.of_index(listed, out_dir)
    if digest == manifest.index and (out_dir / INDEX_NAME).is_file():
        return
    entries = collect_entries(listed, content, Translators(project.locales), out_dir)
    write_index(out_dir, render_index(entries, project.templates))
    manifest.index = digest


def merge(project: Project, sources: list[Path], out_dir: Path) -> int:
    """Copy the outputs of sharded builds into ``out_dir``, merge their manifests into one and
    write the staff index page; returns how many handouts were merged. Each PDF is checked
    against its shard's manifest."""
    with locked(out_dir):
        remove_stray_temp_files(out_dir)
        manifest = Manifest.load(out_dir / MANIFEST_NAME)
        merged: dict[str, Entry] = {}
        for source in sources:
            if not (source / MANIFEST_NAME).is_file():
                raise UsageError(f"no {MANIFEST_NAME} here: not the output folder of a build", source)
            for key, entry in Manifest.load(source / MANIFEST_NAME).entries.items():
                if merged.get(key, entry) != entry:
                    raise UsageError(f"{key} was built differently in two of the folders; build "
                                     "the shards again from the same sources", source)
                data = (source / key).read_bytes() if (source / key).is_file() else b""
                if hashlib.sha256(data).hexdigest() != entry.sha256:
                    raise UsageError(f"{key} is missing or not as built (its hash differs from "
                                     f"{MANIFEST_NAME}); build this shard again", source)
                if source.resolve() != out_dir.resolve():
                    write_atomic(out_dir / key, data)
                merged[key] = manifest.entries[key] = entry
        clinics = {key.split("/", 1)[0] for key in manifest.entries}
        if clinics:
            content = load_content(project.content)
            _update_index(project, content, plan(load_clinics(project, clinics)), out_dir, manifest,
                          Inputs(project, content))
        write_atomic(out_dir / MANIFEST_NAME, manifest.to_bytes())
    return len(merged)

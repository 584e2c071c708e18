"""The pipeline: content -> segments -> translation -> HTML -> PDF -> verify -> output, per handout."""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from .config import DEFAULT_TIME_LIMIT
from .content import Content, load_content
from .errors import ConfigError, HandoutError, LayoutError, RenderError, UsageError
from .html import HandoutDocument, compose
from .index import built_status, collect_entries, handout_status, render_index
from .jobs import Edition, Job, load_clinics, output_key, plan, shard
from .manifest import MANIFEST_NAME, MAX_MANIFEST_BYTES, Entry, Inputs, Manifest, ManifestError
from .output import INDEX_NAME, locked, read_inside, remove_stray_temp_files, write_index, write_inside
from .project import Project
from .timelimit import OutOfTime, time_limit
from .translation import Translators
from .verify import check_pdf

#: the plan's names, re-exported for callers that import them from here
__all__ = [
    "BuildOptions",
    "Edition",
    "Failed",
    "Job",
    "Rendered",
    "Result",
    "Status",
    "build",
    "compose_job",
    "load_clinics",
    "merge",
    "output_key",
    "plan",
    "shard",
]


class Status(StrEnum):
    """What became of one handout in a build."""

    BUILT = "built"
    UNCHANGED = "unchanged"  # up to date: not rendered
    FAILED = "failed"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: everything ``handouts build``'s options change, as one value."""

    #: build even where units are untranslated (they print in English)
    allow_incomplete: bool = False
    #: a handout over its page budget or with overflowing text fails
    strict: bool = False
    #: seconds one handout may take, from loading its catalogs to its verified PDF
    time_limit: float | None = DEFAULT_TIME_LIMIT
    #: render every handout, changed or not
    force: bool = False
    #: render processes (None: one per CPU)
    workers: int | None = 1


@dataclass(frozen=True)
class Rendered:
    """What a render process sends back for a handout it made."""

    data: bytes
    pages: int
    #: units printed in English because their translation is missing (--allow-incomplete)
    fallbacks: tuple[str, ...] = ()
    #: WeasyPrint's warnings
    warnings: tuple[str, ...] = ()
    #: text overflowing its box, pages over the edition's budget (failures with --strict)
    layout: tuple[str, ...] = ()
    #: printed from a draft translation (not yet approved by a medical translator)
    draft: bool = False


@dataclass(frozen=True)
class Failed:
    """Why a handout could not be made: ``path:line: error: message``."""

    message: str


Outcome = Rendered | Failed


@dataclass
class Result:
    job: Job
    path: Path
    status: Status
    message: str = ""
    pages: int = 0
    #: layout problems and WeasyPrint's warnings (not failures without --strict)
    warnings: list[str] = field(default_factory=list)
    #: units printed in English for a missing translation (--allow-incomplete)
    fallbacks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: built from a draft translation
    draft: bool = False

    @property
    def ok(self) -> bool:
        return self.status != Status.FAILED


Progress = Callable[[Result, int, int], None]


def build(
    project: Project,
    jobs: list[Job],
    out_dir: Path,
    options: BuildOptions = BuildOptions(),
    content: Content | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    """Build the jobs whose inputs changed since the last build (all of them with ``force``).

    Renders in ``options.workers`` processes. A failing handout is reported, its previous PDF
    and manifest entry are kept, and the others still build. With ``strict``, a handout over
    its page budget or with overflowing text fails. Then the staff index page is brought up
    to date. Raises :class:`BuildLocked` if another build is writing into ``out_dir``."""
    content = content or load_content(project.content)
    with locked(out_dir):
        remove_stray_temp_files(out_dir, map(output_key, jobs))
        manifest = Manifest.load(out_dir / MANIFEST_NAME)
        recorded = manifest.to_bytes()
        inputs = Inputs(project, content, options.allow_incomplete, options.strict)
        done: dict[str, Result] = {}

        def report(result: Result) -> None:
            done[output_key(result.job)] = result
            if progress:
                progress(result, len(done), len(jobs))

        todo = _stale(jobs, inputs, manifest, out_dir, options.force, report)
        stale = [job for job in jobs if output_key(job) in todo]
        rendered = _render_all(project, content, stale, options)  # a generator: runs when iterated
        try:
            for job, outcome, seconds in rendered:
                key = output_key(job)
                result = _take(job, outcome, out_dir / key, options.strict, seconds)
                if result.status == Status.BUILT and isinstance(outcome, Rendered):
                    try:
                        result.path = write_inside(out_dir, key, outcome.data)
                    except HandoutError as exc:  # a full disk: reported with the handout, then raised
                        report(dataclasses.replace(result, status=Status.FAILED, message=str(exc)))
                        raise
                    manifest.record(key, job.name, todo[key], outcome.data, outcome.pages)
                report(result)
            if jobs:
                statuses = {  # what the render processes found: the index need not load those catalogs
                    key: built_status(r.job.languages, r.draft) for key, r in done.items() if r.status == Status.BUILT
                }
                _update_index(project, content, out_dir, manifest, inputs, statuses=statuses)
        except BaseException:  # what was written is recorded, even if the build is interrupted
            rendered.close()  # interrupted here: its render processes end now, not when collected
            _save_manifest(out_dir, manifest, recorded, failing=True)
            raise
        _save_manifest(out_dir, manifest, recorded)
    return [done[output_key(job)] for job in jobs]


def _stale(
    jobs: list[Job], inputs: Inputs, manifest: Manifest, out_dir: Path, force: bool, report: Callable[[Result], None]
) -> dict[str, str]:
    """The output keys to render, each with the hash of its inputs; the jobs whose PDF is
    current are reported unchanged."""
    todo: dict[str, str] = {}
    for job in jobs:
        key, digest = output_key(job), inputs.of(job)
        if not force and manifest.is_current(key, digest, out_dir / key):
            report(Result(job, out_dir / key, Status.UNCHANGED, pages=manifest.entries[key].pages))
        else:
            todo[key] = digest
    return todo


def _take(job: Job, outcome: Outcome, path: Path, strict: bool, seconds: float) -> Result:
    """The result of one rendered handout, before it is written (with ``strict``, a layout
    problem fails it)."""
    if isinstance(outcome, Rendered) and outcome.layout and strict:
        outcome = Failed(str(LayoutError("; ".join(outcome.layout), path)))
    if isinstance(outcome, Failed):
        return Result(job, path, Status.FAILED, outcome.message, seconds=seconds)
    return Result(
        job,
        path,
        Status.BUILT,
        pages=outcome.pages,
        seconds=seconds,
        draft=outcome.draft,
        warnings=[*outcome.warnings, *outcome.layout],
        fallbacks=list(outcome.fallbacks),
    )


def _save_manifest(out_dir: Path, manifest: Manifest, recorded: bytes, failing: bool = False) -> None:
    """Write the manifest if it changed. If it cannot be written (a full disk) while the build
    is already failing for another reason, that reason is the one reported; the PDFs written
    are then not recorded, so the next build renders them again: nothing is lost."""
    if manifest.to_bytes() == recorded and (out_dir / MANIFEST_NAME).is_file():
        return
    try:
        write_inside(out_dir, MANIFEST_NAME, manifest.to_bytes())
    except HandoutError:
        if not failing:
            raise


#: Handouts a render process makes before a fresh one replaces it: WeasyPrint's memory grows
#: by about 15 MB per 48 handouts (benchmarks/README.md), so recycling keeps the peak flat.
TASKS_PER_WORKER = 50

#: What a render process keeps between handouts (set by _start_worker).
_worker: dict = {}

#: How often a render process looks whether the build that started it is still there.
PARENT_CHECK_SECONDS = 1.0
#: Why a handout failed whose render process died under it.
DIED = (
    "its render process ended abruptly (killed by a signal, out of memory or a crash in a "
    "library) while rendering this handout, also when tried again alone; the other handouts "
    "were rendered in new processes"
)


def _start_worker(
    project: Project,
    content: Content,
    options: BuildOptions,
    tracker: _Tracker | None = None,
    environment: dict[str, str] | None = None,
) -> None:
    """Run once in each render process: WeasyPrint imported and fonts loaded (by the fork
    server already, see :mod:`warm`), keep the catalogs, and take the build's environment
    (the fork server's is the one it started with, maybe an earlier build's: see
    :func:`_context`)."""
    if environment is not None:
        os.environ.clear()
        os.environ.update(environment)
    if tracker is not None:
        tracker.join()
        _watch_parent(tracker.build)
    from . import warm  # noqa: F401

    _worker.update(
        project=project, content=content, options=options, translators=Translators(project.locales), tracker=tracker
    )


def _watch_parent(build: int) -> None:
    """End this render process when the build that started it is gone (killed with -9): a
    render process waits on a queue it holds both ends of, so it would otherwise wait forever,
    keeping the build's output pipe open (and the fork server, which lives while a render
    process holds its pipe) for whatever waits on it."""

    def watch() -> None:
        while _alive(build):
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(1)

    if not _alive(build):  # started after the build died
        os._exit(1)
    threading.Thread(target=watch, name="watch-build", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (not gone, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


class _Tracker:
    """Which handout each render process of a pool is working on and since when, in shared
    memory, so that when a process dies or hangs the build knows which handout it held."""

    def __init__(self, ctx, workers: int) -> None:
        # (pid, index of the job, start in ms of the system's monotonic clock) per process
        self.slots = ctx.Array("q", [0, -1, 0] * workers)
        self.count = ctx.Value("i", 0)
        self.slot = -1
        self.build = os.getpid()  # a render process ends when this process is gone

    def join(self) -> None:  # in the render process, once
        with self.count.get_lock():
            self.slot, self.count.value = self.count.value, self.count.value + 1
        if 0 <= self.slot < len(self.slots) // 3:
            self.slots[3 * self.slot] = os.getpid()

    def pids(self) -> list[int]:
        """Every render process of the pool that has started."""
        return [pid for pid in self.slots[::3] if pid]

    def begin(self, index: int) -> None:
        if 0 <= self.slot < len(self.slots) // 3:
            self.slots[3 * self.slot : 3 * self.slot + 3] = [os.getpid(), index, _now_ms()]

    def end(self) -> None:
        if 0 <= self.slot < len(self.slots) // 3:
            self.slots[3 * self.slot + 1] = -1

    def rendering(self, longer_than: float = -1.0) -> dict[int, int]:
        """pid -> index of the job it is rendering (for longer than ``longer_than`` seconds)."""
        triples, now = self.slots[:], _now_ms()
        return {
            triples[i]: triples[i + 1]
            for i in range(0, len(triples), 3)
            if triples[i + 1] >= 0 and now - triples[i + 2] > longer_than * 1000
        }


def _now_ms() -> int:
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1_000_000  # the same in every process


#: the pool running now and its jobs (see :func:`rendering`)
_current: tuple[_Tracker, list[Job]] | None = None


def rendering() -> dict[int, str]:
    """Which handout each render process of the running build works on now, by process id:
    for a stuck build's log, and for the tests that kill one."""
    if _current is None:
        return {}
    tracker, jobs = _current
    return {pid: jobs[index].name for pid, index in tracker.rendering().items() if index < len(jobs)}


def _render_job(job: Job) -> tuple[Outcome, float]:
    """Stages 1 to 6 of one handout, all within the time limit: reading its catalogs and
    composing it under an alarm, rendering in the time left (the PDF stage's own alarm)."""
    from .pdf import render_pdf  # here, so that a build with nothing to do never imports WeasyPrint

    start = time.perf_counter()
    options: BuildOptions = _worker["options"]
    limit = options.time_limit
    try:
        rang: list[bool] = []
        try:
            with time_limit(limit) as rang:  # the PDF stage's own limit, for the first part
                doc = compose_job(
                    job,
                    _worker["content"],
                    _worker["translators"],
                    _worker["project"].templates,
                    options.allow_incomplete,
                )
        except OutOfTime:
            rang = [True]
        left = None if limit is None else limit - (time.perf_counter() - start)
        if rang or (left is not None and left <= 0):
            raise RenderError(
                f"reading its catalogs and composing it took longer than the time limit "
                f"of {limit:g} s; raise the limit with --time-limit",
                job.name,
            )
        pdf = render_pdf(doc, left, limit_given=limit)
        check_pdf(pdf.data, doc.expected, job.name, pdf.overflows)  # stage 6: as meant?
        outcome: Outcome = Rendered(
            pdf.data,
            pdf.pages,
            tuple(doc.fallbacks),
            tuple(pdf.warnings),
            (*pdf.overflows, *_over_budget(job, pdf.pages)),
            _draft(job),
        )
    except HandoutError as exc:
        outcome = Failed(str(exc))  # path:line: error: message (a pickle loses path and line)
    return outcome, time.perf_counter() - start


def _draft(job: Job) -> bool:
    """Whether the handout prints a draft translation (as the staff index says)."""
    return handout_status(_worker["translators"], job.languages, _worker["content"].routes[job.route]) == "draft"


def _render_tracked(index: int, job: Job) -> tuple[Outcome, float]:
    tracker = _worker.get("tracker")
    if tracker is not None:
        tracker.begin(index)
    try:
        return _contained(job)
    finally:
        if tracker is not None:
            tracker.end()


def _contained(job: Job) -> tuple[Outcome, float]:
    """Render one job and read its PDF as merge does (no embedded file, no JavaScript, no
    action but an allowed link); an error no check foresaw (a bug) fails that handout alone."""
    from .pdfsafety import pdf_problems  # here: pikepdf is needed only when something is rendered

    start = time.perf_counter()
    try:
        outcome, seconds = _render_job(job)
        if isinstance(outcome, Rendered):  # the PDF stage refuses these already: a second,
            unsafe = pdf_problems(outcome.data)  # independent look, on the bytes themselves
            if unsafe:
                outcome = Failed(f"{job.name}: error: the PDF is refused: {'; '.join(unsafe)}")
        return outcome, seconds
    except Exception as exc:  # noqa: BLE001 -- reported with the handout, never ends the build
        return (
            Failed(f"{job.name}: error: unexpected {type(exc).__name__} while rendering: {exc}"[:2000]),
            time.perf_counter() - start,
        )


def _render_all(
    project: Project, content: Content, jobs: list[Job], options: BuildOptions
) -> Generator[tuple[Job, Outcome, float], None, None]:
    """Render each job, yielding results as they come, always in render processes (also
    with ``--jobs 1``: a crash or a hang in a library never takes the build with it), forked
    from a fork server that has imported WeasyPrint and loaded the fonts once.

    A render process that dies (killed, out of memory, a crash in a library) takes only its
    handout with it: the pool is replaced, the handouts that were in the dead pool's hands are
    tried again one at a time, each alone in a fresh process, and the rest go on as before."""
    workers = max(1, min(options.workers or os.cpu_count() or 1, len(jobs)))
    # A fresh pool for every TASKS_PER_WORKER handouts per process keeps memory flat over long
    # runs (ProcessPoolExecutor's own max_tasks_per_child deadlocks in Python 3.11 to 3.13:
    # https://github.com/python/cpython/issues/115634).
    pending, suspects = list(jobs), list[Job]()
    while pending or suspects:
        if suspects:  # alone in its own process, so that a death is its own
            job = suspects.pop(0)
            broken = yield from _pool(project, content, [job], 1, options)
            if broken:
                yield job, Failed(f"{job.name}: error: {_stuck(options) if broken[2] else DIED}"), 0.0
            continue
        batch, pending = pending[: TASKS_PER_WORKER * workers], pending[TASKS_PER_WORKER * workers :]
        broken = yield from _pool(project, content, batch, workers, options)
        if broken:
            unfinished, in_hand, stuck = broken
            for job in stuck:  # not tried again: it would hang again
                yield job, Failed(f"{job.name}: error: {_stuck(options)}"), 0.0
            suspects, pending = _retried(unfinished, in_hand, stuck, pending)


def _retried(
    unfinished: list[Job], in_hand: list[Job], stuck: list[Job], pending: list[Job]
) -> tuple[list[Job], list[Job]]:
    """After a pool broke: the handouts to try again, each alone (those its dead processes
    had in hand; none in hand: a process died before it took one, while starting up, and
    then every handout left, so that the build always moves on), and those to render as
    before."""
    suspects = [job for job in in_hand if job not in stuck] or [job for job in unfinished if job not in stuck]
    return suspects, [job for job in unfinished if job not in suspects and job not in stuck] + pending


def _stuck(options: BuildOptions) -> str:
    return (
        f"rendering went on {STUCK_GRACE:g} s past the time limit of {options.time_limit:g} s "
        "without stopping (stuck in a library); its render process was ended. Shorten the "
        "text or raise the limit with --time-limit"
    )


#: Variables read once, when the fork server imports WeasyPrint and loads the fonts (fontconfig,
#: Pango, GLib, the C library's locale and time zone): a render process forked from it cannot
#: take a new value of these, so the fork server is started again when one has changed.
INIT_ENVIRONMENT = (
    *("FONTCONFIG_", "FC_", "PANGO", "G_", "GIO_", "HOME", "LANG", "LC_", "TZ", "PYTHON"),
    *("XDG_CONFIG_", "XDG_CACHE_HOME", "XDG_DATA_"),  # where fontconfig looks (not XDG_STATE_HOME)
)
#: the fork server's environment when this process started it (see _context)
_server_environment: dict[str, str] | None = None


def _context():
    """Render processes are forked from multiprocessing's fork server, a clean process started
    once (no lock file, no threads, nothing of the build's state) that imports WeasyPrint and
    loads the fonts before it forks any (:mod:`warm`): starting one takes milliseconds.

    The environment: a render process takes the build's own (``_start_worker``), so that a
    later build in the same process (a service, the tests) sees its own, not the first
    build's. What is read only while the fork server starts (INIT_ENVIRONMENT: the fonts
    fontconfig finds, the locale) cannot change in a running fork server, so when one of
    those differs from the fork server's, it is stopped and started again (about 1.5 s)."""
    global _server_environment
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([f"{__package__}.warm"])
    environment = _init_environment()
    if _server_environment is not None and environment != _server_environment:
        server = getattr(multiprocessing.forkserver, "_forkserver", None)
        stop = getattr(server, "_stop", None)  # CPython's own (3.8-3.13); without it, kept
        if stop is not None:
            stop()
    _server_environment = environment
    return ctx


def _init_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name.startswith(INIT_ENVIRONMENT)}


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived (see :func:`stoppable`): the build stops, cleaning up as it
    unwinds (render processes ended, temporary files removed, what was written recorded)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: "shield": how deep in a part that must not be cut short; "pending": a signal held back
_stopping: dict[str, int | None] = {"shield": 0, "pending": None}


@contextmanager
def stoppable() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into :class:`Interrupted` in the block, once (a second signal
    while the build cleans up is ignored, so that the clean-up finishes). A signal that
    arrives while render processes are being started is held until they are all known."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
        if _stopping["shield"]:
            _stopping["pending"] = signum
            return
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        _stopping["pending"] = None
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def _shielded() -> Iterator[None]:
    """Hold back a stop signal while the block runs; raise it when the block ends."""
    _stopping["shield"] = (_stopping["shield"] or 0) + 1
    try:
        yield
    finally:
        _stopping["shield"] = (_stopping["shield"] or 1) - 1
        pending = _stopping["pending"]
        if pending is not None and not _stopping["shield"]:
            _stopping["pending"] = None
            raise Interrupted(pending)


#: A handout still rendering this long after its time limit did not stop at the limit (stuck in
#: a library, where the alarm cannot reach it): the build ends its render process.
STUCK_GRACE = 5.0
#: How often the build looks for a stuck render process.
WATCH_SECONDS = 0.5


def _pool(project: Project, content: Content, jobs: list[Job], workers: int, options: BuildOptions):
    """Render ``jobs`` in a pool of ``workers`` processes, yielding results as they come.

    A process still rendering a handout STUCK_GRACE seconds after the time limit is killed.
    Returns None, or if a process died: (the jobs not done, those of them that were being
    rendered, those of them whose process was killed for being stuck)."""
    global _current
    ctx = _context()
    tracker = _Tracker(ctx, workers)
    done: set[int] = set()
    stuck: set[int] = set()
    limit = options.time_limit
    with ProcessPoolExecutor(
        workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(project, content, options, tracker, dict(os.environ)),
    ) as pool:
        futures: dict[Future, int] = {}
        try:
            with _shielded():  # every process started is in the pool's list before a stop
                futures = {pool.submit(_render_tracked, i, job): i for i, job in enumerate(jobs)}
            _current = (tracker, jobs)
            waiting = set(futures)
            while waiting:
                finished, waiting = wait(waiting, WATCH_SECONDS, FIRST_COMPLETED)
                for future in sorted(finished, key=lambda f: isinstance(f.exception(), BrokenProcessPool)):
                    if isinstance(future.exception(), BrokenProcessPool):  # a process died
                        in_hand = set(tracker.rendering().values()) - done
                        return (
                            [job for i, job in enumerate(jobs) if i not in done],
                            [jobs[i] for i in sorted(in_hand)],
                            [jobs[i] for i in sorted(stuck)],
                        )
                    index = futures[future]
                    done.add(index)
                    yield jobs[index], *_result(future, jobs[index])
                if limit:
                    stuck |= _end_stuck(tracker, limit + STUCK_GRACE)
        except BaseException:  # interrupted (SIGTERM, SIGINT): the render processes stop now,
            # those still starting too (the pool's own list: they have not joined the tracker)
            _stop([*tracker.pids(), *(getattr(pool, "_processes", None) or {})])
            raise
        finally:
            _current = None
            for future in futures:
                future.cancel()
    return None


def _result(future: Future, job: Job) -> tuple[Outcome, float]:
    """A finished render's outcome; one that could not come back (not picklable) fails alone."""
    exc = future.exception()
    if exc is None:
        return future.result()
    return Failed(f"{job.name}: error: unexpected {type(exc).__name__} from the render process: {exc}"), 0.0


def _stop(pids: list[int]) -> None:
    """End render processes at once (their handouts are not written: no temporary file)."""
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _end_stuck(tracker: _Tracker, seconds: float) -> set[int]:
    """Kill every render process that has been rendering one handout for over ``seconds``;
    the indexes of their jobs."""
    ended = set()
    for pid, index in tracker.rendering(longer_than=seconds).items():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
        ended.add(index)
    return ended


def compose_job(
    job: Job, content: Content, translators: Translators, templates: Path, allow_incomplete: bool = False
) -> HandoutDocument:
    """The HTML of one job's handout (stages 1-4)."""
    return compose(
        job.clinic,
        content.routes[job.route],
        translators.get(job.language),
        templates,
        allow_incomplete=allow_incomplete,
        edition=job.edition,
        second=translators.get(job.second) if job.second else None,
        online_url=job.clinic.online_url(job.language, job.route, job.filename),
    )


def _over_budget(job: Job, pages: int) -> list[str]:
    budget = job.clinic.page_budget[job.edition]
    if pages <= budget:
        return []
    return [
        f"{pages} pages, over the {job.edition} edition's budget of {budget} "
        f"(language {job.language}, route {job.route}); shorten the text or raise "
        f"page_budget.{job.edition} in {job.clinic.path.name}"
    ]


def _update_index(
    project: Project,
    content: Content,
    out_dir: Path,
    manifest: Manifest,
    inputs: Inputs,
    force: bool = False,
    statuses: dict[str, str] | None = None,
) -> None:
    """Write the staff index page when what it shows may have changed: the PDFs on disk and
    their dates, review status, content, clinics, templates. It lists every handout of every
    clinic found on disk, built now or before, whatever this build was narrowed to (a clinic
    whose file is broken is left out until it is fixed)."""
    broken: list[ConfigError] = []
    listed = plan(load_clinics(project, (), broken))
    digest = inputs.of_index(listed, out_dir)
    if not force and digest == manifest.index and (out_dir / INDEX_NAME).is_file():
        return
    entries = collect_entries(listed, content, Translators(project.locales), out_dir, statuses)
    write_index(out_dir, render_index(entries, project.templates))
    # each clinic's own page, so that a desk cannot print another clinic's handout by mistake
    for clinic in dict.fromkeys(e.clinic_id for e in entries):
        own = [dataclasses.replace(e, path=e.path.removeprefix(f"{clinic}/")) for e in entries if e.clinic_id == clinic]
        write_index(out_dir, render_index(own, project.templates), clinic)
    manifest.index = digest


#: a PDF larger than this is not a handout (the largest, a bilingual CJK one, is about 1 MB)
MAX_PDF_BYTES = 64 * 2**20


def merge(project: Project, sources: list[Path], out_dir: Path) -> int:
    """Copy the outputs of sharded builds into ``out_dir``, merge their manifests into one and
    write the staff index page anew; returns how many handouts were merged.

    A shard is trusted for nothing: every entry of its manifest must be an output this
    project's build plan makes (a known clinic, language, route and edition), read from a
    regular file inside the shard without following a symbolic link, hash as recorded and
    pass the checks a built PDF passes (no embedded file, no JavaScript, no action but an
    allowed link) and print what the current sources mean (:mod:`verify`: the clinic's
    numbers as configured, the safety-critical units). Every shard is checked before
    anything is written; any problem is a :class:`UsageError` naming the shard, and the
    output folder is left as it was."""
    planned = {output_key(job): job for job in plan(load_clinics(project))}
    content, translators = load_content(project.content), Translators(project.locales)

    def verified(job: Job, data: bytes) -> None:
        check_pdf(data, compose_job(job, content, translators, project.templates).expected, job.name)

    merged: dict[str, tuple[Entry, bytes]] = {}
    for source in sources:
        for key, (entry, data) in _checked_shard(source, planned, verified).items():
            if key in merged and merged[key][0] != entry:
                raise UsageError(
                    f"{key} was built differently in two of the folders; build the shards again from the same sources",
                    source,
                )
            merged[key] = (entry, data)
    with locked(out_dir):
        remove_stray_temp_files(out_dir, planned)
        manifest = Manifest.load(out_dir / MANIFEST_NAME)
        for key, (entry, data) in sorted(merged.items()):
            write_inside(out_dir, key, data)
            manifest.record(key, entry.job, entry.inputs, data, entry.pages)
        # entries of the output folder's own manifest that no build of this project makes
        # are left out: they name nothing this project writes
        manifest.entries = {key: e for key, e in manifest.entries.items() if key in planned}
        if manifest.entries:
            _update_index(project, content, out_dir, manifest, Inputs(project, content), force=True)
        write_inside(out_dir, MANIFEST_NAME, manifest.to_bytes())
    return len(merged)


def _checked_shard(
    source: Path, planned: dict[str, Job], verified: Callable[[Job, bytes], None]
) -> dict[str, tuple[Entry, bytes]]:
    """Every output of one shard, read and checked, with its manifest entry."""
    from .pdfsafety import pdf_problems

    try:
        manifest = Manifest.parse(read_inside(source, MANIFEST_NAME, MAX_MANIFEST_BYTES))
    except FileNotFoundError:
        raise UsageError(f"no {MANIFEST_NAME} here: not the output folder of a build", source) from None
    except (OSError, HandoutError, ManifestError) as exc:
        raise UsageError(f"{MANIFEST_NAME} cannot be used: {getattr(exc, 'message', None) or exc}", source) from None
    outputs = {}
    for key, entry in manifest.entries.items():
        job = planned.get(key)
        if job is None or entry.job != job.name:
            raise UsageError(
                f"{key!r} in {MANIFEST_NAME} is not a handout this project builds "
                "(known clinics, languages, routes and editions only)",
                source,
            )
        try:
            data = read_inside(source, key, MAX_PDF_BYTES)
        except HandoutError as exc:
            raise UsageError(f"{key} cannot be read: {exc.message}", source) from None
        except OSError as exc:
            raise UsageError(f"{key} cannot be read: {exc.strerror}", source) from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise UsageError(
                f"{key} is missing or not as built (its hash differs from {MANIFEST_NAME}); build this shard again",
                source,
            )
        problems = pdf_problems(data)
        if problems:
            raise UsageError(f"{key} is refused: {'; '.join(problems)}", source)
        try:
            verified(job, data)
        except HandoutError as exc:
            raise UsageError(f"{key} is refused: {exc.message}", source) from None
        outputs[key] = (entry, data)
    return outputs

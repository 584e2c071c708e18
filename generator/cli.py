"""The ``handouts`` command.

Exit codes: :class:`report.ExitCode` (the one map from outcomes to codes; README lists it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path

from . import __version__, i18n, report, review
from .build import BuildOptions, Interrupted, build, merge, stoppable
from .config import DEFAULT_TIME_LIMIT, EDITIONS
from .content import ROUTE_IDS
from .dates import source_date_epoch, started_at
from .errors import ConfigError, HandoutError, UsageError
from .jobs import load_clinics, plan, shard
from .output import OutputError, write_atomic, write_heartbeat, write_new
from .project import Project
from .report import ExitCode, exit_code

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_LOCKED, EXIT_OUTPUT = (
    ExitCode.OK,
    ExitCode.FAILED,
    ExitCode.USAGE,
    ExitCode.LOCKED,
    ExitCode.OUTPUT,
)

#: --time-limit: at least 10 ms, at most a day
MIN_SECONDS, MAX_SECONDS = 0.01, 86400.0


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not MIN_SECONDS <= value <= MAX_SECONDS:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(
            f"{text[:40]!r} is not a number of seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g}"
        )
    return value


class _Parser(argparse.ArgumentParser):
    """Keeps the last refusal's message, for the report of a build refused at the command line."""

    refused = ""

    def error(self, message: str):  # type: ignore[override]
        _Parser.refused = f"{self.prog}: error: {message}"
        super().error(message)


def _report_refused(argv: list[str]) -> None:
    """A ``build`` whose command line was refused (exit 2) still writes its ``--report`` and
    ``--report-dir`` report, if those options can be read."""
    if "build" not in argv:
        return
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--report", type=Path)
    pre.add_argument("--report-dir", type=Path)
    pre.add_argument("--log-format", default="text")
    pre.add_argument("--output", type=Path)
    try:
        known, _ = pre.parse_known_args(argv)
    except SystemExit:
        return
    data = report.to_json([], known.output, EXIT_USAGE, report.now(), 0.0, _Parser.refused or "usage error")
    known.log_format = "text"
    _write_reports(known, data, EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="handouts", description=("Build printed, translated patient handouts for ketamine therapy."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--project",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="the project folder holding content/, locales/, templates/ (default: .)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build PDFs into handouts/<clinic>/<language>/<route>.pdf")
    b.add_argument("--clinic", action="append", default=[], help="only this clinic (repeatable)")
    b.add_argument(
        "--language",
        action="append",
        default=[],
        help="only this language, a Babel id such as es or zh_Hans (repeatable)",
    )
    b.add_argument("--route", action="append", default=[], choices=ROUTE_IDS, help="only this route (repeatable)")
    b.add_argument(
        "--edition",
        action="append",
        default=[],
        choices=EDITIONS,
        help="only this edition: standard, large (large print) or bilingual (repeatable)",
    )
    b.add_argument(
        "--strict", action="store_true", help="a handout over its page budget or with overflowing text fails"
    )
    b.add_argument("--output", type=Path, metavar="DIR", help="output folder (default: handouts/)")
    b.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="build even where units are untranslated (they print in English)",
    )
    b.add_argument(
        "--time-limit",
        type=_seconds,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"fail a handout that takes longer than this to make, catalogs included (default: {DEFAULT_TIME_LIMIT:g})",
    )
    b.add_argument("--force", action="store_true", help="rebuild every handout, not only those whose inputs changed")
    b.add_argument(
        "--jobs",
        "-j",
        type=_positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="render in N processes (default: the number of CPUs, here %(default)s)",
    )
    b.add_argument(
        "--shard",
        type=_shard,
        metavar="K/N",
        help="build only the K-th of N equal parts of the handouts (K from 1), for "
        "N machines; put the outputs together with 'handouts merge'",
    )
    b.add_argument(
        "--report",
        type=Path,
        metavar="FILE.json",
        help="also write what was built, unchanged and failed as JSON (replaced each run)",
    )
    b.add_argument(
        "--report-dir",
        type=Path,
        metavar="DIR",
        help="also write the JSON report as a new file in DIR, report-<UTC time>-<pid>.json (never replacing one)",
    )
    b.add_argument("--quiet", "-q", action="store_true", help="log errors and the summary only")
    b.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: timestamped lines with levels (default); json: one JSON object per event "
        "(time, level, event, handout, message), for log collectors",
    )

    m = sub.add_parser("merge", help="put the output folders of sharded builds into one")
    m.add_argument(
        "folders", nargs="+", type=Path, metavar="DIR", help="output folders of 'handouts build --shard K/N'"
    )
    m.add_argument("--output", type=Path, metavar="DIR", help="output folder (default: handouts/)")

    c = sub.add_parser("check", help="validate content, catalogs and clinics without rendering")
    c.add_argument(
        "--language",
        action="append",
        default=[],
        help="check only this catalog and the handouts printed in it (repeatable; default: all)",
    )

    sub.add_parser(
        "doctor",
        help="check this machine: Python and packages against requirements.lock, "
        "WeasyPrint, a font for every script, system tools; with what to do about each",
    )
    n = sub.add_parser(
        "new-clinic",
        help="write content/clinics/ID.toml (commented) and a placeholder logo; asks for what the options do not give",
    )
    n.add_argument("id", metavar="ID", help="the clinic's id: letters, digits, - and _")
    for option, what in NEW_CLINIC_OPTIONS.items():
        n.add_argument(f"--{option}", help=what)
    n.add_argument("--paper", choices=("letter", "a4"), default="letter", help="default: letter")
    n.add_argument("--language", action="append", default=[], help="a Babel id (repeatable; default en)")
    n.add_argument(
        "--route", action="append", default=[], choices=ROUTE_IDS, help="a route offered (repeatable; default: all)"
    )
    v = sub.add_parser("verify", help="check that built PDFs print what their inputs mean")
    v.add_argument(
        "pdfs",
        nargs="*",
        type=Path,
        metavar="PDF",
        help="handouts/<clinic>/<language>/<file>.pdf (default: every PDF in handouts/)",
    )
    v.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="the PDFs were built with --allow-incomplete ([EN] text is expected)",
    )

    i = sub.add_parser("i18n", help="translation catalogs (wraps pybabel)")
    isub = i.add_subparsers(dest="i18n_command", required=True, metavar="ACTION")
    isub.add_parser("extract", help="write locales/messages.pot from content, templates and code")
    isub.add_parser("update", help="merge locales/messages.pot into every catalog")
    isub.add_parser("compile", help="compile every catalog to .mo")
    st = isub.add_parser("stats", help="translated, fuzzy and untranslated counts per language")
    st.add_argument(
        "--min", type=float, metavar="PERCENT", help="exit 1 if any language has less than PERCENT translated"
    )
    init = isub.add_parser("init", help="start a catalog for a new language")
    init.add_argument("language", help="a Babel language id such as fr or pt_BR")
    review.add_commands(isub)
    return parser


#: new-clinic's options that are asked for when missing (nothing printed is guessed)
NEW_CLINIC_OPTIONS = {
    "name": "the clinic's name",
    "phone": "the clinic's phone number",
    "after-hours-phone": "the after-hours number",
    "emergency-number": "the emergency number (e.g. 911, 112, 999)",
    "crisis-line": "the crisis line (e.g. 988, 116 123)",
}


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise argparse.ArgumentTypeError(f"{text!r} is not K/N with 1 <= K <= N, e.g. 2/4")
    return int(index), int(count)


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and the like
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code == EXIT_USAGE:  # refused: the report says so all the same
            _report_refused(sys.argv[1:] if argv is None else argv)
        raise
    project = Project(args.project)
    try:
        if args.command == "build":
            return _build(project, args)
        if args.command == "merge":
            source_date_epoch()  # refused before anything is written
            out_dir = args.output or project.root / "handouts"
            print(f"handouts merge: {merge(project, args.folders, out_dir)} handouts in {out_dir}")
            return EXIT_OK
        if args.command == "check":
            return _check(project, args.language)
        if args.command in ("doctor", "new-clinic"):
            return _doctor(project) if args.command == "doctor" else _new_clinic(project, args)
        if args.command == "verify":
            return _verify(project, args.pdfs, args.allow_incomplete)
        if args.command == "i18n":
            return _i18n(project, args)
    except HandoutError as exc:
        print(exc, file=sys.stderr)
        return exit_code(error=exc)
    return EXIT_USAGE


def _i18n(project: Project, args) -> int:
    if args.i18n_command == "extract":
        i18n.extract(project)
    elif args.i18n_command == "update":
        i18n.update(project)
    elif args.i18n_command == "compile":
        i18n.compile_catalogs(project)
    elif args.i18n_command == "init":
        print(i18n.init(project, args.language))
    elif args.i18n_command == "stats":
        return _stats(project, args.min)
    elif args.i18n_command in review.COMMANDS:
        return review.run_command(project, args)
    return EXIT_OK


def _build(project, args) -> int:
    """Build, log each handout and a summary, write the JSON report (also when nothing could
    be built, and when stopped by SIGTERM or SIGINT), and the heartbeat after a clean build."""
    report.setup_logging(args.log_format, args.quiet)
    started, start = started_at(), time.perf_counter()
    out_dir = args.output or project.root / "handouts"
    progress = report.Progress(0, bar=args.log_format == "text" and not args.quiet)
    error = stopped = None
    try:
        with stoppable():
            results, code = _run_build(project, args, out_dir, progress)
    except HandoutError as exc:
        results, error, code = progress.results, str(exc), exit_code(progress.results, error=exc)
        report.event(logging.ERROR, "error", str(exc))  # what was done before it stopped is reported
    except Interrupted as stop:
        progress.close()
        results, code = progress.results, exit_code(signum=stop.signum)
        stopped = f"stopped by {signal.Signals(stop.signum).name}"
        report.event(
            logging.ERROR,
            "interrupted",
            f"interrupted: {stopped}; render processes ended, "
            "temporary files removed, the lock released; the PDFs written so far are recorded",
        )
        _summary(args, report.summary(results, out_dir, time.perf_counter() - start, interrupted=True))
    if code == EXIT_OK:
        code = _heartbeat(out_dir, started, results)
    data = report.to_json(results, out_dir, code, started, time.perf_counter() - start, error, stopped)
    return _write_reports(args, data, code)


def _summary(args, text: str) -> None:
    """The closing line: on stdout (text logs), or a ``summary`` event (JSON logs)."""
    if args.log_format == "json":
        report.event(logging.INFO, "summary", text)
    else:
        print(text, flush=True)


def _heartbeat(out_dir: Path, started: str, results) -> int:
    """``<output>/.last-success``: when the last build that exited 0 finished (monitoring)."""
    count = report.counts(results)
    text = json.dumps(
        {
            "finished": report.now(),
            "started": started,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "built": count["built"],
            "unchanged": count["unchanged"],
        }
    )
    try:
        write_heartbeat(out_dir, text + "\n")
    except OutputError as exc:
        report.event(logging.ERROR, "error", str(exc))
        return EXIT_OUTPUT
    return EXIT_OK


def _write_reports(args, data: bytes, code: int) -> int:
    """``--report FILE`` (replaced) and ``--report-dir DIR`` (a new file per run, never replacing one)."""
    try:
        if args.report:
            write_atomic(args.report, data)
        if args.report_dir:
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
            write_new(args.report_dir, f"report-{stamp}-{os.getpid()}", data)
    except OutputError as exc:
        report.event(logging.ERROR, "error", str(exc))
        return max(code, EXIT_OUTPUT)
    return code


def _run_build(project, args, out_dir: Path, progress: report.Progress):
    start = time.perf_counter()
    source_date_epoch()  # refused before anything is built
    broken: list[ConfigError] = []  # clinic files with errors: the other clinics still build
    clinics = load_clinics(project, args.clinic, broken)
    for problem in broken:
        report.event(logging.ERROR, "clinic", str(problem))
    for warning in (w for clinic in clinics for w in clinic.warnings):
        report.event(logging.WARNING, "clinic", warning)
    jobs = plan(clinics, args.language, args.route, args.edition)
    if args.shard:
        jobs = shard(jobs, *args.shard)
    report.event(
        logging.INFO,
        "start",
        f"building {len(jobs)} handouts into {out_dir} (pid {os.getpid()}, {args.jobs} render processes at most)",
    )
    progress.start(len(jobs))
    try:
        options = BuildOptions(
            allow_incomplete=args.allow_incomplete,
            strict=args.strict,
            time_limit=args.time_limit,
            force=args.force,
            workers=args.jobs,
        )
        results = build(project, jobs, out_dir, options, progress=progress)
    finally:
        progress.close()
    for result in filter(report.is_incomplete, results):
        report.event(
            logging.WARNING,
            "english",
            "".join(
                [
                    f"{result.job.name}: built with English standing in for missing translations:",
                    *(f"\n  {fallback}" for fallback in result.fallbacks),
                ]
            ),
            result.job.name,
        )
    if progress.bar is not None:  # the bar said FAILED only: why, here
        for result in (r for r in results if not r.ok):
            report.event(
                logging.ERROR,
                "failed",
                f"{result.job.name}: not built; the previous PDF, if any, is unchanged\n{result.message}",
                result.job.name,
            )
    _summary(args, report.summary(results, out_dir, time.perf_counter() - start))
    if broken:
        report.event(
            logging.ERROR,
            "clinic",
            f"not built: the handouts of "
            f"{', '.join(e.path.stem for e in broken if e.path)} (errors in the clinic's file, above)",
        )
    return results, exit_code(results, broken=bool(broken))


def _doctor(project: Project) -> int:
    from .doctor import doctor

    checks = doctor(project.root)
    for check in checks:
        print(check)
    problems = sum(not check.ok for check in checks)
    print(f"handouts doctor: {problems} problem(s)" if problems else "handouts doctor: all well")
    return EXIT_FAILED if problems else EXIT_OK


def _new_clinic(project: Project, args) -> int:
    from .scaffold import NewClinic, new_clinic
    from .translation import available_languages

    values = {}
    for option, what in NEW_CLINIC_OPTIONS.items():
        value = getattr(args, option.replace("-", "_"))
        if value is None and sys.stdin.isatty():
            value = input(f"{what}: ").strip() or None
        if value is None:
            raise UsageError(f"new-clinic: give --{option} ({what})")
        values[option.replace("-", "_")] = value
    new = NewClinic(
        id=args.id,
        paper=args.paper,
        languages=tuple(args.language or ["en"]),
        routes=tuple(args.route or ROUTE_IDS),
        **values,
    )
    files, todo = new_clinic(project.clinics, new, available_languages(project.locales))
    here = Path.cwd().resolve()
    shown = [str(f.resolve().relative_to(here)) if f.resolve().is_relative_to(here) else str(f) for f in files]
    print(f"handouts new-clinic: wrote {', '.join(shown)}")
    if todo:
        print("Still to do before it builds (`handouts check` shows these again):", *todo, sep="\n  ")
    return EXIT_OK


def _stats(project: Project, minimum: float | None) -> int:
    rows = i18n.stats(project)
    print(f"{'language':<10} {'translated':>10} {'fuzzy':>6} {'untranslated':>12} {'done':>7}")
    for row in rows:
        print(f"{row.language:<10} {row.translated:>10} {row.fuzzy:>6} {row.untranslated:>12} {row.percent:>6.1f}%")
    print("handouts approved by a medical translator:", *map(review.approval_line, rows), sep="\n  ")
    below = [row.language for row in rows if minimum is not None and row.percent < minimum]
    if below:
        print(f"below {minimum:g}%: {', '.join(below)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _check(project: Project, languages: list[str]) -> int:
    from .check import check  # here: its reading-grade library takes a while to import
    from .translation import available_languages

    unknown = sorted(set(languages) - available_languages(project.locales))
    if unknown:
        raise UsageError(f"no catalog for language {', '.join(unknown)} (locales/<language>/LC_MESSAGES/messages.po)")
    findings = check(project, languages=languages)
    for finding in findings:
        print(finding.text, file=sys.stdout if finding.severity == "note" else sys.stderr)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    print(f"handouts check: {errors} error(s), {warnings} warning(s)")
    return EXIT_FAILED if errors else EXIT_OK


def _verify(project: Project, pdfs: list[Path], allow_incomplete: bool) -> int:
    from .verify import verify_files

    pdfs = pdfs or sorted((project.root / "handouts").glob("*/*/*.pdf"))
    if not pdfs:
        print("handouts verify: no PDF to check (build first, or name the PDFs)", file=sys.stderr)
        return EXIT_USAGE
    results = verify_files(project, pdfs, allow_incomplete)
    for path, problems in results.items():
        if problems:
            print(f"{path}: error: does not print what was meant:", file=sys.stderr)
            print("\n".join(f"  {p}" for p in problems), file=sys.stderr)
    failed = sum(bool(p) for p in results.values())
    print(f"handouts verify: {len(results) - failed} as meant, {failed} not")
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

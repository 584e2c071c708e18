"""The ``handouts`` command.

Exit codes: 0 all well; 1 a handout failed (the others were still built) or ``check`` found
errors; 2 usage, configuration or content errors (nothing was built).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__, i18n
from .build import build, load_clinics, plan, print_progress
from .check import check
from .config import EDITIONS
from .content import ROUTE_IDS
from .errors import HandoutError
from .pdf import DEFAULT_TIME_LIMIT
from .project import Project

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds above 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handouts", description=(
        "Build printed, translated patient handouts for ketamine therapy."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project", type=Path, default=Path("."), metavar="DIR",
                        help="the project folder holding content/, locales/, templates/ (default: .)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build PDFs into handouts/<clinic>/<language>/<route>.pdf")
    b.add_argument("--clinic", action="append", default=[], help="only this clinic (repeatable)")
    b.add_argument("--language", action="append", default=[],
                   help="only this language, a Babel id such as es or zh_Hans (repeatable)")
    b.add_argument("--route", action="append", default=[], choices=ROUTE_IDS,
                   help="only this route (repeatable)")
    b.add_argument("--edition", action="append", default=[], choices=EDITIONS,
                   help="only this edition: standard, large (large print) or bilingual (repeatable)")
    b.add_argument("--strict", action="store_true",
                   help="a handout over its page budget or with overflowing text fails")
    b.add_argument("--output", type=Path, metavar="DIR", help="output folder (default: handouts/)")
    b.add_argument("--allow-incomplete", action="store_true",
                   help="build even where units are untranslated (they print in English)")
    b.add_argument("--time-limit", type=_seconds, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help="fail a handout that takes longer than this to render "
                        f"(default: {DEFAULT_TIME_LIMIT:g})")

    sub.add_parser("check", help="validate content, catalogs and clinics without rendering")

    i = sub.add_parser("i18n", help="translation catalogs (wraps pybabel)")
    isub = i.add_subparsers(dest="i18n_command", required=True, metavar="ACTION")
    isub.add_parser("extract", help="write locales/messages.pot from content, templates and code")
    isub.add_parser("update", help="merge locales/messages.pot into every catalog")
    isub.add_parser("compile", help="compile every catalog to .mo")
    st = isub.add_parser("stats", help="translated, fuzzy and untranslated counts per language")
    st.add_argument("--min", type=float, metavar="PERCENT",
                    help="exit 1 if any language has less than PERCENT translated")
    init = isub.add_parser("init", help="start a catalog for a new language")
    init.add_argument("language", help="a Babel language id such as fr or pt_BR")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # output piped into `head` and the like
        return EXIT_OK


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    project = Project(args.project)
    try:
        if args.command == "build":
            return _build(project, args)
        if args.command == "check":
            return _check(project)
        if args.command == "i18n":
            if args.i18n_command == "extract":
                i18n.extract(project)
            elif args.i18n_command == "update":
                i18n.update(project)
            elif args.i18n_command == "compile":
                i18n.compile_catalogs(project)
            elif args.i18n_command == "init":
                i18n.init(project, args.language)
            elif args.i18n_command == "stats":
                return _stats(project, args.min)
            return EXIT_OK
    except HandoutError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    return EXIT_USAGE


def _build(project, args) -> int:
    clinics = load_clinics(project, args.clinic)
    jobs = plan(clinics, args.language, args.route, args.edition)
    out_dir = args.output or project.root / "handouts"
    results = build(project, jobs, out_dir, allow_incomplete=args.allow_incomplete,
                    strict=args.strict, time_limit=args.time_limit,
                    progress=print_progress)
    failed = [r for r in results if not r.ok]
    incomplete = [r for r in results if r.ok and any("printed in English" in w for w in r.warnings)]
    for result in incomplete:
        print(f"\n{result.job.name}: built with English standing in for missing translations:",
              file=sys.stderr)
        for warning in result.warnings:
            print(f"  {warning}", file=sys.stderr)
    for result in failed:
        print(f"\n{result.job.name}: not built; the previous PDF, if any, is unchanged\n{result.message}",
              file=sys.stderr)
    print(f"handouts: {len(results) - len(failed)} built, {len(failed)} failed, "
          f"{len(incomplete)} incomplete, in {out_dir}")
    return EXIT_FAILED if failed else EXIT_OK


def _stats(project: Project, minimum: float | None) -> int:
    rows = i18n.stats(project)
    print(f"{'language':<10} {'translated':>10} {'fuzzy':>6} {'untranslated':>12} {'done':>7}")
    for row in rows:
        print(f"{row.language:<10} {row.translated:>10} {row.fuzzy:>6} {row.untranslated:>12} "
              f"{row.percent:>6.1f}%")
    below = [row.language for row in rows if minimum is not None and row.percent < minimum]
    if below:
        print(f"below {minimum:g}%: {', '.join(below)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _check(project) -> int:
    findings = check(project)
    for finding in findings:
        print(finding.text, file=sys.stdout if finding.severity == "note" else sys.stderr)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    print(f"handouts check: {errors} error(s), {warnings} warning(s)")
    return EXIT_FAILED if errors else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

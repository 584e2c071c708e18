"""Telling the operator what a build did: log lines as it goes (timestamped, with levels; or
one JSON object per event for log collectors), a closing summary, the same as JSON
(``--report FILE.json``) for whatever watches scheduled builds, and the exit code.

Events (``event`` in a JSON log line): ``start``, ``built``, ``unchanged``, ``failed``,
``warning``, ``english`` (built with English standing in), ``clinic`` (a clinic file's
problem), ``error`` (what stopped the build), ``interrupted``, ``summary``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Iterable
from enum import IntEnum
from pathlib import Path

from . import __version__
from .build import Result, Status
from .environment import versions
from .errors import BuildLocked
from .jobs import output_key
from .output import INDEX_NAME, OutputError

log = logging.getLogger("handouts")


def now() -> str:
    """The clock, in UTC, ISO 8601 to the second: 2026-12-01T02:30:00+00:00."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(),
                "event": getattr(record, "event", "message"),
                "handout": getattr(record, "handout", None),
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


class _TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%SZ")

    converter = time.gmtime  # type: ignore[assignment]  # UTC, as the report


class _Quiet(logging.Filter):
    """--quiet: errors and the summary only."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or getattr(record, "event", "") == "summary"


def setup_logging(log_format: str = "text", quiet: bool = False, stream=None) -> None:
    """Send the build's events to stderr: ``text`` lines (time, level, message) or ``json``
    (one object per line: time, level, event, handout, message)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_JSONFormatter() if log_format == "json" else _TextFormatter())
    if quiet:
        handler.addFilter(_Quiet())
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def event(level: int, name: str, message: str, handout: str | None = None) -> None:
    log.log(level, message, extra={"event": name, "handout": handout})


def is_incomplete(result: Result) -> bool:
    """Built with English standing in for missing translations (--allow-incomplete)."""
    return result.ok and bool(result.fallbacks)


class ExitCode(IntEnum):
    """What ``handouts`` exits with: the one map from outcomes to codes (README, docs/scheduling.md)."""

    OK = 0  # all well
    FAILED = 1  # a handout failed (the others were built), or check/verify found errors
    USAGE = 2  # usage, configuration or content errors: nothing was built
    LOCKED = 3  # another build holds the output folder: this one did nothing
    OUTPUT = 4  # the output folder or the report cannot be written
    INTERRUPTED = 130  # stopped by SIGINT (Ctrl-C), as the shell reports 128 + 2
    TERMINATED = 143  # stopped by SIGTERM (systemd, Kubernetes, kill), as the shell reports 128 + 15


def exit_code(
    results: Iterable[Result] = (), error: BaseException | None = None, broken: bool = False, signum: int | None = None
) -> ExitCode:
    """The exit code of a command: a stopping signal first, then an error that stopped it
    (locked, output not writable, usage), then a clinic file with errors, then a failed handout."""
    if signum is not None:
        return ExitCode.TERMINATED if signum == signal.SIGTERM else ExitCode.INTERRUPTED
    if isinstance(error, BuildLocked):
        return ExitCode.LOCKED
    if isinstance(error, OutputError):
        return ExitCode.OUTPUT
    if error is not None or broken:
        return ExitCode.USAGE
    return ExitCode.FAILED if any(r.status == Status.FAILED for r in results) else ExitCode.OK


class Progress:
    """A progress bar on a terminal (tqdm, text logs only); one log line per handout otherwise
    (cron, CI, log collectors)."""

    def __init__(self, total: int, stream=None, bar: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr  # the one in use now
        #: every result so far: the report keeps them when the build stops midway
        self.results: list[Result] = []
        self.bar = None
        self.wants_bar = bar
        self.start(total)

    def start(self, total: int) -> None:
        """Show a bar for ``total`` handouts (on a terminal), once the plan is known."""
        if total and self.wants_bar and self.stream.isatty() and self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit="handout", dynamic_ncols=True)

    def __call__(self, result: Result, index: int, total: int) -> None:
        self.results.append(result)
        name = result.job.name
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(name, refresh=False)
            if not result.ok:
                self.bar.write(f"FAILED {name}", file=self.stream)
            for warning in result.warnings:
                self.bar.write(f"{name}: warning: {warning}", file=self.stream)
            return
        if result.status == Status.UNCHANGED:
            event(logging.INFO, "unchanged", f"[{index}/{total}] unchanged {result.path}", name)
        elif result.ok:
            event(
                logging.INFO,
                "built",
                f"[{index}/{total}] built {result.path} ({result.pages} pages, "
                f"{result.seconds:.1f} s{', draft translation' if result.draft else ''})",
                name,
            )
        else:
            event(logging.ERROR, "failed", f"[{index}/{total}] FAILED {name}: {result.message}", name)
        for warning in result.warnings:
            event(logging.WARNING, "warning", f"{name}: warning: {warning}", name)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


def counts(results: list[Result]) -> dict[str, int]:
    """How many handouts were built, unchanged and failed; of those built, how many with
    English standing in (``incomplete``) and how many from a draft translation (``drafts``)."""
    found = {status: sum(r.status == status for r in results) for status in STATUSES}
    return {
        **found,
        "incomplete": sum(map(is_incomplete, results)),
        "drafts": sum(r.status == Status.BUILT and r.draft for r in results),
    }


def summary(results: list[Result], out_dir: Path, seconds: float, interrupted: bool = False) -> str:
    """One line: what was built, what failed, what was already up to date, and where."""
    count = counts(results)
    return (
        f"handouts: {'INTERRUPTED: ' if interrupted else ''}{count['built']} built, "
        f"{count['failed']} failed, {count['incomplete']} incomplete, {count['unchanged']} unchanged, "
        f"in {out_dir} ({seconds:.1f} s); the PDFs are in {out_dir}/<clinic>/<language>/, "
        f"the staff index is {out_dir / INDEX_NAME}"
    )


def to_json(
    results: list[Result],
    out_dir: Path | None,
    exit_code: int,
    started: str,
    seconds: float,
    error: str | None = None,
    interrupted: str | None = None,
) -> bytes:
    """The report: when (``started``, ``finished``), where (host, process, output folder), with
    what (generator and package versions), how it ended (exit code, error, interrupted),
    the counts and every handout."""

    def item(result: Result) -> dict:
        data: dict[str, object] = {"output": output_key(result.job), "job": result.job.name}
        if result.status == Status.BUILT:
            data.update(
                pages=result.pages,
                seconds=round(result.seconds, 3),
                draft=result.draft,
                incomplete=is_incomplete(result),
                fallbacks=result.fallbacks,
                warnings=result.warnings,
            )
        elif result.status == Status.FAILED:
            data["reason"] = result.message
        return data

    report = {
        "generator": __version__,
        "versions": versions(),
        "started": started,
        "finished": now(),
        "seconds": round(seconds, 3),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "output": str(out_dir) if out_dir else None,
        "index": str(out_dir / INDEX_NAME) if out_dir else None,
        "exit_code": exit_code,
        "outcome": _outcome(exit_code),
        "error": error,
        "interrupted": interrupted,
        "counts": counts(results),
        **{status: [item(r) for r in results if r.status == status] for status in STATUSES},
    }
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _outcome(code: int) -> str:
    """ok, failed, usage, locked, output, interrupted: the exit code in a word."""
    words = {0: "ok", 1: "failed", 2: "usage", 3: "locked", 4: "output", 130: "interrupted", 143: "interrupted"}
    return words.get(int(code), "unknown")

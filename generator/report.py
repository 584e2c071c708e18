"""Telling the operator what a build did: progress as it goes, a closing summary, and the
same as JSON (``--report FILE.json``) for whatever watches scheduled builds."""
from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterable
from enum import IntEnum
from pathlib import Path

from . import __version__
from .build import Result, Status
from .environment import versions
from .errors import BuildLocked
from .jobs import output_key
from .output import OutputError


def is_incomplete(result: Result) -> bool:
    """Built with English standing in for missing translations (--allow-incomplete)."""
    return result.ok and bool(result.fallbacks)


class ExitCode(IntEnum):
    """What ``handouts`` exits with: the one map from outcomes to codes (README, docs/scheduling.md)."""

    OK = 0            # all well
    FAILED = 1        # a handout failed (the others were built), or check/verify found errors
    USAGE = 2         # usage, configuration or content errors: nothing was built
    LOCKED = 3        # another build holds the output folder: this one did nothing
    OUTPUT = 4        # the output folder or the report cannot be written
    INTERRUPTED = 130  # stopped by SIGINT (Ctrl-C), as the shell reports 128 + 2
    TERMINATED = 143  # stopped by SIGTERM (systemd, Kubernetes, kill), as the shell reports 128 + 15


def exit_code(results: Iterable[Result] = (), error: BaseException | None = None,
              broken: bool = False, signum: int | None = None) -> ExitCode:
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
    """A progress bar on a terminal (tqdm); one plain line per handout otherwise (cron, CI)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.stream = stream
        #: every result so far: the report keeps them when the build stops midway
        self.results: list[Result] = []
        self.bar = None
        self.start(total)

    def start(self, total: int) -> None:
        """Show a bar for ``total`` handouts (on a terminal), once the plan is known."""
        if total and self.stream.isatty() and self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=total, file=self.stream, unit="handout", dynamic_ncols=True)

    def __call__(self, result: Result, index: int, total: int) -> None:
        self.results.append(result)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(result.job.name, refresh=False)
            if not result.ok:
                self.bar.write(f"FAILED {result.job.name}", file=self.stream)
            for warning in result.warnings:
                self.bar.write(f"{result.job.name}: warning: {warning}", file=self.stream)
            return
        if result.status == Status.UNCHANGED:
            status = f"unchanged {result.path}"
        elif result.ok:
            status = f"built {result.path} ({result.pages} pages, {result.seconds:.1f} s)"
        else:
            status = f"FAILED {result.job.name}"
        print(f"[{index}/{total}] {status}", file=self.stream, flush=True)
        for warning in result.warnings:
            print(f"  warning: {warning}", file=self.stream)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


STATUSES: tuple[str, ...] = tuple(s.value for s in Status)


def counts(results: list[Result]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in STATUSES}


def summary(results: list[Result], out_dir: Path, seconds: float) -> str:
    """One line: what was built, what failed, what was already up to date."""
    count = counts(results)
    incomplete = sum(map(is_incomplete, results))
    return (f"handouts: {count['built']} built, {count['failed']} failed, {incomplete} incomplete, "
            f"{count['unchanged']} unchanged, in {out_dir} ({seconds:.1f} s)")


def to_json(results: list[Result], out_dir: Path | None, exit_code: int, started: str,
            seconds: float, error: str | None = None) -> bytes:
    def item(result: Result) -> dict:
        data: dict[str, object] = {"output": output_key(result.job), "job": result.job.name}
        if result.status == Status.BUILT:
            data.update(pages=result.pages, seconds=round(result.seconds, 3),
                        incomplete=is_incomplete(result), fallbacks=result.fallbacks,
                        warnings=result.warnings)
        elif result.status == Status.FAILED:
            data["reason"] = result.message
        return data

    report = {
        "generator": __version__, "versions": versions(), "started": started, "seconds": round(seconds, 3),
        "output": str(out_dir) if out_dir else None, "exit_code": exit_code, "error": error,
        "counts": counts(results),
        **{status: [item(r) for r in results if r.status == status] for status in STATUSES},
    }
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

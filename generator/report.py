"""Telling the operator what a build did: progress as it goes, a closing summary, and the
same as JSON (``--report FILE.json``) for whatever watches scheduled builds."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from . import __version__
from .build import Result, output_key
from .environment import versions
from .errors import UsageError
from .index import source_date_epoch


def is_incomplete(result: Result) -> bool:
    """Built with English standing in for missing translations (--allow-incomplete)."""
    return result.ok and any("printed in English" in w for w in result.warnings)


class Progress:
    """A progress bar on a terminal (tqdm); one plain line per handout otherwise (cron, CI)."""

    def __init__(self, total: int, stream=None) -> None:
        self.stream = stream if stream is not None else sys.stderr  # the one in use now
        self.bar = None
        if total and self.stream.isatty():
            from tqdm import tqdm
            self.bar = tqdm(total=total, file=self.stream, unit="handout", dynamic_ncols=True)

    def __call__(self, result: Result, index: int, total: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(result.job.name, refresh=False)
            if not result.ok:
                self.bar.write(f"FAILED {result.job.name}", file=self.stream)
            for warning in result.warnings:
                self.bar.write(f"{result.job.name}: warning: {warning}", file=self.stream)
            return
        if result.status == "unchanged":
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


STATUSES = ("built", "unchanged", "failed")


def counts(results: list[Result]) -> dict[str, int]:
    return {status: sum(r.status == status for r in results) for status in STATUSES}


def summary(results: list[Result], out_dir: Path, seconds: float) -> str:
    """One line: what was built, what failed, what was already up to date."""
    count = counts(results)
    incomplete = sum(map(is_incomplete, results))
    return (f"handouts: {count['built']} built, {count['failed']} failed, {incomplete} incomplete, "
            f"{count['unchanged']} unchanged, in {out_dir} ({seconds:.1f} s)")


def started_at() -> str:
    """When the build started: from SOURCE_DATE_EPOCH when set (reproducible), else the clock."""
    try:
        when = source_date_epoch()
    except UsageError:  # the build refuses it before doing anything, and says so
        when = None
    return (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")


def to_json(results: list[Result], out_dir: Path | None, exit_code: int, started: str,
            seconds: float, error: str | None = None) -> bytes:
    def item(result: Result) -> dict:
        data: dict[str, object] = {"output": output_key(result.job), "job": result.job.name}
        if result.status == "built":
            data.update(pages=result.pages, seconds=round(result.seconds, 3),
                        incomplete=is_incomplete(result), warnings=result.warnings)
        elif result.status == "failed":
            data["reason"] = result.message
        return data

    report = {
        "generator": __version__, "versions": versions(), "started": started, "seconds": round(seconds, 3),
        "output": str(out_dir) if out_dir else None, "exit_code": exit_code, "error": error,
        "counts": counts(results),
        **{status: [item(r) for r in results if r.status == status] for status in STATUSES},
    }
    return (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

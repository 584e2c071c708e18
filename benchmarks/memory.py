"""Peak memory over a long build (issue 17: "peak memory flat over 500 renders"): the build runs
as the scheduled job runs it (its render processes, replaced every TASKS_PER_WORKER handouts
each), and its processes' resident memory is read from /proc four times a second. The renders
are counted as their PDFs appear in the output folder (the build writes each one as it comes).

Printed: for every 50 renders, the largest single process's peak (a render process, nearly
always) and the peak of all the build's processes together; then the verdict: flat when the
last 100 renders' peak is within 10 % of the first 100's. (e)'s plan repeats the same 140
documents for each copy of the clinic, so the first and the last copy are compared as well,
document for document.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: how often /proc is read
SAMPLE_SECONDS = 0.25
#: renders per line of the series
WINDOW = 50
#: the verdict's tolerance: last 100 renders' peak against the first 100's
FLAT = 0.10
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Series:
    """Samples of one build: (renders done, largest process MB, all processes MB, processes)."""

    samples: list[tuple[int, float, float, int]] = field(default_factory=list)

    def windows(self, size: int = WINDOW) -> list[tuple[int, int, float, float]]:
        """(first render, last render, peak of the largest process, peak of the sum) per window."""
        done = max((s[0] for s in self.samples), default=0)
        rows = []
        for start in range(0, done, size):
            # a sample taken while render start+1 .. start+size was being made
            inside = [s for s in self.samples if start <= s[0] < start + size]
            if inside:
                rows.append((start + 1, min(start + size, done), max(s[1] for s in inside), max(s[2] for s in inside)))
        return rows

    def peak(self, first: int, last: int) -> float:
        """The largest process's peak while renders first..last (1-based) were made."""
        return max((s[1] for s in self.samples if first - 1 <= s[0] < last), default=0.0)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_rss(root: int) -> tuple[float, float, int]:
    """(largest process MB, all processes MB, how many) of ``root`` and its descendants."""
    tree, pids, stack = _children(), [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(tree.get(pid, ()))
    sizes = [_rss_mb(pid) for pid in pids]
    return max(sizes, default=0.0), sum(sizes), len(pids)


def sampled(args: list[str], out_dir: Path, stream: bool = True) -> tuple[float, float, int, Series]:
    """Run a build, sampling its memory; (wall s, CPU s of it and its waited children, exit code,
    series). Each window of WINDOW renders is printed as soon as it is done (``stream``), so
    that a run stopped early still shows its series. Orphans (the fork server, render processes
    left when the build exits) are reaped and counted by the caller (bench._reap)."""
    series = Series()
    shown = 0
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            largest, total, count = tree_rss(proc.pid)
            done = sum(1 for _ in out_dir.rglob("*.pdf")) if out_dir.exists() else 0
            series.samples.append((done, largest, total, count))
            if stream and done >= shown + WINDOW:
                shown = _show(series, shown, done)
            time.sleep(SAMPLE_SECONDS)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        if code:
            out.seek(0)
            raise SystemExit(f"{' '.join(args)} exited {code}:\n{out.read().decode()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, code, series


def _show(series: Series, shown: int, done: int) -> int:
    """Print the windows finished since render ``shown``; the renders shown now."""
    for first, last, largest, total in series.windows():
        if first > shown and last - first + 1 == WINDOW and last <= done:
            print(
                f"      renders {first:4d}-{last:4d}: {largest:6.0f} / {total:6.0f} MB  {time.strftime('%H:%M:%S')}",
                flush=True,
            )
            shown = last
    return shown


def report(series: Series, renders: int, period: int | None = None) -> bool:
    """Print the series and the verdict; whether memory is flat."""
    print(f"    memory over {renders} renders (largest process / all the build's processes, MB, peak per {WINDOW}):")
    for first, last, largest, total in series.windows():
        print(f"      renders {first:4d}-{last:4d}: {largest:6.0f} / {total:6.0f}")
    if renders < 200:
        print(f"    memory verdict: not judged ({renders} renders; flat is judged over at least 200)")
        return False
    early, late = series.peak(1, 100), series.peak(renders - 99, renders)
    flat = late <= early * (1 + FLAT)
    print(
        f"    memory verdict: {'FLAT' if flat else 'NOT FLAT'}: last 100 renders' peak {late:.0f} MB, "
        f"first 100's {early:.0f} MB ({100 * (late / early - 1):+.0f} %, flat within {100 * FLAT:.0f} %)"
    )
    if period and renders >= 2 * period:
        a, b = series.peak(1, period), series.peak(renders - period + 1, renders)
        print(
            f"    same documents: the first clinic copy's {period} renders peak {a:.0f} MB, the last copy's {b:.0f} MB "
            f"({100 * (b / a - 1):+.0f} %)"
        )
    return flat

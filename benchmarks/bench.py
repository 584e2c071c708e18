"""Benchmark scheduled builds on the example clinic (every language x route, standard edition:
48 handouts), side by side with what the renderer and other renderers can do.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench.py [--jobs N] [--quick]``). It
works on a copy of the project in a temporary folder and prints, in one run:

  (a) a full build with --force (and the same for every edition)
  (b) a rebuild with nothing changed
  (c) a rebuild after one English unit of one route changed (and its msgid in every catalog)
  (d) the naive baseline: one ``weasyprint`` command-line process per handout, same HTML
  (a)/(d), wall and CPU
  the project's own overhead against WeasyPrint's render+write of the same documents, per
      phase (compose, layout, cascade, draw, CJK compaction, checks, manifest and index),
      and a line ``overhead: N%``
  (e) every edition of four clinics (560 renders): the per-handout figure for all editions,
      and peak memory over them (flat?) against (a)'s
  typst (pip ``typst``, from benchmarks/requirements-bench.lock) and headless Chromium on
      comparable documents, where installed

Every figure is given as wall time and CPU time (this process's children, orphans included:
the bench is their subreaper), with the load average, because the machine is shared.
``--quick`` narrows everything to en, ar and zh_Hans x iv, oral (6 handouts), 3 renders for the
phase table and no (e). Targets (2 cores): (a) <= 0.12 x (d); overhead <= 15 %; CJK compaction
<= 50 ms per handout; (b) < 0.5 s; peak memory flat. Figures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

UNIT = "A nurse puts the IV line into a vein in your arm."  # used by the IV route only
QUICK_LANGUAGES, QUICK_ROUTES = ("en", "ar", "zh_Hans"), ("iv", "oral")
#: the phase table's sample: a Latin, an Arabic and two CJK languages, every route
PHASE_LANGUAGES = ("en", "ar", "zh_Hans", "ko")


@dataclass
class Run:
    """One command: wall seconds, CPU seconds of it and all its descendants, peak RSS (MB) of
    its largest process, what it printed."""

    wall: float
    cpu: float
    rss: float
    out: str


def _subreaper() -> None:
    """Become the subreaper of our descendants: the build's fork server and its render processes
    are reparented to us when the build exits, so that their CPU time is counted (wait4)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _reap(deadline: float = 5.0) -> tuple[float, float]:
    """Wait for orphans that were reparented to us; their CPU seconds and largest RSS (MB)."""
    cpu, rss, end = 0.0, 0.0, time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.02)
            continue
        cpu, rss = cpu + usage.ru_utime + usage.ru_stime, max(rss, usage.ru_maxrss / 1024)
    return cpu, rss


def timed(*args: str, ok: tuple[int, ...] = (0,)) -> Run:
    """Run a command; its wall and CPU seconds (it, the children it waited for, and the orphans
    reparented to us, such as the build's fork server with its render processes) and the peak
    RSS of the largest of those processes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        orphans_cpu, orphans_rss = _reap()
        out.seek(0)
        err.seek(0)
        if proc.returncode not in ok:
            sys.exit(f"{' '.join(args)} exited {proc.returncode}:\n{err.read().decode()[-3000:]}")
        cpu = usage.ru_utime + usage.ru_stime + orphans_cpu
        return Run(wall, cpu, max(usage.ru_maxrss / 1024, orphans_rss), out.read().decode())


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def copy_project(dest: Path) -> Path:
    for name in ("content", "locales", "templates", "babel.cfg"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.mo"))
        else:
            shutil.copy(src, dest / name)
    return dest


def handouts(project: Path, *args: str) -> Run:
    return timed(str(BIN / "handouts"), "--project", str(project), *args)


def report_of(path: Path) -> dict:
    return json.loads(path.read_text())


def narrow(quick: bool) -> tuple[str, ...]:
    if not quick:
        return ()
    return (
        *(a for lang in QUICK_LANGUAGES for a in ("--language", lang)),
        *(a for r in QUICK_ROUTES for a in ("--route", r)),
    )


def naive(project: Path, tmp: Path, quick: bool) -> tuple[Run, int]:
    """One `weasyprint` process per handout, on the HTML the pipeline composes."""
    from generator.build import compose_job, load_clinics, plan
    from generator.content import load_content
    from generator.pdf import PDF_VARIANT
    from generator.project import Project
    from generator.translation import Translators

    proj = Project(project)
    content, translators = load_content(proj.content), Translators(proj.locales)
    languages, routes = (QUICK_LANGUAGES, QUICK_ROUTES) if quick else ((), ())
    jobs = plan(load_clinics(proj, ["example"]), languages, routes, editions=["standard"])
    html_dir, pdf_dir = tmp / "html", tmp / "naive"
    html_dir.mkdir(exist_ok=True)
    pdf_dir.mkdir(exist_ok=True)
    for job in jobs:  # as build.py composes them
        doc = compose_job(job, content, translators, proj.templates)
        (html_dir / f"{job.language}-{job.route}.html").write_text(doc.html, "utf-8")
    base = proj.templates.resolve().as_uri() + "/"
    total = Run(0.0, 0.0, 0.0, "")
    for page in sorted(html_dir.iterdir()):
        one = timed(
            str(BIN / "weasyprint"), "-q", "--pdf-variant", PDF_VARIANT, "-u", base, str(page),
            str(pdf_dir / page.with_suffix(".pdf").name),
        )  # fmt: skip
        total = Run(total.wall + one.wall, total.cpu + one.cpu, max(total.rss, one.rss), "")
    return total, len(jobs)


def line(label: str, r: Run, n: int, extra: str = "") -> None:
    print(
        f"{label:<44} {r.wall:7.1f} s wall {r.cpu:7.1f} s CPU  {n:3d} handouts "
        f"({r.wall / max(n, 1):.2f} s, {r.cpu / max(n, 1):.2f} CPU-s each)  peak RSS {r.rss:.0f} MB  {load()}{extra}"
    )


def builds(project: Path, tmp: Path, jobs: str, quick: bool) -> dict:
    out, report = tmp / "out", tmp / "report.json"
    common = ("build", "--clinic", "example", "--output", str(out), "--jobs", jobs, "--report", str(report))
    standard = (*common, "--edition", "standard", *narrow(quick))
    figures: dict = {}
    a = figures["a"] = handouts(project, *standard, "--force")
    n = figures["n"] = report_of(report)["counts"]["built"]
    line("(a) full build, standard, --force", a, n)
    b = handouts(project, *standard)
    print(
        f"{'(b) rebuild, nothing changed':<44} {b.wall:7.2f} s wall (the build itself "
        f"{report_of(report)['seconds']:.2f} s; the rest is starting Python)  {report_of(report)['counts']}  {load()}"
    )
    (project / "content/iv/expect.md").write_text(
        (project / "content/iv/expect.md").read_text().replace(UNIT, UNIT[:-1] + " or hand.")
    )
    for po in project.glob("locales/*/LC_MESSAGES/messages.po"):
        po.write_text(po.read_text().replace(f'msgid "{UNIT}"', f'msgid "{UNIT[:-1]} or hand."'))
    c = handouts(project, *standard)
    rebuilt = report_of(report)["counts"]["built"]
    print(
        f"{'(c) rebuild, one unit changed':<44} {c.wall:7.1f} s wall {c.cpu:7.1f} s CPU  {rebuilt} of {n} rebuilt: "
        f"{c.cpu / max(a.cpu, 1e-9):.2f} x (a) CPU, proportional share {rebuilt / max(n, 1):.2f}  {load()}"
    )
    sizes: dict[str, int] = {}
    for pdf in out.rglob("*.pdf"):
        sizes[pdf.parent.name] = max(sizes.get(pdf.parent.name, 0), pdf.stat().st_size)
    print("largest PDF per language (KB): " + ", ".join(f"{k} {v / 1024:.0f}" for k, v in sorted(sizes.items())))
    return figures


def every_edition(
    project: Path, tmp: Path, jobs: str, a: Run | None, quick: bool, clinics: int, editions: tuple[str, ...] = ()
) -> None:
    """(e) every edition (standard, large, bilingual) of ``clinics`` copies of the example clinic,
    140 renders each (560 by default) in one build: the figure for all editions, and its
    memory sampled over the renders (benchmarks/memory.py), against (a)'s peak. ``editions``
    narrows it (--memory: the standard edition, 48 renders per copy)."""
    import memory  # benchmarks/memory.py

    clinics = 1 if quick else clinics
    for i in range(2, clinics + 1):
        shutil.copy(project / "content/clinics/example.toml", project / f"content/clinics/example{i}.toml")
    (project / "content/clinics/thameside.toml").unlink(missing_ok=True)
    report, out = tmp / "report-e.json", tmp / "out-e"
    args = [
        str(BIN / "handouts"), "--project", str(project), "build", "--output", str(out), "--jobs", jobs,
        "--report", str(report), "--quiet", *narrow(quick), *(a for e in editions for a in ("--edition", e)),
    ]  # fmt: skip
    print(
        f"(e) {' '.join(editions) or 'every'} edition(s) of {clinics} clinic copies, memory by {memory.WINDOW} renders:"
    )
    wall, cpu, _, series = memory.sampled(args, out)
    orphans_cpu, orphans_rss = _reap()
    m = report_of(report)["counts"]["built"]
    peak = max([orphans_rss, *(sample[1] for sample in series.samples)])
    e = Run(wall, cpu + orphans_cpu, peak, "")
    label = f"(e) {'/'.join(editions) or 'every'} edition, {clinics} clinic(s)"
    line(label, e, m, f"  vs {a.rss:.0f} MB for (a)" if a else "")
    memory.report(series, m, period=m // clinics if clinics > 1 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="render processes")
    parser.add_argument("--quick", action="store_true", help="6 handouts, 3 in the phase table, (e) on one clinic")
    parser.add_argument("--no-patch", action="store_true", help="skip timing the WeasyPrint column patch")
    parser.add_argument(
        "--clinics", type=int, default=4, help="copies of the example clinic in (e), 140 renders each (default 4)"
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="only the memory series: the standard edition of --clinics copies (48 renders each; 11 for 500+)",
    )
    args = parser.parse_args()
    _subreaper()
    import floor  # benchmarks/floor.py
    import phases  # benchmarks/phases.py

    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = copy_project(tmp / "project")
        print(f"handouts benchmark: {os.cpu_count()} CPUs, --jobs {args.jobs}, {load()}, project copy in {tmp}")
        if args.memory:
            every_edition(project, tmp, str(args.jobs), None, args.quick, args.clinics, ("standard",))
            return
        figures = builds(project, tmp, str(args.jobs), args.quick)
        d, count = naive(project, tmp, args.quick)
        line("(d) naive: one weasyprint process each", d, count)
        a = figures["a"]
        print(f"    (a) / (d) = {a.wall / d.wall:.3f} wall, {a.cpu / d.cpu:.3f} CPU  (target <= 0.12)")
        sample = phases.sample_jobs(project, args.quick)
        phases.install()
        digests: dict[str, str] = {}
        table = phases.measure(project, sample, digests)
        phases.print_table(table, phases.bookkeeping(project, tmp / "out", figures["n"]))
        if not args.no_patch:
            import column_patch  # benchmarks/column_patch.py: WeasyPrint patched in this process only

            column_patch.apply()
            patched_digests: dict[str, str] = {}
            patched = phases.measure(project, sample, patched_digests)
            phases.print_patched(table, patched, digests, patched_digests)
        floor.compare(project, tmp, sample[:3] if args.quick else sample, table)
        every_edition(project, tmp, str(args.jobs), a, args.quick, args.clinics)


if __name__ == "__main__":
    main()

"""Benchmark scheduled builds on the example clinic's full matrix (every language x route,
standard edition: 48 handouts).

Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench.py``). It works on a copy
of the project in a temporary folder and times, in one run:

  (a) a full build with --force
  (b) a rebuild with nothing changed
  (c) a rebuild after one English unit of one route changed (and its msgid in every catalog)
  (d) the naive baseline: one ``weasyprint`` command-line process per handout, same HTML
  (e) a full build of four clinics (4 x 48 handouts), to see that peak memory stays flat

and prints the ratios, the peak memory of the largest process, and the PDF sizes.
Targets (2 cores): (a) <= 0.12 x (d); (b) < 0.5 s; (c) proportional to the handouts that
use the unit; peak memory flat. Figures and findings: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
UNIT = "A nurse puts the IV line into a vein in your arm."  # used by the IV route only


def run(*args: str) -> tuple[float, float, subprocess.CompletedProcess | None]:
    """Run a command; wall seconds and the peak RSS (MB) of its largest process (children
    included, as the kernel reports them to wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0,):
        sys.exit(f"{' '.join(args)} exited {code}:\n{err.decode()}")
    return seconds, usage.ru_maxrss / 1024, out.decode()


def copy_project(dest: Path) -> Path:
    for name in ("content", "locales", "templates", "babel.cfg"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("*.mo"))
        else:
            shutil.copy(src, dest / name)
    return dest


def handouts(project: Path, *args: str):
    return run(str(BIN / "handouts"), "--project", str(project), *args)


def build_seconds(report: Path) -> float:
    return json.loads(report.read_text())["seconds"]


def counts(report: Path) -> dict:
    return json.loads(report.read_text())["counts"]


def naive(project: Path, tmp: Path) -> tuple[float, float, int]:
    """One `weasyprint` process per handout, on the HTML the pipeline composes."""
    sys.path.insert(0, str(ROOT))
    from generator.build import load_clinics, plan
    from generator.content import load_content
    from generator.html import compose
    from generator.pdf import PDF_VARIANT
    from generator.project import Project
    from generator.translation import Translators

    proj = Project(project)
    content, translators = load_content(proj.content), Translators(proj.locales)
    jobs = plan(load_clinics(proj, ["example"]), editions=["standard"])
    html_dir, pdf_dir = tmp / "html", tmp / "naive"
    html_dir.mkdir()
    pdf_dir.mkdir()
    for job in jobs:  # as build.py composes them
        doc = compose(
            job.clinic,
            content.routes[job.route],
            translators.get(job.language),
            proj.templates,
            online_url=job.clinic.online_url(job.language, job.route, job.filename),
        )
        (html_dir / f"{job.language}-{job.route}.html").write_text(doc.html, "utf-8")
    base = proj.templates.resolve().as_uri() + "/"
    total, peak = 0.0, 0.0
    for page in sorted(html_dir.iterdir()):
        seconds, rss, _ = run(
            str(BIN / "weasyprint"),
            "-q",
            "--pdf-variant",
            PDF_VARIANT,
            "-u",
            base,
            str(page),
            str(pdf_dir / page.with_suffix(".pdf").name),
        )
        total, peak = total + seconds, max(peak, rss)
    return total, peak, len(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count(), help="render processes")
    parser.add_argument("--quick", action="store_true", help="skip (d) and (e), the long ones")
    args = parser.parse_args()
    jobs = str(args.jobs)
    with tempfile.TemporaryDirectory(prefix="handouts-bench-") as tmp_name:
        tmp = Path(tmp_name)
        project = copy_project(tmp / "project")
        out, report = tmp / "out", tmp / "report.json"
        common = (
            "build",
            "--clinic",
            "example",
            "--edition",
            "standard",
            "--output",
            str(out),
            "--jobs",
            jobs,
            "--report",
            str(report),
        )
        print(f"handouts benchmark: {os.cpu_count()} CPUs, --jobs {jobs}, project copy in {tmp}")

        a, a_rss, _ = handouts(project, *common, "--force")
        n = counts(report)["built"]
        print(
            f"(a) full build, --force:        {a:6.1f} s  {n} handouts  ({a / n:.2f} s each)  peak RSS {a_rss:.0f} MB"
        )

        b, b_rss, _ = handouts(project, *common)
        print(
            f"(b) rebuild, nothing changed:   {b:6.2f} s  (build itself {build_seconds(report):.2f} s, "
            f"the rest is starting Python)  {counts(report)}"
        )

        (project / "content/iv/expect.md").write_text(
            (project / "content/iv/expect.md").read_text().replace(UNIT, UNIT[:-1] + " or hand.")
        )
        for po in project.glob("locales/*/LC_MESSAGES/messages.po"):
            po.write_text(po.read_text().replace(f'msgid "{UNIT}"', f'msgid "{UNIT[:-1]} or hand."'))
        c, _, _ = handouts(project, *common)
        rebuilt = counts(report)["built"]
        print(
            f"(c) rebuild, one unit changed:  {c:6.1f} s  {rebuilt} of {n} rebuilt: "
            f"{c / a:.2f} x (a), proportional share {rebuilt / n:.2f}"
        )

        sizes: dict[str, int] = {}
        for pdf in out.rglob("*.pdf"):
            language = pdf.parent.name
            sizes[language] = max(sizes.get(language, 0), pdf.stat().st_size)
        print(
            "largest PDF per language (KB): "
            + ", ".join(f"{lang} {size / 1024:.0f}" for lang, size in sorted(sizes.items()))
        )

        if args.quick:
            return
        d, d_rss, count = naive(project, tmp)
        print(f"(d) naive, one weasyprint process per handout: {d:6.1f} s  {count} handouts  peak RSS {d_rss:.0f} MB")
        print(f"    (a) / (d) = {a / d:.3f}  (target <= 0.12)")

        for i in range(2, 5):
            shutil.copy(project / "content/clinics/example.toml", project / f"content/clinics/example{i}.toml")
        (project / "content/clinics/thameside.toml").unlink()
        e, e_rss, _ = handouts(
            project,
            "build",
            "--edition",
            "standard",
            "--output",
            str(tmp / "out4"),
            "--jobs",
            jobs,
            "--report",
            str(report),
        )
        m = counts(report)["built"]
        print(
            f"(e) four clinics, {m} handouts:  {e:6.1f} s  peak RSS {e_rss:.0f} MB (vs {a_rss:.0f} MB for {n} handouts)"
        )


if __name__ == "__main__":
    main()

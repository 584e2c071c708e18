"""Where one handout's CPU time goes, in this process, warm (as in a render process forked from
the fork server): WeasyPrint's own phases against the project's own work around them.

The timers wrap functions of WeasyPrint and of the generator in this process only (the bench
is not the product): nothing they wrap changes what it returns.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

#: name -> (module path, attribute): WeasyPrint's phases, then the project's own stages
WEASYPRINT = {
    "cascade": ("weasyprint.document", "get_all_computed_styles"),
    "boxes": ("weasyprint.document", "build_formatting_structure"),
    "layout": ("weasyprint.document", "layout_document"),
    "draw": ("weasyprint.document", "generate_pdf"),
}
PROJECT = {
    "compose": ("generator.build", "compose_job"),
    "compaction": ("generator.pdf", "compact_cid_fonts"),
    "overflow": ("generator.layout", "overflows"),
    "overlap": ("generator.overlap", "overlaps"),
    "verify": ("generator.build", "check_pdf"),
    "gates": ("generator.pdfsafety", "pdf_problems"),
}


class Clock:
    """CPU seconds per phase for the handout being measured; nested phases are counted in
    their own line and also in the outer one's (the table subtracts)."""

    def __init__(self) -> None:
        self.now: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                result = function(*args, **kwargs)
            finally:
                self.now[name] += time.process_time() - start
                self.calls[name] += 1
            return self._steps(name, result) if isinstance(result, Generator) else result

        timed.__wrapped__ = function  # type: ignore[attr-defined]
        return timed

    def _steps(self, name: str, steps: Generator) -> Iterator:
        """A generator's work happens as it is iterated (layout_document yields page by page)."""
        while True:
            start = time.process_time()
            try:
                item = next(steps)
            except StopIteration:
                return
            finally:
                self.now[name] += time.process_time() - start
            yield item


_CLOCK = Clock()


def install() -> None:
    """Put the timers in place (once per process)."""
    clock = _CLOCK
    import importlib

    from weasyprint import HTML
    from weasyprint.document import Document

    for name, (module, attribute) in {**WEASYPRINT, **PROJECT}.items():
        mod = importlib.import_module(module)
        setattr(mod, attribute, clock.wrap(name, getattr(mod, attribute)))
    HTML.render = clock.wrap("render", HTML.render)  # parse + cascade + boxes + layout
    Document.write_pdf = clock.wrap("write", Document.write_pdf)  # draw + finisher + serialise


def sample_jobs(project: Path, quick: bool) -> list:
    from generator.build import load_clinics, plan
    from generator.project import Project

    languages = ("en", "ar", "zh_Hans")
    routes = ("iv",) if quick else ()
    jobs = plan(load_clinics(Project(project), ["example"]), languages, routes, ["standard"])
    return sorted(jobs, key=lambda job: languages.index(job.language))


def measure(project: Path, jobs: list, digests: dict[str, str]) -> dict[str, list[dict[str, float]]]:
    """Render each job as a render process does (build._contained), timing every phase;
    language -> one dict of CPU seconds per handout. Each PDF's SHA-256 goes in ``digests``."""
    from generator import build
    from generator.build import BuildOptions
    from generator.content import load_content
    from generator.pdf import warm_up
    from generator.project import Project
    from generator.translation import Translators

    proj = Project(project)
    warm_up()  # what the fork server does before it forks a render process
    build._worker.update(
        project=proj, content=load_content(proj.content), options=BuildOptions(), translators=Translators(proj.locales)
    )
    clock = _CLOCK
    table: dict[str, list[dict[str, float]]] = defaultdict(list)
    for job in jobs:
        clock.now.clear()
        clock.calls.clear()
        start = time.process_time()
        outcome, _ = build._contained(job)
        if not isinstance(outcome, build.Rendered):
            raise SystemExit(f"{job.name}: {outcome}")
        row = dict(clock.now, total=time.process_time() - start, renders=clock.calls["render"])
        table[job.language].append(row)
        digests[job.name] = hashlib.sha256(outcome.data).hexdigest()
    return table


def bookkeeping(project: Path, out_dir: Path, count: int) -> float:
    """CPU seconds per handout of what a build does besides rendering: hashing every handout's
    inputs (manifest) and writing the staff index pages, for a build of ``count`` handouts."""
    from generator.build import Inputs, Manifest, _update_index, load_clinics, plan
    from generator.content import load_content
    from generator.manifest import MANIFEST_NAME
    from generator.project import Project

    proj = Project(project)
    start = time.process_time()
    content = load_content(proj.content)
    inputs = Inputs(proj, content)
    for job in plan(load_clinics(proj, ["example"]), editions=["standard"]):
        inputs.of(job)
    _update_index(proj, content, out_dir, Manifest.load(out_dir / MANIFEST_NAME), inputs, force=True)
    return (time.process_time() - start) / max(count, 1)


def split(row: dict[str, float]) -> dict[str, float]:
    """One handout's CPU seconds by phase: WeasyPrint's (its first layout, and write) and the
    project's. A second layout (the Get-help box's alternative, see pdf._balanced) is the
    project's choice, so it counts as the project's."""
    renders = max(int(row.get("renders", 1)), 1)
    share = 1 / renders  # WeasyPrint's phases of the first layout only (they cost about the same)
    parts = {name: row.get(name, 0.0) * share for name in ("cascade", "boxes", "layout")}
    parts["parse"] = row.get("render", 0.0) * share - sum(parts.values())
    parts["draw + write"] = row.get("write", 0.0) - row.get("compaction", 0.0)
    weasy = sum(parts.values())
    own = {
        "second layout": row.get("render", 0.0) * (1 - share),
        "compose": row.get("compose", 0.0),
        "CJK compaction": row.get("compaction", 0.0),
        "overflow + overlap": row.get("overflow", 0.0) + row.get("overlap", 0.0),
        "verify": row.get("verify", 0.0),
        "gates": row.get("gates", 0.0),
    }
    own["other"] = row["total"] - weasy - sum(own.values())
    return {**parts, "WeasyPrint": weasy, **own, "total": row["total"], "layouts (count)": renders / 1000}


def print_table(table: dict[str, list[dict[str, float]]], bookkeeping_s: float) -> None:
    languages = list(table)
    means = {}
    for lang in languages:
        rows = [split(row) for row in table[lang]]
        mean = {key: sum(r[key] for r in rows) / len(rows) for key in rows[0]}
        layouts, total = mean.pop("layouts (count)"), mean.pop("total")
        means[lang] = {**mean, "manifest + index": bookkeeping_s, "total": total + bookkeeping_s}
        means[lang]["layouts per handout (n)"] = layouts
    print(f"\nCPU ms per handout, warm, one process ({', '.join(f'{k} x{len(v)}' for k, v in table.items())}):")
    print(f"{'phase':<24}" + "".join(f"{lang:>10}" for lang in languages))
    for key in means[languages[0]]:
        digits = 2 if key.endswith("(n)") else 0
        print(f"{key:<24}" + "".join(f"{means[lang][key] * 1000:10.{digits}f}" for lang in languages))
    weasy = sum(means[lang]["WeasyPrint"] * len(table[lang]) for lang in languages)
    total = sum(means[lang]["total"] * len(table[lang]) for lang in languages)
    own = total - weasy
    print(f"WeasyPrint render + write: {weasy:.2f} CPU-s; the project's own work: {own:.2f} CPU-s")
    print(f"overhead: {100 * own / weasy:.0f}%  (target <= 15%)")
    second = sum(means[lang]["second layout"] * len(table[lang]) for lang in languages)
    print(f"  of which second layouts (the Get-help box's alternative, pdf._balanced): {100 * second / weasy:.0f}%")
    cjk = [row.get("compaction", 0.0) for lang in ("zh_Hans", "ko") for row in table.get(lang, [])]
    if cjk:
        print(f"CJK compaction: {1000 * sum(cjk) / len(cjk):.1f} ms per CJK handout (max {1000 * max(cjk):.1f})")


def print_patched(table: dict, patched: dict, before: dict[str, str], after: dict[str, str]) -> None:
    """The column patch's gain on the same handouts, and whether their PDFs stayed the same."""
    cpu = sum(row["total"] for rows in table.values() for row in rows)
    cpu_patched = sum(row["total"] for rows in patched.values() for row in rows)
    layout = sum(row.get("layout", 0.0) for rows in table.values() for row in rows)
    layout_patched = sum(row.get("layout", 0.0) for rows in patched.values() for row in rows)
    same = sum(before[name] == after.get(name) for name in before)
    print(
        f"\nWeasyPrint column patch (benchmarks/column_patch.py, this process only): per handout "
        f"{cpu / len(before):.2f} -> {cpu_patched / len(before):.2f} CPU-s ({cpu_patched / cpu:.2f} x), "
        f"layout {layout_patched / layout:.2f} x; PDFs byte-identical: {same} of {len(before)}"
    )

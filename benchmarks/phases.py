"""Where one handout's CPU time goes, in this process, warm (as in a render process forked from
the fork server): WeasyPrint's own phases against the project's own work around them.

The timers wrap functions of WeasyPrint and of the generator in this process only (the bench
is not the product): nothing they wrap changes what it returns. CPU time is this process's and
its waited-for children's (``pdftotext`` in verification, ``msgfmt`` in loading a catalog).

Alone: ``.venv/bin/python benchmarks/phases.py [--quick]`` prints the table for a copy of the
project (en, ar, zh_Hans; every route, or iv only with ``--quick``), without the builds.
"""

from __future__ import annotations

import hashlib
import resource
import sys
import tempfile
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
    "catalogs": ("generator.translation", "load_translator"),
    "compaction": ("generator.pdf", "compact_cid_fonts"),
    "overflow": ("generator.layout", "overflows"),
    "overlap": ("generator.overlap", "overlaps"),
    "help gap": ("generator.overlap", "help_gap"),
    "split boxes": ("generator.overlap", "split_boxes"),
    "flow": ("generator.overlap", "flow_problems"),
    "page areas": ("generator.pdf", "page_areas"),
    "draft status": ("generator.build", "_draft"),
    "verify": ("generator.build", "check_pdf"),
    "pdftotext": ("generator.verify", "page_texts"),
    "gates": ("generator.pdfsafety", "pdf_problems"),
}


def cpu() -> float:
    """CPU seconds of this process and of the children it has waited for (microseconds)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """CPU seconds per phase for the handout being measured; nested phases are counted in
    their own line and also in the outer one's (the table subtracts)."""

    def __init__(self) -> None:
        self.now: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def wrap(self, name: str, function: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = cpu()
            try:
                result = function(*args, **kwargs)
            finally:
                self.now[name] += cpu() - start
                self.calls[name] += 1
            return self._steps(name, result) if isinstance(result, Generator) else result

        timed.__wrapped__ = function  # type: ignore[attr-defined]
        return timed

    def _steps(self, name: str, steps: Generator) -> Iterator:
        """A generator's work happens as it is iterated (layout_document yields page by page)."""
        while True:
            start = cpu()
            try:
                item = next(steps)
            except StopIteration:
                return
            finally:
                self.now[name] += cpu() - start
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
    HTML.__init__ = clock.wrap("html", HTML.__init__)  # the HTML parsed into a tree
    HTML.render = clock.wrap("render", HTML.render)  # parse + cascade + boxes + layout
    Document.write_pdf = clock.wrap("write", Document.write_pdf)  # draw + finisher + serialise


def sample_jobs(project: Path, quick: bool) -> list:
    from generator.build import load_clinics, plan
    from generator.project import Project

    languages = ("en", "ar", "zh_Hans")
    routes = ("iv",) if quick else ()
    jobs = plan(load_clinics(Project(project), ["example"]), languages, routes, ["standard"])
    return sorted(jobs, key=lambda job: languages.index(job.language))


def measure(
    project: Path, jobs: list, digests: dict[str, str], out_dir: Path | None = None
) -> dict[str, list[dict[str, float]]]:
    """Render each job as a render process does (build._contained), timing every phase;
    language -> one dict of CPU seconds per handout. Each PDF's SHA-256 goes in ``digests``."""
    from generator import build
    from generator.build import BuildOptions, output_key
    from generator.content import load_content
    from generator.pdf import warm_up
    from generator.project import Project
    from generator.translation import Translators

    proj = Project(project)
    warm_up()  # what the fork server does before it forks a render process
    content = load_content(proj.content)
    # a render process's first handout also compiles the templates and imports what the fork
    # server did not (once per process, for up to TASKS_PER_WORKER handouts): made once here,
    # with catalogs loaded afresh below, as a render process loads each language it meets
    build._worker.update(project=proj, content=content, options=BuildOptions(), translators=Translators(proj.locales))
    build._contained(jobs[0])
    build._worker.update(translators=Translators(proj.locales))
    clock = _CLOCK
    table: dict[str, list[dict[str, float]]] = defaultdict(list)
    for job in jobs:
        clock.now.clear()
        clock.calls.clear()
        start = cpu()
        outcome, _ = build._contained(job)
        if not isinstance(outcome, build.Rendered):
            raise SystemExit(f"{job.name}: {outcome}")
        row = dict(clock.now, total=cpu() - start, renders=clock.calls["render"])
        table[job.language].append(row)
        digests[job.name] = hashlib.sha256(outcome.data).hexdigest()
        if out_dir is not None:  # for the index (bookkeeping) to list
            (out_dir / output_key(job)).parent.mkdir(parents=True, exist_ok=True)
            (out_dir / output_key(job)).write_bytes(outcome.data)
    return table


def bookkeeping(project: Path, out_dir: Path, count: int) -> float:
    """CPU seconds per handout of what a build of ``count`` handouts does besides rendering:
    loading the content, hashing every handout's inputs (manifest) and writing the staff index
    pages, for the example clinic's standard handouts in ``out_dir`` (those the build made).
    Their review status comes from their render processes, as in a build (found here
    beforehand, untimed: the render processes' catalogs are in the phases above)."""
    from generator import build
    from generator.build import Inputs, Manifest, _update_index, load_clinics, output_key, plan
    from generator.content import load_content
    from generator.index import built_status
    from generator.manifest import MANIFEST_NAME
    from generator.project import Project

    proj = Project(project)
    jobs = [
        job
        for job in plan(load_clinics(proj, ["example"]), editions=["standard"])
        if (out_dir / output_key(job)).is_file()
    ]
    if not build._worker:
        build._worker.update(translators=build.Translators(proj.locales), content=load_content(proj.content))
    statuses = {output_key(job): built_status([job.language], build._draft(job)) for job in jobs}
    start = cpu()
    content = load_content(proj.content)
    inputs = Inputs(proj, content)
    for job in jobs:
        inputs.of(job)
    _update_index(proj, content, out_dir, Manifest.load(out_dir / MANIFEST_NAME), inputs, force=True, statuses=statuses)
    seconds = cpu() - start
    print(
        f"manifest + index: {seconds:.2f} CPU-s per build (the index lists the {len(jobs)} PDFs in the output "
        f"folder), {1000 * seconds / max(count, 1):.0f} ms per handout of a build of {count}"
    )
    return seconds / max(count, 1)


def split(row: dict[str, float]) -> dict[str, float]:
    """One handout's CPU seconds by phase: WeasyPrint's (its first layout, and write) and the
    project's. A second layout (another place for the help boxes, pdf._placed; the questions area in
    the other column, pdf._filled) is the project's choice, so it counts as the project's."""
    renders = max(int(row.get("renders", 1)), 1)
    share = 1 / renders  # WeasyPrint's phases of the first layout only (they cost about the same)
    parts = {name: row.get(name, 0.0) * share for name in ("cascade", "boxes", "layout")}
    parts["parse"] = (row.get("render", 0.0) + row.get("html", 0.0)) * share - sum(parts.values())
    parts["draw + write"] = row.get("write", 0.0) - row.get("compaction", 0.0)
    weasy = sum(parts.values())
    own = {
        "second layout": (row.get("render", 0.0) + row.get("html", 0.0)) * (1 - share),
        "catalogs (load + gates)": row.get("catalogs", 0.0),
        "compose": row.get("compose", 0.0) - row.get("catalogs", 0.0),
        "CJK compaction": row.get("compaction", 0.0),
        "layout checks": sum(
            row.get(name, 0.0) for name in ("overflow", "overlap", "help gap", "split boxes", "flow", "page areas")
        ),
        "draft status": row.get("draft status", 0.0),
        "verify": row.get("verify", 0.0) - row.get("pdftotext", 0.0),
        "verify: pdftotext": row.get("pdftotext", 0.0),
        "PDF gate": row.get("gates", 0.0),
    }
    own["other"] = row["total"] - weasy - sum(own.values())
    return {**parts, "WeasyPrint": weasy, **own, "total": row["total"], "layouts (count)": renders / 1000}


def means_per_phase(table: dict[str, list[dict[str, float]]], bookkeeping_s: float) -> dict[str, dict[str, float]]:
    """Per language, the mean CPU seconds of each phase (and layouts per handout)."""
    means = {}
    for lang, raw in table.items():
        rows = [split(row) for row in raw]
        mean = {key: sum(r[key] for r in rows) / len(rows) for key in rows[0]}
        layouts, total = mean.pop("layouts (count)"), mean.pop("total")
        means[lang] = {**mean, "manifest + index": bookkeeping_s, "total": total + bookkeeping_s}
        means[lang]["layouts per handout (n)"] = layouts
    return means


def print_table(table: dict[str, list[dict[str, float]]], bookkeeping_s: float) -> None:
    languages = list(table)
    means = means_per_phase(table, bookkeeping_s)
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
    print(f"  of which second layouts (help-box places, the questions area): {100 * second / weasy:.0f}%")
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


def main() -> None:
    """The phase table alone, for a copy of the project (no builds, no naive loop)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench  # benchmarks/bench.py: the project copy

    from generator.build import output_key

    quick = "--quick" in sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="handouts-phases-") as tmp_name:
        tmp = Path(tmp_name)
        project = bench.copy_project(tmp / "project")
        sample = sample_jobs(project, quick)
        install()
        digests: dict[str, str] = {}
        table = measure(project, sample, digests, out_dir=tmp / "out")
        print_table(table, bookkeeping(project, tmp / "out", len(sample)))
        print(f"({len(sample)} handouts: {', '.join(output_key(job) for job in sample)})")


if __name__ == "__main__":
    main()

"""How far from the floor: the same handouts' text laid out by typst (pip ``typst``, optional:
benchmarks/requirements-bench.lock) and printed by headless Chromium, if installed.

The typst documents are comparable, not identical: the composed HTML's headings, paragraphs
and list items, in two columns on the clinic's paper at 12 pt with the same Noto fonts, tagged
(PDF/UA-1 where typst accepts it). No boxes, pictograms, form fields or QR code: typst's figure
is a floor for the text itself. Chromium prints the very HTML the build renders (its print CSS
support differs from WeasyPrint's, so its pages differ too).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

FONTS = ("Noto Sans", "Noto Sans CJK SC", "Noto Sans CJK KR", "Noto Sans Arabic", "Noto Sans Devanagari")
SKIP = {"style", "script", "title", "head", "svg", "figcaption"}
SPECIAL = set("\\#*_$@<>[]`~=-+/")


def escape(text: str) -> str:
    return "".join("\\" + c if c in SPECIAL else c for c in " ".join(text.split()))


class ToTypst(HTMLParser):
    """Headings, paragraphs, list items and bold text of a handout's HTML, as typst markup."""

    def __init__(self) -> None:
        super().__init__()
        self.out: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIP:
            self.skipping += 1
        elif tag in ("h1", "h2", "h3"):
            self.out.append("\n\n" + "=" * int(tag[1]) + " ")
        elif tag in ("p", "ul", "section", "div"):
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "strong":
            self.out.append("#strong[")
        elif tag == "input":
            self.out.append(" #box(width: 30mm, height: 7mm, stroke: (bottom: 0.8pt))[] ")

    def handle_endtag(self, tag):
        if tag in SKIP:
            self.skipping -= 1
        elif tag == "strong":
            self.out.append("]")
        elif tag in ("h1", "h2", "h3"):
            self.out.append("\n\n")

    def handle_data(self, data):
        if not self.skipping and data.strip():
            text = escape(data)
            self.out.append((" " if data[:1].isspace() else "") + text + (" " if data[-1:].isspace() else ""))


def to_typst(html: str, language: str, title: str, paper: str) -> str:
    parser = ToTypst()
    parser.feed(html)
    body = "".join(parser.out)
    fonts = ", ".join(f'"{f}"' for f in FONTS)
    return (
        f'#set document(title: "{title}")\n'
        f'#set page(paper: "{paper}", margin: 15mm, columns: 2)\n'
        f'#set text(font: ({fonts}), size: 12pt, lang: "{language.split("_")[0].lower()}")\n'
        "#show heading: set text(size: 14pt)\n" + body
    )


def typst_figures(docs: list[tuple[str, str]], tmp: Path) -> tuple[float, float, int] | str:
    """(CPU seconds of the first compile, mean CPU seconds of the others, pages of the last)
    for ``docs`` [(name, typst source)], one warm compiler; or why not."""
    try:
        import typst
    except ImportError:
        return "typst not installed: .venv/bin/pip install --require-hashes -r benchmarks/requirements-bench.lock"
    from pypdf import PdfReader

    times, pages = [], 0
    for name, source in docs:
        path = tmp / f"{name}.typ"
        path.write_text(source, "utf-8")
        start = time.process_time()
        try:
            data = typst.compile(str(path), format="pdf", pdf_standards="ua-1")
        except typst.TypstError:  # noqa: BLE001 -- PDF/UA refused (e.g. a missing alt text): tagged PDF
            data = typst.compile(str(path), format="pdf")
        times.append(time.process_time() - start)
        (tmp / f"{name}.typst.pdf").write_bytes(data)
        import io

        pages = len(PdfReader(io.BytesIO(data)).pages)
    rest = times[1:] or times
    return times[0], sum(rest) / len(rest), pages


def chromium_figures(htmls: list[Path], tmp: Path) -> tuple[float, float] | str:
    """(wall, CPU) seconds per document of ``chromium --headless --print-to-pdf``, or why not."""
    from bench import timed

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return "chromium not installed"
    wall = cpu = 0.0
    for html in htmls:
        with tempfile.TemporaryDirectory() as profile:
            r = timed(
                chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                "--no-pdf-header-footer", f"--print-to-pdf={tmp / (html.stem + '.chromium.pdf')}", html.as_uri(),
            )  # fmt: skip
        wall, cpu = wall + r.wall, cpu + r.cpu
    return wall / len(htmls), cpu / len(htmls)


def compare(project: Path, tmp: Path, jobs: list, table: dict) -> None:
    from generator.build import compose_job
    from generator.content import load_content
    from generator.project import Project
    from generator.translation import Translators

    proj = Project(project)
    content, translators = load_content(proj.content), Translators(proj.locales)
    out = tmp / "floor"
    out.mkdir(exist_ok=True)
    docs, htmls = [], []
    for job in jobs:
        doc = compose_job(job, content, translators, proj.templates)
        name = f"{job.language}-{job.route}"
        paper = "a4" if getattr(job.clinic, "paper", "letter") == "a4" else "us-letter"
        docs.append((name, to_typst(doc.html, job.language, name, paper)))
        html = proj.templates / f"bench-{name}.html"  # beside the stylesheet, as the build's base URL
        html.write_text(doc.html, "utf-8")
        htmls.append(html)
    ours = [row["total"] for rows in table.values() for row in rows]
    mean = sum(ours) / len(ours)
    print(f"\nfloor, {len(jobs)} comparable documents; this build: {mean:.2f} CPU-s per handout (warm, table above)")
    figures = typst_figures(docs, out)
    if isinstance(figures, str):
        print(f"typst: skipped ({figures})")
    else:
        first, warm, pages = figures
        print(
            f"typst: {warm:.3f} CPU-s per document warm ({first:.2f} s the first, loading fonts), "
            f"{pages} pages: {warm / mean:.3f} x this build's render"
        )
    chromium = chromium_figures(htmls[:3], out)
    if isinstance(chromium, str):
        print(f"chromium: skipped ({chromium})")
    else:
        print(
            f"chromium --headless --print-to-pdf: {chromium[0]:.2f} s wall, {chromium[1]:.2f} CPU-s per document "
            "(a process each, as the naive loop)"
        )

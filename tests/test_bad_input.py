"""Bad input from outside the team: each case gives a message naming the file (and line or
key), the documented exit code (README: 1 a handout failed, 2 nothing was built), no
traceback, no partial output, and leaves the other handouts built and the previous PDFs as
they were.

To stay quick, every case builds two handouts (English and Spanish, IV route) over a copy of
two PDFs built once per session.
"""

import re
import shutil
from pathlib import Path

import pdfplumber
import pytest
from pypdf import PdfReader

from generator.content import load_content, split_block
from generator.output import HEARTBEAT_NAME
from generator.translation import catalog_path, read_catalog

from .conftest import ROOT, handouts, pdf_text, po_bytes

#: the IV route's standard edition of the example clinic, in the languages added after it;
#: --force, so that each case renders them again although the build is incremental
IV = ("build", "--force", "--jobs", "1", "--clinic", "example", "--route", "iv", "--edition", "standard", "--language")
BUILD = (*IV, "en", "--language", "es")
EN, ES = Path("example/en/iv.pdf"), Path("example/es/iv.pdf")
PO = "locales/es/LC_MESSAGES/messages.po"
CLINIC = "content/clinics/example.toml"


def clinic_line(key: str) -> int:
    """The line of ``key = ...`` in the example clinic's file."""
    lines = (ROOT / CLINIC).read_text("utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(f"{key} ="))


BLOCK = "content/shared/disclaimer.md"
ROUTES = "content/routes.toml"
REVIEW = "locales/es/review.toml"


@pytest.fixture(scope="session")
def baseline(en_es_iv) -> Path:
    return en_es_iv


@pytest.fixture
def previous(project_copy, baseline):
    """The project copy with the baseline PDFs in its handouts/ folder."""
    shutil.copytree(baseline, project_copy.root / "handouts")
    return project_copy


def pdfs(out: Path) -> dict[Path, bytes]:
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*.pdf")}


def edit(project, name: str, old: str, new: str) -> None:
    path = project.root / name
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def set_translation(project, msgid: str, msgstr: str) -> None:
    path = catalog_path(project.locales, "es")
    catalog = read_catalog(path, "es")
    catalog.get(msgid).string = msgstr
    path.write_bytes(po_bytes(catalog))


def run_and_check(project, args, code: int, expected: str, failed=(), built=(EN, ES)) -> None:
    """Run the command over the baseline PDFs and check everything the suite promises:
    ``built`` are the handouts the command makes, ``failed`` those of them that fail."""
    out = project.root / "handouts"
    before = pdfs(out)
    proc = handouts(project, *args)
    assert proc.returncode == code, proc.stderr
    assert re.search(expected, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert not [
        p
        for p in out.rglob("*")
        if p.name not in ("manifest.json", ".lock", HEARTBEAT_NAME)
        and (p.suffix not in (".pdf", ".html", "") or p.name.startswith("."))
    ]
    after = pdfs(out)
    assert after.keys() == before.keys()
    rebuilt = set() if code == 2 else set(built) - set(failed)
    for name in before.keys() - rebuilt:
        assert after[name] == before[name], f"{name} changed"
    for name in rebuilt:
        assert re.search(rf"built \S*handouts/{re.escape(name.as_posix())} ", proc.stderr), proc.stderr
    for name in failed:
        assert f"FAILED {name.with_suffix('').as_posix()}" in proc.stderr, proc.stderr


def syntax_error(project):
    edit(project, PO, 'msgstr "Dolor en el pecho."', 'msgstr "Dolor en el pecho.')


def latin1(project):
    path = project.root / PO
    path.write_bytes(path.read_text("utf-8").encode("latin-1", errors="replace"))


def no_plural_forms(project):
    path = project.root / PO
    path.write_text(re.sub(r'"Plural-Forms:[^"]*"\n', "", path.read_text("utf-8")), "utf-8")


def no_logo(project):
    (project.clinics / "example-logo.svg").unlink()


CASES = {
    # name: (edit, extra arguments, exit code, message, handouts that fail)
    ".po syntax error": (syntax_error, (), 1, rf"{PO}:\d+: error: msgfmt: end-of-line within string", [ES]),
    ".po in the wrong encoding": (latin1, (), 1, rf"{PO}:\d+: error: the catalog is not UTF-8 text", [ES]),
    "missing Plural-Forms": (
        no_plural_forms,
        (),
        1,
        rf"{PO}: error: the header has no Plural-Forms; for 'es' it is",
        [ES],
    ),
    "invalid TOML in a clinic's file": (
        lambda p: edit(p, CLINIC, 'name = "Riverside', "name = Riverside"),
        (),
        2,
        rf"{CLINIC}:3: error: invalid TOML",
        [],
    ),
    "missing logo": (no_logo, (), 2, rf"{CLINIC}:4: error: logo: file not found", []),
    "unknown language code in a clinic's file": (
        lambda p: edit(p, CLINIC, 'languages = ["en", "es", ', 'languages = ["en", "es", "xx", '),
        (),
        2,
        rf"{CLINIC}:{clinic_line('languages')}: error: languages: 'xx' is not a language id Babel knows",
        [],
    ),
    "unknown language code asked for": (
        lambda p: None,
        ("--language", "xx"),
        2,
        r"error: no clinic offers language xx \(offered: ",
        [],
    ),
    "unknown route in a clinic's file": (
        lambda p: edit(p, CLINIC, 'routes = ["iv", ', 'routes = ["iv", "rectal", '),
        (),
        2,
        rf"{CLINIC}:{clinic_line('routes')}: error: routes: unknown route 'rectal'",
        [],
    ),
    "unknown route in the route table": (
        lambda p: edit(p, "content/routes.toml", "[iv]", '[rectal]\ntitle = "x"\nsubtitle = "x"\nblocks = []\n\n[iv]'),
        (),
        2,
        r"content/routes\.toml:\d+: error: unknown route 'rectal'",
        [],
    ),
    "unknown route asked for": (lambda p: None, ("--route", "rectal"), 2, r"--route: invalid choice: 'rectal'", []),
    "empty content file": (
        lambda p: (p.root / BLOCK).write_text(""),
        (),
        2,
        rf"{BLOCK}:1: error: the file is empty",
        [],
    ),
    "bad front matter": (
        lambda p: edit(p, BLOCK, 'version = "1.0.0"', "version = 1.0.0"),
        (),
        2,
        rf"{BLOCK}:4: error: bad front matter",
        [],
    ),
    "placeholder the clinic does not define, in content": (
        lambda p: edit(p, BLOCK, "ask {clinic_name}", "ask {clinic_fax}"),
        (),
        1,
        rf"{BLOCK}:10: error: unknown placeholder \{{clinic_fax\}}",
        [EN, ES],
    ),
    "placeholder the clinic does not define, in a translation": (
        lambda p: set_translation(p, "Chest pain.", "Dolor en el pecho; llame al {clinic_fax}."),
        (),
        1,
        rf"{PO}:\d+: error: placeholder added or renamed in the translation: \{{clinic_fax\}}",
        [ES],
    ),
    "review.toml with a date-time": (
        lambda p: (p.locales / "es" / "review.toml").write_text(
            'status = "approved"\napproved_by = "A. Translator"\napproved_on = 2026-11-21T10:00:00\n'
        ),
        (),
        1,
        rf"{REVIEW}:3: error: approved_on: must be a date like 2026-11-21",
        [ES],
    ),
    "review.toml not UTF-8": (
        lambda p: (p.locales / "es" / "review.toml").write_bytes(b'status = "dr\xe4ft"\n'),
        (),
        1,
        rf"{REVIEW}: error: not UTF-8 text",
        [ES],
    ),
    "a number for a route title": (
        lambda p: edit(p, ROUTES, 'title = "Ketamine IV infusion"', "title = 42"),
        (),
        2,
        rf"{ROUTES}:5: error: route 'iv': title must be text in quotes, not int 42",
        [],
    ),
    "a block id leaving content/": (
        lambda p: edit(p, ROUTES, '"iv/expect", ', '"../../../etc/passwd", '),
        (),
        2,
        rf"{ROUTES}:5: error: route 'iv': blocks must be a list of block ids",
        [],
    ),
    "a control character in a route title (a TOML escape)": (
        lambda p: edit(p, ROUTES, 'title = "Ketamine IV infusion"', 'title = "Ketamine IV\\finfusion"'),
        (),
        2,
        rf"{ROUTES}:5: error: route 'iv' title: control character U\+000C is not allowed",
        [],
    ),
    "a form feed in content": (
        lambda p: edit(p, BLOCK, "general facts.", "general\ffacts."),
        (),
        2,
        rf"{BLOCK}:10: error: control character U\+000C is not allowed",
        [],
    ),
    "a C1 control character in a block title": (
        lambda p: edit(p, BLOCK, 'title = "', 'title = "\u0085'),
        (),
        2,
        rf"{BLOCK}:3: error: control character U\+0085 is not allowed",
        [],
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input(previous, case):
    make, extra, code, expected, failed = CASES[case]
    make(previous)
    run_and_check(previous, (*BUILD, *extra), code, expected, failed)


def test_check_reports_the_same_catalog_problems(previous):
    """`handouts check` (exit 1 on errors) names the same place as the build (narrowed to the
    broken catalog's language: the whole project's check is test_cli's)."""
    for make, expected in (
        (syntax_error, rf"{PO}:\d+: error: msgfmt: end-of-line within string"),
        (latin1, rf"{PO}:\d+: error: the catalog is not UTF-8 text"),
    ):
        shutil.copy(Path(__file__).parents[1] / PO, previous.root / PO)
        make(previous)
        proc = handouts(previous, "check", "--language", "es")
        assert proc.returncode == 1 and re.search(expected, proc.stderr), proc.stderr
        assert "Traceback" not in proc.stderr


LONG_WORD = "Qwxz" * 100  # no space and no hyphenation point for 400 letters


def assert_on_the_page(pdf: Path) -> None:
    assert LONG_WORD in "".join(pdf_text(pdf).split())
    with pdfplumber.open(pdf) as document:
        for page in document.pages:
            assert all(c["x0"] >= 0 and c["x1"] <= page.width for c in page.chars)


@pytest.mark.parametrize("where", ["content", "translation"])
def test_a_very_long_unbroken_word_is_broken_across_lines(previous, where):
    """Content and translations may hold a word wider than the page (a pasted URL, a run of
    letters): it breaks where it must (CSS overflow-wrap: anywhere) and the handout builds."""
    if where == "content":
        edit(previous, BLOCK, "general facts.", f"general facts. {LONG_WORD}.")
        language, pdf = "en", EN
    else:
        set_translation(previous, "Chest pain.", f"Dolor en el pecho. {LONG_WORD}.")
        language, pdf = "es", ES
    run_and_check(previous, (*IV, language), 0, rf"built \S*handouts/{pdf}", built=[pdf])
    assert_on_the_page(previous.root / "handouts" / pdf)


def test_a_handout_ten_times_its_normal_length_builds(previous):
    """Ten times the text makes a long handout, not a failure (page budgets, when a clinic
    sets them, warn about it). Its layouts take about 38 s on a quiet machine and up to 60 s
    beside the other test process on two cores: the default time limit (60 s, wall-clock) is
    raised here; the limit has tests of its own (test_untrusted, test_hardening)."""
    normal = len(PdfReader(previous.root / "handouts" / EN).pages)
    for block in load_content(previous.content).routes["iv"].blocks:
        text = block.path.read_text("utf-8")
        parts = split_block(text, block.path)
        block.path.write_text(text + ("\n" + parts.body) * 9, "utf-8")
    run_and_check(previous, (*IV, "en", "--time-limit", "300"), 0, r"built \S*handouts/example/en/iv\.pdf", built=[EN])
    assert len(PdfReader(previous.root / "handouts" / EN).pages) >= 5 * normal

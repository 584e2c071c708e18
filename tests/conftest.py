"""Shared fixtures: the real project, a disposable copy of it, and PDFs built once per run."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import pickle
import re
import shutil
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from babel.messages.pofile import write_po
from pypdf import PdfReader

from generator.build import BuildOptions, build, load_clinics, plan
from generator.cli import main
from generator.project import Project

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def project() -> Project:
    return Project(ROOT)


def copy_project(root: Path) -> Project:
    """A writable copy of the project's inputs in ``root``."""
    for name in ("content", "locales", "templates", "generator", "babel.cfg"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.mo", "__pycache__"))
        else:
            shutil.copy(src, root / name)
    return Project(root)


@pytest.fixture
def project_copy(tmp_path: Path) -> Project:
    """A writable copy of the project's inputs, to break on purpose."""
    return copy_project(tmp_path)


T = TypeVar("T")


def once_per_run(tmp_path_factory, name: str, make: Callable[[Path], T]) -> T:
    """``make(folder)`` once per test run, even when pytest-xdist runs the tests in several
    processes: the first process to ask builds into a folder all of them share (holding a
    lock, so that the others wait instead of building it again) and leaves its value
    pickled there for them. A ``make`` that fails leaves nothing behind: the next one tries
    again. Tests copy the folder before they change anything."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent / "shared"  # the run's folder, above each worker's
    shared.mkdir(exist_ok=True)
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        done = shared / f"{name}.pickle"
        if done.exists():
            return pickle.loads(done.read_bytes())
        out = shared / name
        shutil.rmtree(out, ignore_errors=True)  # what a failed make left
        out.mkdir()
        value = make(out)
        done.write_bytes(pickle.dumps(value))
        return value


def _build_standard(project: Project, out: Path) -> list:
    results = build(
        project, plan(load_clinics(project, ["example"]), editions=["standard"]), out, BuildOptions(workers=None)
    )
    failures = [f"{r.job.name}: {r.message}" for r in results if not r.ok]
    assert not failures, "\n".join(failures)
    return results


@pytest.fixture(scope="session")
def built_results(project: Project, tmp_path_factory) -> list:
    """The standard edition of every (language, route) of the example clinic, built once."""
    return once_per_run(tmp_path_factory, "handouts", lambda out: _build_standard(project, out))


def _build_en_es_iv(project: Project, out: Path) -> Path:
    results = build(project, plan(load_clinics(project, ["example"]), ["en", "es"], ["iv"], ["standard"]), out)
    assert all(r.ok for r in results), [r.message for r in results]
    return out


@pytest.fixture(scope="session")
def en_es_iv(project: Project, tmp_path_factory) -> Path:
    """An output folder holding the English and Spanish IV handouts (standard edition),
    built once per run; tests copy it before they change anything."""
    return once_per_run(tmp_path_factory, "en-es-iv", lambda out: _build_en_es_iv(project, out))


@pytest.fixture(scope="session")
def built_dir(built_results) -> Path:
    """The output folder of ``built_results`` (its manifest, index pages and 48 PDFs); tests
    copy it before they change anything."""
    return built_results[0].path.parents[2]


@pytest.fixture(scope="session")
def built(built_results) -> dict[tuple[str, str], Path]:
    """(language, route) -> the standard edition's PDF."""
    return {(r.job.language, r.job.route): r.path for r in built_results}


#: the index site's handouts (site): every edition of the first route, the standard of the rest
SITE_LANGUAGES, SITE_ROUTES = ("en", "es", "ar"), ("iv", "oral")


@pytest.fixture(scope="session")
def site(project, built_dir, tmp_path_factory):
    """A few handouts built into a folder, with the index the build wrote: every edition of
    the first route, the standard edition of the others (enough for rows of one and of
    several editions, without rendering the slow large-print and bilingual ones twice); built
    once per run, by whichever test process asks first."""
    return once_per_run(tmp_path_factory, "index-site", lambda out: _build_site(project, built_dir, out))


def _build_site(project, built_dir: Path, out: Path):
    # the standard editions come from the run's standard build (conftest), the rest of its
    # PDFs removed: they are unchanged, and only the large-print and bilingual ones render
    shutil.copytree(built_dir, out, dirs_exist_ok=True)
    keep = {out / "example" / language / f"{route}.pdf" for language in SITE_LANGUAGES for route in SITE_ROUTES}
    for pdf in out.rglob("*.pdf"):
        if pdf not in keep:
            pdf.unlink()
    example = load_clinics(project, ["example"])
    jobs = plan(example, SITE_LANGUAGES, SITE_ROUTES[:1]) + plan(example, SITE_LANGUAGES, SITE_ROUTES[1:], ["standard"])
    results = build(project, jobs, out)
    assert sorted(r.status for r in results if r.job.edition == "standard") == ["unchanged"] * len(keep)
    assert [r.job.name for r in results if not r.ok] == []
    return out, results


def pdf_text(path: Path) -> str:
    """All text of a PDF, with whitespace (and hyphenation at line ends) folded. Each distinct
    PDF is read once per run, also across test processes (many tests in both read the same
    session-built handouts: pypdf takes about half a second a handout); a file rebuilt with
    other bytes is read again."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).digest()
    if digest not in _TEXTS:
        kept = _TEXT_DIR[0] / f"{digest.hex()}.txt" if _TEXT_DIR else None
        if kept is not None and kept.is_file():
            _TEXTS[digest] = kept.read_text("utf-8")
        else:
            text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
            text = re.sub(r"(\w)[-\u00ad\u2010]\n(\w)", r"\1\2", text)
            _TEXTS[digest] = re.sub(r"\s+", " ", text)
            if kept is not None:  # whole or not at all, for the other process
                temp = kept.with_name(f".{kept.name}.{os.getpid()}")
                temp.write_text(_TEXTS[digest], "utf-8")
                temp.replace(kept)
    return _TEXTS[digest]


#: pdf_text's results by the SHA-256 of the PDF's bytes
_TEXTS: dict[bytes, str] = {}
#: where pdf_text keeps them for the other test processes (set by _shared_texts)
_TEXT_DIR: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _shared_texts(tmp_path_factory) -> None:
    """The folder of the run's PDF texts, shared by its test processes (see once_per_run)."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        folder = tmp_path_factory.getbasetemp().parent / "shared" / "texts"
        folder.mkdir(parents=True, exist_ok=True)
        _TEXT_DIR[:] = [folder]


def run_cli(project: Project, *args: str) -> subprocess.CompletedProcess:
    """`handouts --project ROOT ARGS` as its own process, from the project's folder: for what
    only a separate process shows (its lock, being killed, the installed command)."""
    return subprocess.run(
        [str(BIN / "handouts"), "--project", str(project.root), *args], capture_output=True, text=True, cwd=project.root
    )


def handouts(project: Project, *args: str) -> subprocess.CompletedProcess:
    """The same command run in this process (``generator.cli.main``), from the project's
    folder: the same parsing, messages on stdout and stderr and exit code as run_cli, without
    starting Python and importing WeasyPrint again for every command."""
    argv = ["--project", str(project.root), *args]
    stdout, stderr = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(project.root)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse refusing the arguments
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        os.chdir(cwd)
    return subprocess.CompletedProcess(["handouts", *argv], code, stdout.getvalue(), stderr.getvalue())


def fold(text: str) -> str:
    """Text without spaces and combining marks: PDF text extraction places Devanagari vowel
    signs in visual order, so only the base letters are compared."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in ("Mn", "Mc", "Cf"))


def po_bytes(catalog) -> bytes:
    """A Babel catalog written as a .po file, wrapped as pybabel writes it."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76)
    return buffer.getvalue()


def one_handout(language: str = "es", route: str = "iv", edition: str | None = "standard") -> tuple[str, ...]:
    """The options that narrow `handouts build` to one handout of the example clinic (every
    edition of it when ``edition`` is None)."""
    return ("--clinic", "example", "--language", language, "--route", route) + (
        ("--edition", edition) if edition else ()
    )

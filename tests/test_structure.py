"""The codebase stays one a newcomer can change: names that mean one thing each."""

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from radon.complexity import cc_visit

from generator.content import ROUTE_TABLE, load_content
from generator.errors import ContentError

from .conftest import BIN, ROOT


def test_a_missing_route_table_is_named_as_such(project, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(project.content, content)
    (content / ROUTE_TABLE).unlink()
    with pytest.raises(ContentError) as caught:
        load_content(content)
    message = str(caught.value)
    assert message.startswith(f"{content / 'routes.toml'}: error: the route table is missing")
    assert "manifest" not in message


# --- imports: no cycle, each module alone, WeasyPrint only in pdf.py ---------------------

GENERATOR = ROOT / "generator"
MODULES = sorted(path.stem for path in GENERATOR.glob("*.py") if path.stem != "__init__")


def _module_level_imports(path: Path) -> set[str]:
    """The generator modules a module imports when it is imported (not those imported inside
    functions, which is how build.py keeps WeasyPrint out of a build with nothing to do, nor
    under ``if TYPE_CHECKING``)."""
    found: set[str] = set()
    todo = list(ast.parse(path.read_text("utf-8")).body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" not in ast.unparse(node.test):
            todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [n for h in node.handlers for n in h.body]
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found.update(name.split(".")[0] for name in names if name.split(".")[0] in MODULES)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle in the graph, as a path that ends where it starts; [] if none."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> list[str]:
        state[name] = 1
        path.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep not in state and (found := visit(dep)):
                return found
        path.pop()
        state[name] = 2
        return []

    for name in sorted(graph):
        if name not in state and (found := visit(name)):
            return found
    return []


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


IMPORT_EACH = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "generator" or m.startswith("generator.")]:
        del sys.modules[loaded]  # each module alone, as if first (third-party modules stay loaded)
    try:
        importlib.import_module("generator." + name)
    except BaseException:
        failed.append(name + ": " + traceback.format_exc(limit=-3))
    # warm: the fork server's preload, whose one job is to load pdf.py (and so WeasyPrint)
    if "weasyprint" in sys.modules:
        if name not in ("pdf", "warm"):
            failed.append(name + ": imports WeasyPrint (only generator/pdf.py may)")
        del sys.modules["weasyprint"]
print("\\n".join(failed))
"""


def test_every_module_imports_alone_without_a_cycle_and_only_pdf_imports_weasyprint():
    graph = {name: _module_level_imports(GENERATOR / f"{name}.py") for name in MODULES}
    assert graph["pdf"] >= {"assets", "layout", "timelimit", "fontcompact"}  # the reader sees imports
    assert not (cycle := _cycle(graph)), "import cycle: " + " -> ".join(cycle)
    weasy = [
        name
        for name in MODULES
        if name != "pdf"
        and any(
            isinstance(node, (ast.Import, ast.ImportFrom)) and "weasyprint" in ast.unparse(node)
            for node in ast.walk(ast.parse((GENERATOR / f"{name}.py").read_text("utf-8")))
        )
    ]
    assert not weasy, f"only generator/pdf.py may import WeasyPrint, not {weasy}"
    # pdf last: once it has loaded WeasyPrint, the check above cannot tell another module did
    order = [name for name in MODULES if name != "pdf"] + ["pdf"]
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *order], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


# --- complexity: at most 15 in every function, as radon counts (ruff's C901 is the quick gate) ---

PYTHON_DIRS = ("generator", "benchmarks", "tools", "tests")


def _too_complex(code: str, limit: int = 15) -> list[str]:
    """``line: name is N`` for each function, method or closure in ``code`` above ``limit``."""
    found = []
    todo = [block for block in cc_visit(code) if not hasattr(block, "methods")]  # not classes: their methods
    while todo:
        block = todo.pop()
        todo += block.closures
        if block.complexity > limit:
            found.append(f"{block.lineno}: {block.fullname} is {block.complexity}")
    return sorted(found)


def test_no_function_is_more_complex_than_15():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["ruff"]["lint"]
    assert "C90" in config["select"] and config["mccabe"]["max-complexity"] == 15
    files = sorted(path for name in PYTHON_DIRS for path in (ROOT / name).rglob("*.py"))
    assert len(files) > 80
    found = [f"{path.relative_to(ROOT)}:{line}" for path in files for line in _too_complex(path.read_text("utf-8"))]
    assert found == []


def test_the_complexity_check_bites(tmp_path):
    branches = "".join(f"            if x == {i}:\n                return {i}\n" for i in range(16))
    code = f"class Tangled:\n    def method(self, x):\n        def inner(x):\n{branches}            return -1\n"
    assert _too_complex(code) == ["3: inner is 17"]
    assert _too_complex(code, limit=17) == []
    # ruff's C901, run by `make test`, sees the same
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text("utf-8"))
    (tmp_path / "tangled.py").write_text(code)
    proc = subprocess.run(
        [str(BIN / "ruff"), "check", "--select", "C901", "--no-cache", "."],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1 and "`inner` is too complex (17 > 15)" in proc.stdout, proc.stdout

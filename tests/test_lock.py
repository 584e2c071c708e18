"""requirements.lock: it agrees with pyproject.toml, it is what is installed, and the versions
that shape a PDF are recorded and rebuild what they affect."""

from __future__ import annotations

import importlib.metadata
import json
import re
import tomllib

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from generator import manifest
from generator.environment import PYTHON_PACKAGES, SYSTEM_PACKAGES, versions

from .conftest import ROOT, handouts

LOCK = ROOT / "requirements.lock"


def locked() -> dict[str, tuple[str, str]]:
    """name -> (version, marker) of every package the lock pins."""
    found = {}
    for match in re.finditer(r"^([A-Za-z0-9_.-]+)==([^ ;\\]+)(?: ; ([^\\]+))? \\\n", LOCK.read_text(), re.M):
        found[canonicalize_name(match.group(1))] = (match.group(2), (match.group(3) or "").strip())
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    build = (ROOT / "tools/build-requirements.in").read_text().splitlines()
    lines += [line for line in build if line.strip() and not line.startswith("#")]
    return [Requirement(line) for line in lines]


def test_every_declared_requirement_is_locked_within_its_range():
    pins = locked()
    stale = [
        f"{req} (lock: {pins.get(canonicalize_name(req.name), ('missing',))[0]})"
        for req in declared()
        if canonicalize_name(req.name) not in pins
        or not req.specifier.contains(pins[canonicalize_name(req.name)][0], prereleases=True)
    ]
    assert not stale, f"requirements.lock is out of date; run `make lock`: {stale}"


def test_every_locked_package_has_hashes_and_an_exact_version():
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for block in blocks:
        if block.strip() and not block.startswith("#"):
            assert "==" in block.split("\\")[0] and "--hash=sha256:" in block, block[:80]
    assert len(blocks) > 40


def test_the_installed_versions_are_the_locked_ones():
    environment = default_environment()
    wrong = {}
    for name, (version, marker) in locked().items():
        if marker and not eval_marker(marker, environment):
            continue
        installed = importlib.metadata.version(name)
        if installed != version:
            wrong[name] = (installed, version)
    assert not wrong, f"installed differs from requirements.lock ((installed, locked)): {wrong}"


def eval_marker(marker: str, environment: dict) -> bool:
    return Requirement(f"x ; {marker}").marker.evaluate(environment)  # type: ignore[union-attr]


def test_the_versions_that_shape_a_pdf_are_the_locked_ones_and_the_systems():
    found = versions()
    pins = locked()
    assert set(found["python"]) == set(PYTHON_PACKAGES)
    for name, version in found["python"].items():
        assert pins[canonicalize_name(name)][0] == version
    assert set(found["system"]) == set(SYSTEM_PACKAGES)
    assert re.match(r"\d", found["system"]["fonts-noto-core"])


def test_manifest_and_report_record_the_versions(project_copy, tmp_path):
    report = tmp_path / "report.json"
    out = tmp_path / "out"
    proc = handouts(
        project_copy,
        "build",
        "--output",
        str(out),
        "--language",
        "en",
        "--route",
        "iv",
        "--edition",
        "standard",
        "--report",
        str(report),
    )
    assert proc.returncode == 0, proc.stderr
    written = json.loads((out / "manifest.json").read_text())["versions"]
    assert written == json.loads(report.read_text())["versions"] == json.loads(json.dumps(versions()))
    assert written["python"]["weasyprint"] == locked()["weasyprint"][0]


def test_a_new_version_of_any_of_them_changes_every_input_hash(project, monkeypatch):
    from generator.build import load_clinics, plan
    from generator.content import load_content

    content = load_content(project.content)
    job = plan(load_clinics(project, ["example"]), editions=["standard"])[0]
    before = manifest.Inputs(project, content).of(job)
    for group, name in (("python", "weasyprint"), ("system", "fonts-noto-core"), ("system", "libharfbuzz0b")):
        changed = json.loads(json.dumps(versions()))
        changed[group][name] += "+1"
        monkeypatch.setattr(manifest, "versions", lambda changed=changed: changed)
        assert manifest.Inputs(project, content).of(job) != before, name

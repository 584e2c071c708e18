"""The build as a service: typed results, exit codes, reports, logs, signals (in process,
narrow builds: one language, one route, --jobs 1)."""
from __future__ import annotations

import re

from generator import cli
from generator.build import BuildOptions, Status, build
from generator.jobs import load_clinics, plan
from generator.report import ExitCode

NARROW = ["--clinic", "example", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1"]


def untranslate(project, msgid: str) -> None:
    po = project.locales / "es/LC_MESSAGES/messages.po"
    text = po.read_text()
    match = re.search(rf'msgid "{re.escape(msgid)}"\nmsgstr "[^"]+"', text)
    assert match, msgid
    po.write_text(text.replace(match.group(0), f'msgid "{msgid}"\nmsgstr ""'))


def test_english_standing_in_is_kept_apart_from_layout_warnings(project_copy, tmp_path, capsys):
    untranslate(project_copy, "Chest pain.")
    jobs = plan(load_clinics(project_copy, ["example"]), ["es"], ["iv"], ["standard"])
    [result] = build(project_copy, jobs, tmp_path / "out", BuildOptions(allow_incomplete=True))
    assert result.status == Status.BUILT and result.ok
    assert [f for f in result.fallbacks if "printed in English: 'Chest pain.'" in f]
    assert not [w for w in result.warnings if "printed in English" in w]
    code = cli.main(["--project", str(project_copy.root), "build", *NARROW, "--allow-incomplete",
                     "--force", "--output", str(tmp_path / "out")])
    assert code == ExitCode.OK == 0
    err = capsys.readouterr().err
    heading = err.index("example/es/iv: built with English standing in")
    listed = err[heading:].split("\n\n")[0]
    assert "printed in English: 'Chest pain.'" in listed
    assert "warning" not in listed.lower()

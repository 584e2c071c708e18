"""SOURCE_DATE_EPOCH is read in one place (generator/dates.py), with one error for a bad value."""

import json
import re
from pathlib import Path

from generator import cli

from .conftest import one_handout

GENERATOR = Path(__file__).resolve().parents[1] / "generator"


def test_only_dates_py_reads_source_date_epoch():
    readers = sorted(
        p.name
        for p in GENERATOR.glob("*.py")
        if "SOURCE_DATE_EPOCH" in p.read_text("utf-8") and "environ" in p.read_text("utf-8")
    )
    assert readers == ["dates.py"]


def test_a_bad_source_date_epoch_is_one_error_with_exit_2_in_build_and_its_report_and_merge(
    project, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2026-12-01")
    report = tmp_path / "report.json"
    code = cli.main(
        [
            "--project",
            str(project.root),
            "build",
            *one_handout("es", "iv", None),
            "--output",
            str(tmp_path / "out"),
            "--report",
            str(report),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    message = (
        "SOURCE_DATE_EPOCH must be seconds since 1970-01-01 (like 1763683200), up to 253402300799 "
        "(the end of 9999), not '2026-12-01'; set it to a whole number of seconds or unset it"
    )
    [line] = err.strip().splitlines()  # one log line: its time and level, then the message
    assert re.fullmatch(rf"\S+Z ERROR error: {re.escape(message)}", line), line
    written = json.loads(report.read_text("utf-8"))
    assert written["exit_code"] == 2 and written["error"] == f"error: {message}", written["error"]
    assert not (tmp_path / "out").exists()
    code = cli.main(
        ["--project", str(project.root), "merge", str(tmp_path / "shard"), "--output", str(tmp_path / "merged")]
    )
    assert code == 2 and capsys.readouterr().err.strip() == f"error: {message}"  # merge does not log
    assert not (tmp_path / "merged").exists()

"""The build as a service: typed results, exit codes, reports, logs, signals (in process,
narrow builds: one language, one route, --jobs 1)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from generator import cli
from generator.build import DIED, BuildOptions, Status, build, rendering
from generator.jobs import load_clinics, plan
from generator.output import locked
from generator.report import ExitCode

from .conftest import BIN

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
    code = cli.main(
        [
            "--project",
            str(project_copy.root),
            "build",
            *NARROW,
            "--allow-incomplete",
            "--force",
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == ExitCode.OK == 0
    err = capsys.readouterr().err
    heading = err.index("example/es/iv: built with English standing in")
    listed = err[heading:].split("\n\n")[0]
    assert "printed in English: 'Chest pain.'" in listed
    assert "warning" not in listed.lower()


def test_with_one_job_a_killed_render_process_fails_only_its_handout(project, tmp_path):
    """--jobs 1 renders in a render process too: a crash there (here SIGKILL, as the OOM
    killer would) fails that handout alone and the build goes on."""
    jobs = plan(load_clinics(project, ["example"]), ["es", "en"], ["iv"], ["standard"])
    kills, stop = [], threading.Event()

    def killer() -> None:
        while not stop.is_set():
            for pid, name in rendering().items():
                if name == "example/es/iv":
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                        kills.append(pid)
            time.sleep(0.02)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    try:
        results = build(project, jobs, tmp_path / "out", BuildOptions(workers=1))
    finally:
        stop.set()
        thread.join()
    assert kills and os.getpid() not in kills
    status = {r.job.name: (r.status, r.message) for r in results}
    assert status["example/es/iv"] == (Status.FAILED, f"example/es/iv: error: {DIED}")
    assert status["example/en/iv"][0] == Status.BUILT


def test_the_time_limit_covers_reading_the_catalogs(project, tmp_path):
    """The limit counts from the start of the handout: a limit shorter than loading the
    catalogs and composing fails the handout there, before rendering."""
    jobs = plan(load_clinics(project, ["example"]), ["es"], ["iv"], ["standard"])
    [result] = build(project, jobs, tmp_path / "out", BuildOptions(time_limit=0.01))
    assert result.status == Status.FAILED
    assert "reading its catalogs and composing it took longer than the time limit of 0.01 s" in result.message
    assert not (tmp_path / "out" / "example/es/iv.pdf").exists()


def test_json_logs_parse_and_quiet_keeps_errors_and_the_summary(project, tmp_path, capsys):
    out, reports = tmp_path / "out", tmp_path / "reports"
    argv = ["--project", str(project.root), "build", *NARROW, "--output", str(out)]
    assert cli.main([*argv, "--log-format", "json", "--report-dir", str(reports)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # the summary is an event too
    events = [json.loads(line) for line in captured.err.splitlines()]
    assert {tuple(sorted(e)) for e in events} == {("event", "handout", "level", "message", "time")}
    by_event = {e["event"]: e for e in events}
    assert by_event["built"]["handout"] == "example/es/iv" and by_event["built"]["level"] == "info"
    summary = by_event["summary"]["message"]
    assert "1 built, 0 failed" in summary and f"{out}/<clinic>/<language>/" in summary
    assert str(out / "index.html") in summary
    heartbeat = json.loads((out / ".last-success").read_text())  # for monitoring
    assert heartbeat["built"] == 1 and heartbeat["finished"].endswith("+00:00")
    _assert_one_draft_built(reports)
    # again, nothing to do: --quiet logs nothing but the summary; a new report beside the first
    assert cli.main([*argv, "--quiet", "--report-dir", str(reports)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "0 built, 0 failed, 0 incomplete, 1 unchanged" in captured.out
    assert len(list(reports.glob("report-*.json"))) == 2


def _assert_one_draft_built(reports: Path) -> None:
    """The one report in ``reports`` counts one handout built, a draft, and says where, when and with what."""
    [written] = reports.glob("report-*.json")
    data = json.loads(written.read_text())
    assert data["counts"] == {"built": 1, "unchanged": 0, "failed": 0, "incomplete": 0, "drafts": 1}
    assert data["built"][0]["draft"] is True  # the Spanish catalog is a draft
    assert data["host"] and data["finished"] >= data["started"] and data["outcome"] == "ok"
    assert data["versions"]["python"]["weasyprint"]


def test_a_report_is_written_for_a_usage_error_and_never_replaced(project, tmp_path, capsys):
    reports = tmp_path / "reports"
    argv = [
        "--project",
        str(project.root),
        "build",
        "--language",
        "de",
        "--output",
        str(tmp_path / "out"),
        "--report-dir",
        str(reports),
        "--report",
        str(tmp_path / "r.json"),
    ]
    assert cli.main(argv) == ExitCode.USAGE
    assert cli.main(argv) == ExitCode.USAGE  # the same second: a second file all the same
    assert "no clinic offers language de" in capsys.readouterr().err
    found = sorted(reports.glob("report-*.json"))
    assert len(found) == 2
    for path in [*found, tmp_path / "r.json"]:
        data = json.loads(path.read_text())
        assert data["exit_code"] == 2 and data["outcome"] == "usage" and "language de" in data["error"]
    with pytest.raises(SystemExit) as refused:  # refused by the option parser itself
        cli.main([*argv, "--time-limit", "0"])
    assert refused.value.code == 2
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exit_code"] == 2 and "--time-limit" in data["error"]
    assert len(list(reports.glob("report-*.json"))) == 3


def test_lock_contention_is_reported_and_names_the_holder(project, tmp_path, capsys):
    out = tmp_path / "out"
    with locked(out):
        code = cli.main(
            [
                "--project",
                str(project.root),
                "build",
                *NARROW,
                "--output",
                str(out),
                "--report",
                str(tmp_path / "r.json"),
            ]
        )
    assert code == ExitCode.LOCKED
    err = capsys.readouterr().err
    assert (
        f"another build is writing into this output folder (pid {os.getpid()} on {socket.gethostname()}, "
        "started 20" in err
    )
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["exit_code"] == 3 and data["outcome"] == "locked" and f"pid {os.getpid()}" in data["error"]
    assert not (out / ".last-success").exists()


def _descendants(pid: int) -> set[int]:
    found = _children_of(pid)
    for child in list(found):
        found |= _descendants(child)
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def _left_behind(family: set[int]) -> list[int]:
    """The processes of ``family`` still running 10 s on, killed so that a failing test leaves none behind."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_running, family)):
        time.sleep(0.1)
    left = [pid for pid in family if _running(pid)]
    for pid in left:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    return left


def test_sigterm_mid_build_stops_cleanly_and_leaves_no_process_behind(project_copy, tmp_path):
    """A real build, stopped by SIGTERM while a render process works: exit 143, no process
    left (read from /proc), no temporary file, the lock free, the report says interrupted."""
    out, report = tmp_path / "out", tmp_path / "report.json"
    proc = subprocess.Popen(
        [
            str(BIN / "handouts"),
            "--project",
            str(project_copy.root),
            "build",
            "--clinic",
            "example",
            "--language",
            "es",
            "--language",
            "fr",
            "--route",
            "iv",
            "--edition",
            "standard",
            "--jobs",
            "1",
            "--output",
            str(out),
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline, family = time.monotonic() + 120, set[int]()
    while time.monotonic() < deadline and proc.poll() is None and not rendering_now(proc.pid):
        time.sleep(0.05)
    family = _descendants(proc.pid)  # the fork server, the resource tracker, the render process
    assert len(family) >= 3, "no render process was started"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == ExitCode.TERMINATED == 143, stderr
    assert "interrupted: stopped by SIGTERM" in stderr and "Traceback" not in stderr
    assert "handouts: INTERRUPTED:" in stdout
    assert not _left_behind(family)
    assert not list(out.rglob("*.tmp"))
    with locked(out):  # free
        pass
    data = json.loads(report.read_text())
    assert data["exit_code"] == 143 and data["outcome"] == "interrupted"
    assert data["interrupted"] == "stopped by SIGTERM"


def rendering_now(pid: int) -> bool:
    """A render process (a grandchild, forked by the fork server) is at work."""
    return any("forkserver" in _cmdline(child) for child in _descendants(pid) - _children_of(pid))


def _children_of(pid: int) -> set[int]:
    """The process's children; none once it has ended (its /proc folder goes while we look)."""
    found: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""

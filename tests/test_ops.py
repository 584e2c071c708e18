"""The build as a service: typed results, exit codes, reports, logs, signals (in process,
narrow builds: one language, one route, --jobs 1)."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time

from generator import cli
from generator.build import DIED, BuildOptions, Status, build, rendering
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

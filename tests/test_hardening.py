"""Faults of the machine and of the output folder stay with what they touch: a render process
killed takes only its handout, a killed build leaves no render process behind, a folder that
cannot be written is a clean message with exit code 4 and loses nothing, a hostile or
hand-edited manifest is not believed, and a build never deletes what it did not write."""

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from generator import cli
from generator.build import DIED, BuildOptions, build, load_clinics, plan, rendering
from generator.content import load_content
from generator.dates import source_date_epoch, started_at
from generator.errors import UsageError
from generator.manifest import MANIFEST_NAME, Inputs, Manifest
from generator.output import OutputError, remove_stray_temp_files, write_atomic

from .conftest import BIN, one_handout

ES = "example/es/iv.pdf"


def jobs_for(project, languages=("en", "es")):
    return plan(load_clinics(project, ["example"]), languages, ["iv"], ["standard"])


@pytest.fixture(scope="session")
def baseline(en_es_iv) -> Path:
    """The English and Spanish IV handouts (jobs_for's), built once per run (conftest)."""
    return en_es_iv


def pdfs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.pdf")}


def test_a_killed_render_process_fails_only_its_handout(project, tmp_path):
    """Whenever a render process works on the Spanish handout, it is killed (as the kernel's
    OOM killer would): that handout fails, the pool is replaced, the others are built."""
    jobs = jobs_for(project, ("en", "es", "fr"))
    kills, stop = [], threading.Event()

    def killer():
        while not stop.is_set():
            for pid, name in rendering().items():
                if name == "example/es/iv":
                    try:
                        os.kill(pid, signal.SIGKILL)
                        kills.append(pid)
                    except ProcessLookupError:
                        pass
            time.sleep(0.02)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        results = build(project, jobs, tmp_path / "out", BuildOptions(workers=2))
    finally:
        stop.set()
        thread.join()
    assert len(set(kills)) >= 2  # in the pool, then alone in a fresh process
    status = {r.job.name: (r.status, r.message) for r in results}
    assert status["example/es/iv"] == ("failed", f"example/es/iv: error: {DIED}")
    assert status["example/en/iv"][0] == status["example/fr/iv"][0] == "built"
    assert sorted(pdfs(tmp_path / "out")) == ["example/en/iv.pdf", "example/fr/iv.pdf"]
    assert ES not in Manifest.load(tmp_path / "out" / MANIFEST_NAME).entries


def test_a_render_stuck_past_its_time_limit_is_ended_and_fails_alone(project, tmp_path):
    """A render process that stops responding (here: stopped with SIGSTOP, which no alarm
    can interrupt, as a library stuck in a loop would be) is killed a few seconds after the
    time limit; its handout fails with a message saying so, the others are built."""
    jobs = jobs_for(project, ("en", "es", "fr"))
    stopped, stop = [], threading.Event()

    def freezer():
        while not stop.is_set() and not stopped:
            for pid, name in rendering().items():
                if name == "example/es/iv":
                    os.kill(pid, signal.SIGSTOP)
                    stopped.append(pid)
            time.sleep(0.02)
        if not stop.wait(45):  # the build should have ended it long ago: never leave it stopped
            os.kill(stopped[0], signal.SIGKILL)

    thread = threading.Thread(target=freezer)
    thread.start()
    start = time.monotonic()
    try:
        # 20 s: the en and fr handouts, rendered beside another test process on two cores,
        # took more than 8 s (wall) and failed too
        results = build(project, jobs, tmp_path / "out", BuildOptions(workers=2, time_limit=20))
    finally:
        stop.set()
        thread.join()
    assert stopped
    status = {r.job.name: (r.status, r.message) for r in results}
    assert status["example/es/iv"][0] == "failed"
    assert "went on 5 s past the time limit of 20 s without stopping" in status["example/es/iv"][1]
    assert status["example/en/iv"][0] == status["example/fr/iv"][0] == "built"
    assert time.monotonic() - start < 60
    assert not Path(f"/proc/{stopped[0]}").exists() or Path(f"/proc/{stopped[0]}/stat").read_text().split()[2] == "Z"


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def _descendants(pid: int) -> set[int]:
    found = _children(pid)
    for child in list(found):
        found |= _descendants(child)
    return found


def test_render_processes_end_when_the_build_is_killed(project_copy, tmp_path):
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
            "--language",
            "vi",
            "--route",
            "iv",
            "--edition",
            "standard",
            "--jobs",
            "2",
            "--output",
            str(tmp_path / "out"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    workers: set[int] = set()
    # the fork server, the resource tracker and the two render processes the server forked
    while time.monotonic() < deadline and len(workers) < 4 and proc.poll() is None:
        workers = _descendants(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 4, "the build started no render processes"
    proc.kill()  # the build alone, not its process group
    assert proc.wait() == -signal.SIGKILL
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = [
        pid
        for pid in workers
        if Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    ]
    for pid in alive:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive
    assert proc.stdout.read() == b""  # the pipe was closed: nobody holds it open


@pytest.fixture
def tiny_disk(tmp_path):
    """A 600 KB tmpfs (needs root, as the tests run in the project's container)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root?)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_is_a_clean_exit_4_and_keeps_the_previous_pdfs(project, baseline, tiny_disk, tmp_path):
    out = tiny_disk / "handouts"
    shutil.copytree(baseline, out)
    before = pdfs(out)
    filler = tiny_disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill what is left
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    os.truncate(filler, max(0, filler.stat().st_size - 8192))  # room for a lock, not a PDF
    code = cli.main(
        [
            "--project",
            str(project.root),
            "build",
            "--force",
            *one_handout(),
            "--jobs",
            "1",
            "--output",
            str(out),
            "--report",
            str(tmp_path / "report.json"),
        ]
    )
    assert code == cli.EXIT_OUTPUT
    assert pdfs(out) == before
    report = json.loads((tmp_path / "report.json").read_text())  # the handout is listed, with why
    assert report["exit_code"] == 4 and report["counts"]["failed"] == 1
    [failed] = report["failed"]
    assert failed["job"] == "example/es/iv" and "the disk is full" in failed["reason"]
    assert not [p for p in out.rglob("*.tmp")]


def test_a_full_disk_message_names_the_path(tiny_disk):
    (tiny_disk / "filler").write_bytes(b"\0" * 550_000)
    with pytest.raises(OutputError, match="No space left on device.*the disk is full") as caught:
        write_atomic(tiny_disk / "big.pdf", b"\0" * 100_000)
    assert caught.value.path == tiny_disk / "big.pdf"
    assert [p.name for p in tiny_disk.iterdir()] == ["filler"]


@pytest.mark.parametrize("where", ["read-only", "not allowed"])
def test_an_output_folder_that_cannot_be_written_is_exit_4_naming_it(project, tmp_path, capsys, where):
    if where == "read-only":
        out = tmp_path / "ro"
        out.mkdir()
        if subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=100k", "tmpfs", str(out)], capture_output=True
        ).returncode:
            pytest.skip("cannot mount here (not root?)")
    else:
        out = Path("/sys/handouts")  # not even root may write there
    report = tmp_path / "report.json"
    try:
        code = cli.main(
            [
                "--project",
                str(project.root),
                "build",
                *one_handout(),
                "--output",
                str(out),
                "--report",
                str(report),
            ]
        )
    finally:
        if where == "read-only":
            subprocess.run(["umount", "-l", str(out)], check=True)
    err = capsys.readouterr().err
    assert code == 4, err
    assert f"{out}" in err and "cannot write here" in err and "Traceback" not in err
    assert json.loads(report.read_text())["exit_code"] == 4


def test_a_report_that_cannot_be_written_is_exit_4(project, baseline, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    code = cli.main(
        [
            "--project",
            str(project.root),
            "build",
            *one_handout(),
            "--output",
            str(out),
            "--report",
            "/sys/report.json",
        ]
    )
    assert code == 4
    assert "/sys/report.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text",
    [
        b"[" * 200_000,
        b'{"format": 3, "outputs": {"a": {"job": ["x"]}}}',
        b'{"format": 3, "outputs": {"a": {"job": "x", "inputs": "1", "sha256": "2", "pages": 1}}}',
        b'{"format": 3, "outputs": {"a": {"job": "x", "inputs": "%s", "sha256": "%s", "pages": true}}}'
        % (b"a" * 64, b"b" * 64),
        b"\xff" * 10,
        b"null",
        b"{}",
    ],
)
def test_a_hostile_manifest_reads_as_empty(tmp_path, text):
    (tmp_path / MANIFEST_NAME).write_bytes(text)
    assert Manifest.load(tmp_path / MANIFEST_NAME).entries == {}


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
def test_a_manifest_that_is_not_a_file_is_never_read(tmp_path, kind):
    path = tmp_path / MANIFEST_NAME
    os.mkfifo(path) if kind == "fifo" else path.symlink_to("/dev/zero")
    assert Manifest.load(path).entries == {}  # at once: reading either would never end


def test_a_deeply_nested_manifest_is_rebuilt_over(project, baseline, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    (out / MANIFEST_NAME).write_bytes(b"[" * 200_000)
    results = build(project, jobs_for(project, ("es",)), out)
    assert [r.status for r in results] == ["built"]
    assert ES in Manifest.load(out / MANIFEST_NAME).entries


def test_a_pdf_or_manifest_edited_by_hand_is_not_believed(project_copy, baseline, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(baseline, out)
    jobs = jobs_for(project_copy)
    assert {r.status for r in build(project_copy, jobs, out)} == {"unchanged"}
    # a PDF whose bytes are not those recorded is rebuilt
    with open(out / ES, "ab") as fp:
        fp.write(b"% edited\n")
    assert [r.status for r in build(project_copy, jobs, out)] == ["unchanged", "built"]
    # the clinic's file changes, and someone edits the manifest to call the old PDF current
    clinic = project_copy.clinics / "example.toml"
    clinic.write_text(clinic.read_text("utf-8") + "\n# edited\n", "utf-8")
    jobs = jobs_for(project_copy)
    current = Inputs(project_copy, load_content(project_copy.content)).of(jobs[1])
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    manifest["outputs"][ES]["inputs"] = current
    (out / MANIFEST_NAME).write_text(json.dumps(manifest))
    results = build(project_copy, jobs, out)
    assert {r.status for r in results} == {"built"}  # English was never called current


@pytest.mark.parametrize("value", ["yesterday", "-1", "1e9", "99999999999999999999", "253402300800", "１２３"])
def test_source_date_epoch_out_of_range_is_a_usage_error_before_anything(project, tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH must be seconds"):
        source_date_epoch()
    assert started_at()  # the report still says when the build started
    code = cli.main(
        [
            "--project",
            str(project.root),
            "build",
            *one_handout("es", "iv", None),
            "--output",
            str(tmp_path / "out"),
        ]
    )
    assert code == 2
    assert "SOURCE_DATE_EPOCH must be seconds" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_source_date_epoch_in_range(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "253402300799")
    assert source_date_epoch().year == 9999
    assert started_at() == "9999-12-31T23:59:59+00:00"


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "1e300", "86401", "0.001"])
def test_time_limit_out_of_range_is_a_usage_error(project, capsys, value):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--project", str(project.root), "build", "--time-limit", value])
    assert caught.value.code == 2
    assert "--time-limit" in capsys.readouterr().err


def test_a_build_removes_only_temporary_files_it_could_have_left(tmp_path):
    out = tmp_path / "out"
    ours = [out / "example/es/.iv.pdf.k9x2m4q1.tmp", out / ".manifest.json.abcdefgh.tmp"]
    theirs = [
        out / ".notes.txt.abcdefgh.tmp",
        out / "example/es/.other.pdf.k9x2m4q1.tmp",
        out / "photos/.iv.pdf.k9x2m4q1.tmp",
        out / "example/xx/.iv.pdf.k9x2m4q1.tmp",
    ]
    for path in ours + theirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    removed = remove_stray_temp_files(out, ["example/es/iv.pdf", "example/en/iv.pdf"])
    assert sorted(removed) == sorted(ours)
    assert all(p.exists() for p in theirs)


def test_output_into_a_folder_with_other_files_keeps_them(project, baseline, tmp_path):
    out = tmp_path / "shared"
    shutil.copytree(baseline, out)
    keep = {
        out / "README.txt": b"notes",
        out / ".draft.pdf.abcdefgh.tmp": b"someone's",
        out / "example" / "es" / "old.pdf": b"%PDF-1.7 an older handout",
    }
    for path, data in keep.items():
        path.write_bytes(data)
    results = build(project, jobs_for(project, ("es",)), out, BuildOptions(force=True))
    assert [r.status for r in results] == ["built"]
    assert {path: path.read_bytes() for path in keep} == keep


def test_the_seal_key_is_made_once_private_and_outside_the_output(tmp_path, monkeypatch):
    from generator.manifest import key_file, machine_key

    monkeypatch.setenv("HANDOUTS_KEY_FILE", str(tmp_path / "state" / "manifest.key"))
    assert key_file() == tmp_path / "state" / "manifest.key"
    key = machine_key.__wrapped__()
    assert len(key) == 32 and machine_key.__wrapped__() == key
    assert (key_file().stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv("HANDOUTS_KEY_FILE", "/sys/handouts.key")  # cannot be kept: no key
    assert machine_key.__wrapped__() == b""
    monkeypatch.delenv("HANDOUTS_KEY_FILE")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert key_file() == tmp_path / "xdg" / "handouts" / "manifest.key"

"""The deployment recipes: the Containerfile, and every cron line, shell block, systemd unit
and Kubernetes or CI YAML in docs/scheduling.md. Each `handouts` command they run is parsed
by the real command line parser, the fields that make them work are checked, the units go
through `systemd-analyze verify`, and the documented cron line (tools/nightly.sh) is run."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path, PurePosixPath

import pytest

from generator.cli import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE, _parser
from generator.report import ExitCode

from .conftest import BIN, ROOT

DOC = ROOT / "docs" / "scheduling.md"
CONTAINERFILE = ROOT / "Containerfile"
NIGHTLY = ROOT / "tools" / "nightly.sh"
SERVER_ROOT = "/srv/handouts"  # where the recipes assume the checkout
IMAGE = "handouts"  # the local image name in the podman/docker lines


# --- reading the files -------------------------------------------------------------------


def blocks(lang: str | None = None) -> list[tuple[str, str, str]]:
    """(language, body, the text before it) of each fenced block of the doc."""
    text = DOC.read_text()
    found = [
        (m.group(1), m.group(2), text[: m.start()])
        for m in re.finditer(r"^```(\w*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    ]
    return [b for b in found if lang is None or b[0] == lang]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Containerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", CONTAINERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def one(name: str) -> str:
    found = [rest for word, rest in instructions() if word == name]
    assert found, f"no {name} in the Containerfile"
    return found[-1]


def exec_form(name: str) -> list[str]:
    value = json.loads(one(name))
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), name
    return value


def workdir() -> PurePosixPath:
    return PurePosixPath(one("WORKDIR"))


def output_volume() -> PurePosixPath:
    """The image's volume for the output: where `handouts build` writes by default."""
    volumes = json.loads(one("VOLUME"))
    default_output = workdir() / "handouts"
    assert str(default_output) in volumes, (volumes, default_output)
    return default_output


def ignore_lines(name: str) -> list[str]:
    return [
        line.strip() for line in (ROOT / name).read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


# --- commands ----------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    """Parse with the real CLI parser; argparse's exit becomes a test failure with its message."""
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return _parser().parse_args(argv)
    except SystemExit:
        raise AssertionError(f"`handouts {shlex.join(argv)}` does not parse: {errors.getvalue().strip()}") from None


OPERATORS = {"&&", "||", ";", "|", "&", ";;"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>", ">|", "&>>"}
RUN_OPTIONS_WITH_VALUE = {
    "-v",
    "--volume",
    "-e",
    "--env",
    "-u",
    "--user",
    "--name",
    "--network",
    "--net",
    "-w",
    "--workdir",
    "--mount",
    "--userns",
    "--env-file",
    "--entrypoint",
    "--ulimit",
    "--cpus",
    "-m",
    "--memory",
    "--pull",
    "--security-opt",
    "--label",
    "-l",
    "--tmpfs",
}


def simple_commands(script: str) -> list[list[str]]:
    """The simple commands of a shell script, as word lists (redirections dropped)."""
    script = script.replace("\\\n", " ")
    commands = []
    for line in script.splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        skip = False
        for token in lexer:
            if skip:
                skip = False
            elif token in OPERATORS:
                commands.append(current)
                current = []
            elif token in REDIRECTS:
                skip = True
                if current and current[-1].isdigit():  # 2>&1: the 2 is part of it
                    current.pop()
            else:
                current.append(token)
        commands.append(current)
    return [c for c in commands if c]


def container_run(words: list[str]) -> tuple[list[str], list[str]] | None:
    """For `podman run`/`docker run`: (its options, the arguments after the image)."""
    if len(words) < 2 or words[0] not in ("podman", "docker") or words[1] != "run":
        return None
    i = 2
    while words[i].startswith("-"):
        i += 2 if words[i] in RUN_OPTIONS_WITH_VALUE else 1
    assert words[i] == IMAGE, f"image {words[i]!r} in {shlex.join(words)}"
    return words[2:i], words[i + 1 :]


def handouts_argvs(script: str) -> list[list[str]]:
    """The arguments of every `handouts` command a shell script runs, directly or as the
    command of the container image (whose CMD stands in when none is given)."""
    found = []
    for words in simple_commands(script):
        run = container_run(words)
        if run is not None:
            found.append(run[1] or exec_form("CMD"))
            continue
        while words and (
            re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0])
            or words[0] in ("exec", "time", "nice", "-n", "19", "10")
        ):
            words = words[1:]
        if words and (words[0] == "handouts" or words[0].endswith("/bin/handouts")):
            found.append(words[1:])
    return found


def test_every_handouts_command_in_the_shell_blocks_exists_in_the_cli():
    argvs = []
    for _lang, body, _ in blocks("sh"):
        result = subprocess.run(["bash", "-n"], input=body, text=True, capture_output=True)
        assert result.returncode == 0, f"{result.stderr}\n{body}"
        argvs += handouts_argvs(body)
    commands = {parse(argv).command for argv in argvs}
    assert {"build", "merge"} <= commands, argvs
    # The many-machines example: every shard once, then all of them merged.
    shards = [parse(a) for a in argvs if parse(a).command == "build" and parse(a).shard]
    assert sorted(a.shard for a in shards) == [(1, 2), (2, 2)]
    merges = [parse(a) for a in argvs if parse(a).command == "merge"]
    assert any(set(m.folders) == {a.output for a in shards} for m in merges)


def test_a_mistyped_option_would_be_caught():
    with pytest.raises(AssertionError, match="does not parse"):
        parse(["build", "--shards", "1/2"])
    with pytest.raises(AssertionError, match="does not parse"):
        parse(["build", "--shard", "0/2"])  # --shard counts from 1
    assert handouts_argvs("exec handouts build --clinic x >>log 2>&1 || echo $?") == [["build", "--clinic", "x"]]


def container_commands() -> tuple[list[list[str]], list[list[str]]]:
    """The `podman run`/`docker run` and the `podman build`/`docker build` commands of the shell blocks."""
    runs, builds = [], []
    for _, body, _ in blocks("sh"):
        for words in simple_commands(body):
            if container_run(words):
                runs.append(words)
            elif words[:2] in (["podman", "build"], ["docker", "build"]):
                builds.append(words)
    return runs, builds


def _assert_run_mounts(words: list[str], copied: set[str]) -> None:
    """A container run keeps the output in the image's volume and mounts only over what the image copied in."""
    options, _ = container_run(words)
    mounts = [options[i + 1] for i, o in enumerate(options) if o in ("-v", "--volume")]
    targets = [m.split(":")[1] for m in mounts]
    assert str(output_volume()) in targets, f"the output is not kept: {shlex.join(words)}"
    for target in targets:
        assert target == str(output_volume()) or target in copied, target


def _assert_image_build(words: list[str], build_args: set[str]) -> None:
    """An image build tags the image the run lines use, from the Containerfile, with only the ARGs it declares."""
    assert words[words.index("-t") + 1] == IMAGE
    if words[0] == "docker":  # docker looks for a Dockerfile unless told
        assert words[words.index("-f") + 1] == "Containerfile"
    for i, word in enumerate(words):
        if word == "--build-arg":
            assert words[i + 1].split("=")[0] in build_args, words[i + 1]


def test_the_container_lines_mount_what_the_image_has():
    runs, builds = container_commands()
    assert runs and builds
    copied = {
        str(workdir() / PurePosixPath(rest.split()[-1]))
        for word, rest in instructions()
        if word == "COPY" and not rest.startswith("--")
    }
    for words in runs:
        _assert_run_mounts(words, copied)
    build_args = {re.match(r"(\w+)", rest).group(1) for word, rest in instructions() if word == "ARG"}
    for words in builds:
        _assert_image_build(words, build_args)


# --- the Containerfile -------------------------------------------------------------------


def test_the_containerfile_is_debian_bookworm_with_the_projects_own_package_lists():
    args = dict(re.fullmatch(r"(\w+)=?(.*)", rest).groups() for word, rest in instructions() if word == "ARG")
    assert "debian" in args["BASE"] and args["BASE"].endswith(":bookworm")
    assert [rest for word, rest in instructions() if word == "FROM"] == ["${BASE}"]
    runs = [rest for word, rest in instructions() if word == "RUN"]
    copies = [rest for word, rest in instructions() if word == "COPY"]
    # System packages: the script itself (the list lives once), without --test.
    assert any(c.startswith("tools/system-deps.sh ") for c in copies)
    assert any(re.search(r"/system-deps\.sh(?! --test)", r) for r in runs)
    assert any("python3 python3-venv" in r for r in runs)
    _assert_pip_installs_the_lock_alone(runs)


def _assert_pip_installs_the_lock_alone(runs: list[str]) -> None:
    """Python: the lock alone, then the project without dependencies or build isolation."""
    pip = [r for r in runs if "pip install" in r]
    assert any(re.search(r"--require-hashes --no-deps -r \S*requirements\.lock", r) for r in pip)
    assert any("--no-deps --no-build-isolation" in r for r in pip)
    assert not any(re.search(r"pip install(?!.*(-r \S*requirements\.lock|--no-deps))", r) for r in pip), (
        "a pip install that resolves dependencies"
    )


def test_the_containerfile_runs_handouts_build_as_a_user_with_its_output_in_a_volume():
    assert exec_form("ENTRYPOINT") == ["handouts"]
    assert parse(exec_form("CMD")).command == "build"
    user = one("USER").split(":")[0]
    assert user not in ("root", "0")
    assert any(re.search(rf"useradd .*--uid 10001 .*{user}\b", rest) for word, rest in instructions() if word == "RUN")
    assert any(
        f"-o {user}" in rest and str(output_volume()) in rest for word, rest in instructions() if word == "RUN"
    ), "the user cannot write the output"
    # What `handouts build` reads from the project folder is in the working directory.
    copied = {rest.split()[-1] for word, rest in instructions() if word == "COPY"}
    assert {"templates", "content", "locales"} <= copied


def test_every_copied_file_exists_and_is_not_ignored():
    ignored = ignore_lines(".containerignore")
    for word, rest in instructions():
        if word == "COPY":
            for source in rest.split()[:-1]:
                assert (ROOT / source).exists(), source
                assert not any(PurePosixPath(source).match(p.rstrip("/")) for p in ignored), source


def test_the_ignore_files_leave_out_the_venv_the_output_and_git():
    assert ignore_lines(".containerignore") == ignore_lines(".dockerignore")
    assert {".venv", "handouts/", ".git"} <= set(ignore_lines(".containerignore"))


# --- Kubernetes and the CI matrix --------------------------------------------------------


@pytest.fixture(scope="module")
def yaml_documents() -> list[dict]:
    yaml = pytest.importorskip("yaml", reason="PyYAML (the test extra) is not installed: refresh requirements.lock")
    docs = [doc for _, body, _ in blocks("yaml") for doc in yaml.safe_load_all(body)]
    assert all(isinstance(doc, dict) for doc in docs)
    return docs


def kinds(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d.get("kind") == kind]


def kube_expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' expansion of `$(VAR)` in command and args: `$$` is `$`, a known variable is
    replaced, anything else stays as written."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "$" and i + 1 < len(text):
            if text[i + 1] == "$":
                out.append("$")
                i += 2
                continue
            end = text.find(")", i + 2) if text[i + 1] == "(" else -1
            if end != -1:
                name = text[i + 2 : end]
                out.append(env.get(name, text[i : end + 1]))
                i = end + 1
                continue
            out.append(text[i : i + 2])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def container_argvs(container: dict, env: dict[str, str], tmp_path: Path) -> list[list[str]]:
    """What `handouts` receives when Kubernetes starts this container: run for real, with a
    `handouts` that records its arguments, when the command is a shell script."""
    command = [kube_expand(c, env) for c in container.get("command") or exec_form("ENTRYPOINT")]
    args = [
        kube_expand(a, env) for a in container.get("args") or (exec_form("CMD") if "command" not in container else [])
    ]
    argv = command + args
    if PurePosixPath(argv[0]).name == "handouts":
        return [argv[1:]]
    assert argv[:2] == ["/bin/sh", "-c"], argv
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    record = tmp_path / "argv"
    record.unlink(missing_ok=True)
    (fake / "handouts").write_text(
        '#!/bin/sh\nfor a; do printf "%s\\n" "$a"; done >>"$RECORD"\necho "-- end --" >>"$RECORD"\n'
    )
    (fake / "handouts").chmod(0o755)
    result = subprocess.run(
        argv,
        env={**env, "PATH": f"{fake}:/usr/bin:/bin", "RECORD": str(record)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return [part.strip("\n").split("\n") for part in record.read_text().split("-- end --\n") if part]


def pod(spec: dict) -> dict:
    return spec["template"]["spec"]


def mounted(pod_spec: dict, container: dict, path: PurePosixPath | str) -> bool:
    path = PurePosixPath(path)
    return any(
        path == PurePosixPath(m["mountPath"]) or PurePosixPath(m["mountPath"]) in path.parents
        for m in container.get("volumeMounts", [])
    )


def check_pod(pod_spec: dict) -> None:
    security = pod_spec["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001
    assert pod_spec["restartPolicy"] == "Never"
    claims = {v["name"] for v in pod_spec["volumes"] if "persistentVolumeClaim" in v}
    for container in pod_spec["containers"]:
        assert container["image"].rsplit(":", 1)[0].endswith("/handouts")
        assert {m["name"] for m in container.get("volumeMounts", [])} <= claims


def test_the_cronjob_builds_every_night_into_a_persistent_volume(yaml_documents, tmp_path):
    [cron] = kinds(yaml_documents, "CronJob")
    assert cron["apiVersion"] == "batch/v1"
    assert len(cron["spec"]["schedule"].split()) == 5
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    check_pod(pod(job))
    [container] = pod(job)["containers"]
    [argv] = container_argvs(container, {}, tmp_path)
    args = parse(argv)
    assert args.command == "build"
    assert mounted(pod(job), container, args.output or output_volume())
    assert mounted(pod(job), container, args.report)
    _assert_no_retry_after_a_failed_handout_or_usage_error(job, container)


def _assert_no_retry_after_a_failed_handout_or_usage_error(job_spec: dict, container: dict) -> None:
    """A retry cannot mend a failed handout or a bad file: those exit codes fail the job, all else is retried."""
    [rule] = [r for r in job_spec["podFailurePolicy"]["rules"] if "onExitCodes" in r]
    assert rule["action"] == "FailJob" and rule["onExitCodes"]["containerName"] == container["name"]
    assert rule["onExitCodes"]["operator"] == "In"
    assert sorted(rule["onExitCodes"]["values"]) == [EXIT_FAILED, EXIT_USAGE]


def _shard_outputs(spec: dict, container: dict, tmp_path: Path) -> list[Path]:
    """The output folder of each pod of the indexed job, whose build is checked to be its own shard, counted
    from 1, with its output and report on a mounted volume."""
    outputs, parts = [], set()
    for index in range(spec["completions"]):
        env = {"JOB_COMPLETION_INDEX": str(index)}
        [argv] = container_argvs(container, env, tmp_path)
        args = parse(argv)
        assert args.command == "build"
        assert args.shard == (index + 1, spec["completions"]), (index, args.shard)
        assert mounted(pod(spec), container, args.output) and mounted(pod(spec), container, args.report)
        outputs.append(args.output)
        parts.add(args.shard[1])
    assert parts == {spec["completions"]} and spec["parallelism"] == spec["completions"]
    return outputs


def test_the_indexed_job_gives_each_pod_its_own_shard_counted_from_1(yaml_documents, tmp_path):
    [shards] = [j for j in kinds(yaml_documents, "Job") if j["spec"].get("completionMode")]
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed"
    check_pod(pod(spec))
    [container] = pod(spec)["containers"]
    outputs = _shard_outputs(spec, container, tmp_path)
    assert len(set(outputs)) == len(outputs), "two shards write into one folder"
    _assert_no_retry_after_a_failed_handout_or_usage_error(spec, container)

    # The merge job reads exactly those folders, from the same volume, with the same image.
    [merge_job] = [j for j in kinds(yaml_documents, "Job") if j is not shards]
    check_pod(pod(merge_job["spec"]))
    [merger] = pod(merge_job["spec"])["containers"]
    assert merger["image"] == container["image"]
    [argv] = container_argvs(merger, {}, tmp_path)
    merge = parse(argv)
    assert merge.command == "merge" and merge.folders == outputs
    assert mounted(pod(merge_job["spec"]), merger, merge.output or output_volume())
    claim = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod(spec)["volumes"]}
    merge_claim = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod(merge_job["spec"])["volumes"]}
    assert set(claim.values()) <= set(merge_claim.values())


def test_kubernetes_leaves_the_shells_arithmetic_alone():
    env = {"JOB_COMPLETION_INDEX": "2"}
    assert kube_expand("$((JOB_COMPLETION_INDEX + 1))", env) == "$((JOB_COMPLETION_INDEX + 1))"
    assert kube_expand("$(JOB_COMPLETION_INDEX)/4 $$K $K", env) == "2/4 $K $K"


def matrix_builds(job: dict) -> tuple[list[int], dict[int, Path], dict[str, Path]]:
    """A matrix job's values, the output folder of the build each value runs (checked to be its shard), and
    the artifacts they upload (name: folder)."""
    matrix = job["strategy"]["matrix"]
    [key] = matrix
    values = matrix[key]
    outputs, uploads = {}, {}
    for value in values:

        def fill(text: str, value: int = value) -> str:
            return re.sub(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", lambda m: str({key: value}[m.group(1)]), text)

        for step in job["steps"]:
            for argv in handouts_argvs(fill(step.get("run", ""))):
                args = parse(argv)
                assert args.command == "build" and args.shard == (value, len(values))
                outputs[value] = args.output
            if step.get("uses", "").startswith("actions/upload-artifact"):
                uploads[fill(step["with"]["name"])] = Path(fill(step["with"]["path"]))
    return values, outputs, uploads


def test_the_ci_matrix_builds_every_shard_and_merges_them(yaml_documents):
    [workflow] = [d for d in yaml_documents if "jobs" in d]
    jobs = workflow["jobs"]
    [shard_name] = [name for name, job in jobs.items() if "strategy" in job]
    values, outputs, uploads = matrix_builds(jobs[shard_name])
    assert sorted(values) == list(range(1, len(values) + 1))
    assert sorted(uploads.values()) == sorted(outputs.values()), "a shard's output is not uploaded"

    [merge_name] = [name for name, job in jobs.items() if job.get("needs") in (shard_name, [shard_name])]
    _assert_merges_every_upload(jobs[merge_name], uploads)


def _assert_merges_every_upload(job: dict, uploads: dict[str, Path]) -> None:
    """The job after the matrix downloads every artifact the shards uploaded and merges them, in name order."""
    steps = job["steps"]
    [download] = [s for s in steps if s.get("uses", "").startswith("actions/download-artifact")]
    folder = Path(download["with"]["path"])
    assert all(re.fullmatch(download["with"]["pattern"].replace("*", ".*"), name) for name in uploads)
    [argv] = [a for s in steps for a in handouts_argvs(s.get("run", ""))]
    merge = parse(argv)
    assert merge.command == "merge"
    assert merge.folders == [folder / name for name in sorted(uploads)]


# --- systemd -----------------------------------------------------------------------------


def units() -> dict[str, str]:
    """name -> text of each unit file the doc shows (the path is named just before it)."""
    found = {}
    for _lang, body, before in blocks("ini"):
        path = re.findall(r"`(/etc/systemd/system/[^`]+)`", before.rsplit("```", 1)[-1])
        assert path, f"an ini block without its file name:\n{body}"
        found[PurePosixPath(path[-1]).name] = body
    return found


def settings(text: str, key: str) -> list[str]:
    return [m.group(1).strip() for m in re.finditer(rf"^{key}=(.*)$", text, re.MULTILINE)]


def test_the_units_build_nightly_and_after_changes_and_tell_of_failures():
    found = units()
    service = found["handouts-build.service"]
    assert settings(service, "Wants") == ["network-online.target"]
    assert settings(service, "After") == ["network-online.target"]
    assert settings(service, "SuccessExitStatus") == [f"{EXIT_LOCKED} {ExitCode.TERMINATED}"]  # a stop is no failure
    [on_failure] = settings(service, "OnFailure")
    assert on_failure.replace("%n", "") in found, "OnFailure names a unit the doc does not give"
    for exec_start in settings(service, "ExecStart"):
        words = shlex.split(exec_start.lstrip("+-@!:"))
        assert words[0] == f"{SERVER_ROOT}/.venv/bin/handouts"
        assert parse(words[1:]).command == "build"
    assert settings(found["handouts-build.timer"], "OnCalendar")
    assert settings(found["handouts-build.timer"], "Persistent") == ["true"]
    # Changes are found by a timer (a path unit does not see subfolders).
    assert not [name for name in found if name.endswith(".path")]
    changes = found["handouts-changes.service"]
    assert any("handouts-build.service" in s for s in settings(changes, "ExecStart"))
    assert settings(found["handouts-changes.timer"], "OnUnitInactiveSec")


def test_the_change_check_sees_a_file_changed_in_a_subfolder(project_copy):
    [condition] = settings(units()["handouts-changes.service"], "ExecCondition")
    report = project_copy.root / "report.json"
    words = [w.replace("/var/lib/handouts/report.json", str(report)) for w in shlex.split(condition)]

    def changed() -> bool:
        result = subprocess.run(words, cwd=project_copy.root, capture_output=True, text=True)
        assert result.returncode in (0, 1), result.stderr  # 1..254: skip; 255 would fail
        return result.returncode == 0

    assert changed(), "no report yet: build"
    report.write_text("{}")
    future = time.time() + 5
    os.utime(report, (future, future))
    assert not changed()
    os.utime(project_copy.content / "iv" / "expect.md", (future + 5, future + 5))
    assert changed(), "a changed file two folders down is not seen"
    os.utime(report, (future + 10, future + 10))
    (project_copy.locales / "es" / "LC_MESSAGES" / "messages.po").unlink()
    os.utime(project_copy.locales / "es" / "LC_MESSAGES", (future + 15, future + 15))
    assert changed(), "a deleted catalog is not seen"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed (Debian's systemd package)"
)
def test_systemd_analyze_verify_passes_on_the_units(tmp_path):
    for name, text in units().items():
        # The service runs the checkout's command: point it at this one, which exists.
        (tmp_path / name).write_text(text.replace(SERVER_ROOT, str(ROOT)))
    assert (ROOT / ".venv" / "bin" / "handouts").exists() or (BIN / "handouts").exists()
    if not (ROOT / ".venv" / "bin" / "handouts").exists():
        for path in tmp_path.iterdir():
            path.write_text(path.read_text().replace(f"{ROOT}/.venv/bin", str(BIN)))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    # It returns 0 for unknown keys and bad values, only warning: any output is a problem.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
    # And it does look: a misspelt setting is reported.
    broken = tmp_path / "handouts-build.service"
    broken.write_text(broken.read_text().replace("Type=oneshot", "Type=oneshott"))
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(broken)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert "oneshott" in result.stderr


# --- cron and tools/nightly.sh -----------------------------------------------------------

NARROW = ["--clinic", "example", "--language", "es", "--route", "iv", "--edition", "standard"]


def cron_lines() -> list[str]:
    return [
        line for _, body, _ in blocks("cron") for line in body.splitlines() if line.strip() and not line.startswith("#")
    ]


def test_the_cron_lines_are_valid_and_run_the_wrapper():
    assert cron_lines()
    for line in cron_lines():
        fields = line.split()
        assert len(fields) > 5
        for field, (low, high) in zip(fields[:5], [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)], strict=False):
            for part in field.split(","):
                if part != "*":
                    assert low <= int(part) <= high, line
        assert not re.search(r"(?<!\\)%", line), "cron turns % into a newline"
        command = " ".join(fields[5:])
        assert f"{SERVER_ROOT}/tools/nightly.sh" in command


def test_the_wrapper_is_valid_bash():
    result = subprocess.run(["bash", "-n", str(NIGHTLY)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert os.access(NIGHTLY, os.X_OK)


def run_cron(line: str, home: Path, project: Path, *args: str, **env: str):
    """Run a documented cron line as cron would (sh, a bare PATH), on the project copy,
    with `args` narrowing the build appended."""
    command = " ".join(line.split()[5:]).replace(SERVER_ROOT, str(ROOT))
    command = command.replace("/var/log/handouts", str(home / "var-log-handouts"))
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "SHELL": "/bin/sh",
        "LOGNAME": "handouts",
        "HANDOUTS_PROJECT": str(project),
        "HANDOUTS": str(BIN / "handouts"),
        **env,
    }
    return subprocess.run(
        ["/bin/sh", "-c", f"{command} {shlex.join(args)}"], env=environment, capture_output=True, text=True, timeout=300
    )


def logs(folder: Path) -> str:
    return "".join(p.read_text() for p in sorted(folder.glob("build-*.log")))


def _assert_a_usage_error_in_one_line_naming_the_log(result: subprocess.CompletedProcess, log_dir: Path) -> None:
    """Exit 2, and one line on stderr (what cron mails) that says so and names the log folder."""
    assert result.returncode == EXIT_USAGE
    assert result.stderr.count("\n") == 1 and "exit 2" in result.stderr and str(log_dir) in result.stderr


def test_the_cron_line_creates_its_log_folder_and_reports_the_builds_exit_code(project_copy, tmp_path):
    line = cron_lines()[0]
    home = tmp_path / "home"
    log_dir = home / ".local" / "state" / "handouts"
    assert not home.exists()

    # 0: built; nothing printed, so cron mails nothing.
    result = run_cron(line, home, project_copy.root, *NARROW)
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_OK, "", "")
    assert (project_copy.root / "handouts" / "example" / "es" / "iv.pdf").is_file()
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ nightly\.sh: exit 0: ok", logs(log_dir), re.MULTILINE)
    assert "1 built" in logs(log_dir)
    assert json.loads((log_dir / "report.json").read_text())["exit_code"] == EXIT_OK

    # 3: someone else is building; told apart from a failure, and not mailed.
    lock = os.open(project_copy.root / "handouts" / ".lock", os.O_RDWR)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = run_cron(line, home, project_copy.root, *NARROW)
    finally:
        os.close(lock)
    assert (result.returncode, result.stdout, result.stderr) == (EXIT_LOCKED, "", "")
    assert "exit 3: another build holds the lock" in logs(log_dir)

    # 2: a usage error; one line for the mail, naming the log.
    result = run_cron(line, home, project_copy.root, "--language", "xx")
    _assert_a_usage_error_in_one_line_naming_the_log(result, log_dir)
    assert "no clinic offers language xx" in logs(log_dir)

    # 1: a broken catalog fails its handouts.
    po = project_copy.locales / "es" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text() + '\nmsgid "unterminated\n')
    result = run_cron(line, home, project_copy.root, *NARROW)
    assert result.returncode == EXIT_FAILED, result.stderr
    assert "exit 1: some handouts failed" in result.stderr
    assert len(list(log_dir.glob("report-*.json"))) == 4
    assert json.loads((log_dir / "report.json").read_text())["exit_code"] == EXIT_FAILED


def test_the_wrappers_own_problems_never_look_like_the_builds(project_copy, tmp_path):
    line = cron_lines()[0]
    home = tmp_path / "home"
    (home / ".local" / "state").mkdir(parents=True)
    (home / ".local" / "state" / "handouts").write_text("a file where the log folder goes")
    result = run_cron(line, home, project_copy.root, *NARROW)
    assert result.returncode == 73 and "cannot create the log folder" in result.stderr
    result = run_cron(line, tmp_path / "h2", project_copy.root, *NARROW, HANDOUTS="/nonexistent/handouts")
    assert result.returncode == 69 and "no handouts command" in result.stderr
    result = run_cron(line, tmp_path / "h3", tmp_path / "missing", *NARROW)
    assert result.returncode == 66
    result = run_cron(line, tmp_path / "h4", project_copy.root, *NARROW, HANDOUTS_KEEP_DAYS="a week")
    assert result.returncode == 64
    assert not (project_copy.root / "handouts").exists(), "a build ran"


def test_the_second_cron_line_logs_where_it_says_and_old_logs_go(project_copy, tmp_path):
    [line] = [line for line in cron_lines() if "HANDOUTS_LOG_DIR=" in line]
    log_dir = tmp_path / "home" / "var-log-handouts"
    log_dir.mkdir(parents=True)
    old, recent = log_dir / "build-2020-01-01.log", log_dir / "build-2020-02-01.log"
    for path, days in ((old, 40), (recent, 3)):
        path.write_text("old\n")
        os.utime(path, (time.time() - days * 86400,) * 2)
    result = run_cron(line, tmp_path / "home", project_copy.root, "--language", "xx")
    assert result.returncode == EXIT_USAGE
    assert not old.exists() and recent.exists()
    assert "no clinic offers language xx" in logs(log_dir)

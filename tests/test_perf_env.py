"""The environment of a build's render processes is the build's own, also for a later build in
the same process (the fork server keeps the one it started with: build._context)."""

import multiprocessing.forkserver
import os
from concurrent.futures import ProcessPoolExecutor

from generator import build
from generator.content import load_content


def in_render_process(project, function, *args):
    """``function(*args)`` in a render process set up as a build sets one up."""
    ctx = build._context()
    initargs = (project, load_content(project.content), build.BuildOptions(), None, dict(os.environ))
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=build._start_worker, initargs=initargs) as pool:
        return pool.submit(function, *args).result()


def server_pid() -> int | None:
    return multiprocessing.forkserver._forkserver._forkserver_pid


def test_a_later_build_sees_its_own_environment(project, monkeypatch):
    monkeypatch.delenv("HANDOUTS_PROBE", raising=False)
    assert in_render_process(project, os.getenv, "HANDOUTS_PROBE") is None  # the fork server runs now
    server = server_pid()
    monkeypatch.setenv("HANDOUTS_PROBE", "second build")
    assert in_render_process(project, os.getenv, "HANDOUTS_PROBE") == "second build"
    assert server_pid() == server, "a variable read at run time does not restart the fork server"
    monkeypatch.delenv("HANDOUTS_PROBE")
    assert in_render_process(project, os.getenv, "HANDOUTS_PROBE") is None


def test_a_variable_read_when_fonts_load_restarts_the_fork_server(project, monkeypatch):
    in_render_process(project, os.getpid)
    server = server_pid()
    monkeypatch.setenv("FONTCONFIG_PATH", os.environ.get("FONTCONFIG_PATH", "/etc/fonts"))
    assert in_render_process(project, os.getenv, "FONTCONFIG_PATH") == os.environ["FONTCONFIG_PATH"]
    assert server_pid() != server, "fontconfig read its variables when the fork server loaded the fonts"

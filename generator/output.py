"""Stage 6: write PDFs and the staff index page into ``handouts/``. The only module that
writes there.

Each file is written to a temporary file in the same folder, flushed to disk and renamed
into place, so a reader never sees a half-written PDF and a failed build keeps the old one.
A build holds ``handouts/.lock`` while it writes; temporary files left by a build that was
killed are removed by the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildLocked, HandoutError

LOCK_NAME = ".lock"
#: write_atomic's temporary files: ".<name>.<8 random characters>.tmp"
TEMP_RE = re.compile(r"^\.(.+)\.[a-z0-9_]{8}\.tmp$")
INDEX_NAME = "index.html"


class OutputError(HandoutError):
    """The output folder cannot be written (read-only, full, not allowed) or a file in it
    is not what a build writes there (exit 4). What was already there is kept."""


class UnsafePath(OutputError):
    """A path that would leave its folder, go through a symbolic link or name anything
    but a regular file."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file beside it, flushed and renamed into place: a
    reader sees the old file or the new one, never part of one. A failure (a full disk, a
    read-only folder) raises :class:`OutputError` naming the path and leaves the old file."""
    _mkdirs(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # readable like any other file, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise output_error(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parts(key: str) -> list[str]:
    """The parts of a relative path such as "example/es/iv.pdf": none empty, '.' or '..'."""
    parts = key.split("/")
    if not key or "\0" in key or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise UnsafePath(f"{key!r} is not a plain relative path")
    return parts


def read_inside(root: Path, key: str, limit: int) -> bytes:
    """The bytes of ``root/key``, a regular file of at most ``limit`` bytes reached without
    following any symbolic link below ``root`` (opened step by step, so that nothing can be
    swapped in between the check and the read)."""
    parts = _parts(key)
    fds = [os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)]
    try:
        for part in parts[:-1]:
            fds.append(_open_at(fds[-1], part, os.O_DIRECTORY, key))
        fd = _open_at(fds[-1], parts[-1], os.O_NONBLOCK, key)
        fds.append(fd)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePath(f"{key} is not a regular file")
        if info.st_size > limit:
            raise UnsafePath(f"{key} is larger than {limit} bytes")
        with os.fdopen(os.dup(fd), "rb") as fp:
            data = fp.read(limit + 1)
        if len(data) > limit:
            raise UnsafePath(f"{key} is larger than {limit} bytes")
        return data
    finally:
        for fd in fds:
            os.close(fd)


def _open_at(directory: int, name: str, flags: int, key: str) -> int:
    try:
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | flags, dir_fd=directory)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) or (exc.errno == errno.ENXIO and flags & os.O_NONBLOCK):
            raise UnsafePath(
                f"{key}: {name} is a symbolic link or not a {'folder' if flags & os.O_DIRECTORY else 'regular file'}"
            ) from None
        raise


def path_inside(out_dir: Path, key: str) -> Path:
    """``out_dir/key`` for a relative key (a manifest's), refused unless it stays inside
    ``out_dir`` once every symbolic link on the way is resolved and is not a link itself."""
    path = out_dir.joinpath(*_parts(key))
    root = out_dir.resolve()
    if not path.parent.resolve().is_relative_to(root) or path.is_symlink() or (path.exists() and not path.is_file()):
        raise UnsafePath(
            f"{key} would be written outside the output folder or over something that is not a regular file", out_dir
        )
    return path


def write_inside(out_dir: Path, key: str, data: bytes) -> Path:
    """Write ``out_dir/key`` atomically, its folders created, never outside ``out_dir``."""
    path = path_inside(out_dir, key)
    _mkdirs(path.parent)
    path = path_inside(out_dir, key)  # again, now that its folders exist
    write_atomic(path, data)
    return path


def _mkdirs(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, folder) from None


def output_error(exc: OSError, path: Path) -> OutputError:
    """A clean message for a failed write: the path and what the system said."""
    hint = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
        errno.EROFS: "the file system is read-only",
        errno.EACCES: "this user may not write there",
        errno.EPERM: "this user may not write there",
    }.get(exc.errno or 0, "")
    return OutputError(
        f"cannot write here: {exc.strerror or exc}{f' ({hint})' if hint else ''}; "
        "every file already there is kept as it was",
        path,
    )


def write_index(out_dir: Path, html: str, clinic: str | None = None) -> Path:
    """Write the staff index page, ``<out_dir>/index.html`` (or one clinic's own,
    ``<out_dir>/<clinic>/index.html``), atomically."""
    key = f"{clinic}/{INDEX_NAME}" if clinic else INDEX_NAME
    return write_inside(out_dir, key, html.encode("utf-8"))


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` (``flock``) while the block runs; if another build holds it,
    raise :class:`BuildLocked` at once, naming it (its pid, host and start, which the holder
    writes into the file). The kernel releases the lock when the process ends, however it
    ends, so a lock left by a crashed build never blocks the next one."""
    _mkdirs(out_dir)
    path = out_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o666)
    except OSError as exc:
        raise output_error(exc, path) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(
                f"another build is writing into this output folder ({_holder(fd)}); "
                "this one did nothing. Run it again when the other has finished",
                path,
            ) from None
        _claim(fd)
        yield
    finally:
        os.close(fd)  # releases the lock


def _claim(fd: int) -> None:
    """Write who holds the lock into it: pid, host, start (UTC)."""
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid={os.getpid()} host={socket.gethostname()} started={started}\n".encode(), 0)


def _holder(fd: int) -> str:
    """``pid 1234 on host h, started 2026-12-01T02:30:00+00:00``, from the lock file."""
    try:
        text = os.pread(fd, 300, 0).decode("utf-8", "replace")
    except OSError:
        text = ""
    fields = dict(part.partition("=")[::2] for part in text.split())
    if not fields.get("pid", "").isdigit():
        return "its process is not named in the lock file"
    host = re.sub(r"[^\w.-]", "?", fields.get("host", "?"))[:64]
    started = re.sub(r"[^\w:+.-]", "?", fields.get("started", "?"))[:40]
    return f"pid {fields['pid'][:10]} on {host}, started {started}"


#: ``handouts/.last-success``: when the last build that exited 0 finished (for monitoring)
HEARTBEAT_NAME = ".last-success"


def write_heartbeat(out_dir: Path, text: str) -> Path:
    """Write ``out_dir/.last-success`` atomically (after a build that exited 0)."""
    return write_inside(out_dir, HEARTBEAT_NAME, text.encode("utf-8"))


def write_new(folder: Path, stem: str, data: bytes) -> Path:
    """Write ``folder/<stem>.json`` (``<stem>-2.json``... when taken), never replacing a file:
    written to a temporary file, flushed, then linked to its name, which fails if it exists."""
    _mkdirs(folder)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.", suffix=".tmp")
    except OSError as exc:
        raise output_error(exc, folder) from None
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        for n in range(1, 1000):
            path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
            try:
                os.link(tmp, path)
                return path
            except FileExistsError:
                continue
        raise OutputError("a thousand reports of this name already exist", folder)
    except OSError as exc:
        raise output_error(exc, folder) from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def remove_stray_temp_files(out_dir: Path, keys: Iterable[str] = ()) -> list[Path]:
    """Remove temporary files left by a build that was killed (call it holding the lock):
    only those of the files a build writes, the index page, the manifest and the outputs
    named by ``keys``, so that a folder shared with other files loses none of them."""
    wanted: dict[Path, set[str]] = {out_dir: {INDEX_NAME, "manifest.json", HEARTBEAT_NAME}}
    for key in keys:
        parent, _, name = key.rpartition("/")
        wanted.setdefault(out_dir / parent, set()).add(name)
    removed = []
    for folder, names in wanted.items():
        if folder.is_symlink() or not folder.is_dir():
            continue
        for item in os.scandir(folder):
            match = TEMP_RE.match(item.name)
            if match and match.group(1) in names and item.is_file(follow_symlinks=False):
                Path(item.path).unlink(missing_ok=True)
                removed.append(Path(item.path))
    return removed

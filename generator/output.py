"""Stage 6: write PDFs and the staff index page into ``handouts/``. The only module that
writes there.

Each file is written to a temporary file in the same folder, flushed to disk and renamed
into place, so a reader never sees a half-written PDF and a failed build keeps the old one.
A build holds ``handouts/.lock`` while it writes; temporary files left by a build that was
killed are removed by the next one.
"""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import BuildLocked

LOCK_NAME = ".lock"
#: write_atomic's temporary files: ".<name>.<8 random characters>.tmp"
TEMP_RE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")
INDEX_NAME = "index.html"


def handout_path(out_dir: Path, clinic: str, language: str, filename: str) -> Path:
    return out_dir / clinic / language / filename


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # readable like any other file, not mkstemp's 0600
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_index(out_dir: Path, html: str) -> Path:
    """Write the staff index page, ``<out_dir>/index.html``, atomically."""
    path = out_dir / INDEX_NAME
    write_atomic(path, html.encode("utf-8"))
    return path


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold ``out_dir/.lock`` (``flock``) while the block runs; if another build holds it,
    raise :class:`BuildLocked` at once. The kernel releases the lock when the process ends,
    however it ends, so a lock left by a crashed build never blocks the next one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked("another build is writing into this output folder; this one did "
                              "nothing. Run it again when the other has finished", path) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def remove_stray_temp_files(out_dir: Path) -> list[Path]:
    """Remove temporary files left by a build that was killed (call it holding the lock)."""
    removed = []
    for path in out_dir.rglob(".*.tmp"):
        if TEMP_RE.match(path.name) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed

"""Stage 6: write PDFs and the staff index page into ``handouts/``. The only module that
writes there.

Each file is written to a temporary file in the same folder, flushed to disk and renamed
into place, so a reader never sees a half-written PDF and a failed build keeps the old one.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


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

"""What a handout may read while it renders: the asset fetch policy.

Content, translations and clinic files come from outside the engineering team, so a handout
reads nothing but regular files inside its asset folders (``templates/`` and the clinic's
logo), after resolving ``..`` and symbolic links: no network, no ``data:`` URLs, no device
files or FIFOs, nothing over ``MAX_IMAGE_BYTES``. A PNG is served as printed: decoded under a
pixel limit and scaled down (:func:`logo.printable_png`).

This module decides and reads; :class:`pdf.AssetFetcher` hands the result to WeasyPrint (only
``pdf.py`` imports WeasyPrint).
"""

from __future__ import annotations

import mimetypes
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import MAX_IMAGE_BYTES
from .logo import LogoError, printable_png


class AssetRefused(ValueError):
    """A fetch the policy refuses; the message names the URL or path and why."""


@dataclass(frozen=True)
class Asset:
    url: str
    data: bytes
    content_type: str


def read_asset(url: str, roots: tuple[Path, ...], max_bytes: int = MAX_IMAGE_BYTES) -> Asset:
    """The file ``url`` names if it is a regular file inside one of ``roots`` (resolved
    folders, or single files) of at most ``max_bytes``; otherwise :class:`AssetRefused`."""
    shown = url if len(url) <= 100 else url[:40] + "…" + url[-59:]  # the file's name stays in view
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise AssetRefused(
            f"refused to fetch {shown}: a handout may only use files in its asset folders (no network, no data: URLs)"
        )
    try:
        path = Path(unquote(parts.path)).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, a NUL byte
        raise AssetRefused(f"refused to fetch {shown}: {exc}") from None
    if not any(path.is_relative_to(root) for root in roots):
        raise AssetRefused(
            f"refused to fetch {shown}: it is outside the handout's asset folders ({', '.join(map(str, roots))})"
        )
    data = _read_regular_file(path, max_bytes)
    if path.suffix.lower() == ".png":  # a logo: checked and scaled down to what print needs
        try:
            data = printable_png(data)
        except LogoError as exc:
            raise AssetRefused(f"refused {path}: {exc}") from None
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Asset(path.as_uri(), data, content_type)


def _read_regular_file(path: Path, max_bytes: int) -> bytes:
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        raise AssetRefused(f"cannot read {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AssetRefused(f"refused to fetch {path}: not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as fp:
            data = fp.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise AssetRefused(f"refused {path}: larger than {max_bytes // 1024} KiB; use a smaller file")
    return data

"""Reading the small TOML files kept beside a catalog (``review.toml``, ``approvals.toml``).

Both are read the same way: no file is no data, and a file that is not UTF-8 or not TOML is a
:class:`CatalogError` at its line, so that the language's handouts fail with a message that
says how to mend it. Imported by :mod:`generator.translation` and :mod:`generator.approvals`;
imports nothing of the project but its errors.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from .errors import CatalogError

LINE_RE = re.compile(r"at line (\d+)")


def read_toml(path: Path, fix: str = "") -> tuple[dict[str, Any], str] | None:
    """The data and text of the TOML file at ``path``, or None when there is none. ``fix`` is
    added to the message of a file that is not TOML ("; write it again with ...")."""
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text), text
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"invalid TOML: {exc}{fix}", path, error_line(exc)) from None


def error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    """The line tomllib names in its message (its exception has no attribute for it)."""
    match = LINE_RE.search(str(exc))
    return int(match.group(1)) if match else None

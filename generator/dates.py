"""Dates a build writes: the one reader of ``SOURCE_DATE_EPOCH``.

Printed handouts carry no build date (every date they print comes from the content's review
dates), so the same inputs give the same bytes. Two things are dated by the build itself: the
staff index page's "built" column and the report's start time. With ``SOURCE_DATE_EPOCH``
set (reproducible builds, https://reproducible-builds.org/specs/source-date-epoch/) both use
it; otherwise the PDF's modification time and the clock.

A value that is not whole seconds from 1970 to the end of 9999 is one error, a
:class:`UsageError` (exit 2, nothing built or merged), raised by :func:`source_date_epoch`
and checked by ``handouts build`` and ``handouts merge`` before they write anything.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .errors import UsageError

#: the last second of 9999-12-31: later dates cannot be printed as YYYY-MM-DD
MAX_EPOCH = 253402300799


def source_date_epoch() -> dt.datetime | None:
    """``SOURCE_DATE_EPOCH`` as a UTC time, None when unset or empty; a value that is not
    whole seconds between 1970 and 9999 is a :class:`UsageError`."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return None
    if not (epoch.isascii() and epoch.isdigit() and len(epoch) <= 12 and int(epoch) <= MAX_EPOCH):
        raise UsageError(
            f"SOURCE_DATE_EPOCH must be seconds since 1970-01-01 (like 1763683200), "
            f"up to {MAX_EPOCH} (the end of 9999), not {epoch[:40]!r}; "
            "set it to a whole number of seconds or unset it"
        )
    return dt.datetime.fromtimestamp(int(epoch), dt.UTC)


def build_date(path: Path) -> str:
    """The date a PDF was built, for the staff index: SOURCE_DATE_EPOCH's when set, else the
    file's modification date."""
    when = source_date_epoch()
    if when is not None:
        return when.date().isoformat()
    return dt.date.fromtimestamp(path.stat().st_mtime).isoformat()


def started_at() -> str:
    """When the build started, for its report: SOURCE_DATE_EPOCH's time when set, else the
    clock. A bad value is the build's error (exit 2, which the report records as its
    ``error``); the report, written even then, takes the clock's time."""
    try:
        when = source_date_epoch()
    except UsageError:
        when = None
    return (when or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")

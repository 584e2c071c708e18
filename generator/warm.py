"""Imported once by the process that forks the render processes (multiprocessing's fork
server, see ``build._context``): every render process then starts with WeasyPrint imported
and every script's fonts loaded, in a few milliseconds instead of seconds."""

from __future__ import annotations

import contextlib

from .pdf import warm_up

# a problem here (no fonts) meets each render process again, which reports it with its handout
with contextlib.suppress(Exception):
    warm_up()

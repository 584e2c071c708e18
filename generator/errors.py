"""One exception root for everything a user can get wrong.

The CLI turns a :class:`HandoutError` into ``path:line: error: message`` on stderr and
an exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class HandoutError(Exception):
    """A problem in the project's inputs, reported with where it is."""

    severity = "error"

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        return format_diagnostic(self.severity, self.message, self.path, self.line)


class ConfigError(HandoutError):
    """A clinic's file is wrong (exit 2: nothing is built for that clinic)."""


class ContentError(HandoutError):
    """An English content block or the route table (``content/routes.toml``) is wrong."""


class CatalogError(HandoutError):
    """A translation catalog is broken or incomplete for a handout."""


class BrokenTranslation(CatalogError):
    """Translations a handout needs are altered (placeholders, markup, numbers, HTML)."""


class RenderError(HandoutError):
    """WeasyPrint could not turn a handout into a PDF."""


class LayoutError(RenderError):
    """A handout overflows its page or its page budget (an error with --strict)."""


class UsageError(HandoutError):
    """The command line asks for something that does not exist."""


class BuildLocked(HandoutError):
    """Another build holds the output folder's lock (exit 3: this one did nothing)."""


def format_diagnostic(severity: str, message: str, path: Path | str | None = None, line: int | None = None) -> str:
    """``path:line: severity: message``, as compilers print them (the line when known)."""
    where = ""
    if path is not None:
        where = _display(Path(path))
        if line is not None:
            where += f":{line}"
        where += ": "
    return f"{where}{severity}: {message}"


def _display(path: Path) -> str:
    """Paths below the working folder are shown relative, like compilers do."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

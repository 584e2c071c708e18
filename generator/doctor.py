"""``handouts doctor``: is this machine able to build the handouts as the project expects?

Python and its packages against ``requirements.lock``, WeasyPrint's libraries, a font for
every script the languages need, and the system tools; each problem with what to do.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .environment import system_versions
from .fonts import all_families, font_installed, fonts_for
from .translation import available_languages

MIN_PYTHON = (3, 11)
LOCK_LINE_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;([^\\]*))?")
INSTALL = "run `make .venv/.installed` (a fresh environment from requirements.lock)"
#: command -> (Debian package, what needs it)
TOOLS = {
    "msgfmt": ("gettext", "checks every catalog (msgfmt --check); without it no handout builds"),
    "fc-list": ("fontconfig", "finds the fonts"),
    "fc-match": ("fontconfig", "finds the fonts"),
    "pdftotext": ("poppler-utils", "the tests read the PDFs' text"),
    "pdftoppm": ("poppler-utils", "to look at a PDF as images (pdftoppm -png)"),
    "qpdf": ("qpdf", "the tests check the PDFs' structure"),
}
#: a font family -> the Debian package holding it
FONT_PACKAGES = {"CJK": "fonts-noto-cjk"}
#: the scripts each font family prints
SCRIPTS = {
    "Noto Sans": "Latin, Cyrillic, Greek",
    "Noto Sans Arabic": "Arabic",
    "Noto Sans Devanagari": "Devanagari",
    "Noto Sans CJK SC": "Simplified Chinese",
    "Noto Sans CJK KR": "Korean",
    "Noto Sans CJK JP": "Japanese",
}


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    #: what to do when not ok
    fix: str = ""

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FIX '} {self.what}" + (f"\n     -> {self.fix}" if self.fix else "")


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= MIN_PYTHON:
        return Check(True, f"Python {version}")
    return Check(
        False,
        f"Python {version} is older than {'.'.join(map(str, MIN_PYTHON))}",
        "install Python 3.11 or newer, then " + INSTALL,
    )


def locked_versions(lock: Path) -> dict[str, str]:
    """Package name -> version pinned for this machine (lines whose marker applies)."""
    pinned = {}
    for line in lock.read_text("utf-8").splitlines():
        match = LOCK_LINE_RE.match(line)
        if match and _applies(match.group(3)):
            pinned[_canonical(match.group(1))] = match.group(2)
    return pinned


def _applies(marker: str | None) -> bool:
    if not marker or not marker.strip():
        return True
    try:
        from packaging.markers import Marker

        return Marker(marker.strip()).evaluate()
    except ImportError:  # pragma: no cover (packaging comes with pip and pytest)
        return True


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def package_checks(lock: Path) -> list[Check]:
    if not lock.is_file():
        return [
            Check(False, f"no {lock.name} at {lock.parent}", "run doctor in the project folder (or pass --project DIR)")
        ]
    installed = {_canonical(d.metadata["Name"] or ""): d.version for d in importlib.metadata.distributions()}
    wrong = [
        Check(
            False,
            f"{name} {installed.get(name, 'is not installed')}"
            + (f", the lock has {version}" if name in installed else f" (the lock has {version})"),
            INSTALL,
        )
        for name, version in sorted(locked_versions(lock).items())
        if installed.get(name) != version
    ]
    return wrong or [Check(True, f"every Python package as in {lock.name}")]


def weasyprint_check() -> Check:
    try:
        from . import pdf  # the one module that imports WeasyPrint
    except Exception as exc:  # noqa: BLE001  (OSError for a missing library, and others)
        return Check(
            False,
            f"WeasyPrint cannot start: {exc}",
            "install its libraries: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 "
            "libharfbuzz-subset0 (or run `make system`)",
        )
    return Check(True, f"WeasyPrint {pdf.weasyprint_version()} starts")


def system_checks() -> list[Check]:
    missing = [name for name, version in system_versions().items() if version == "not installed"]
    if not missing:
        return [Check(True, "Debian packages that shape the PDFs are installed")]
    return [
        Check(
            False,
            f"Debian packages not installed: {', '.join(missing)}",
            f"sudo apt-get install {' '.join(missing)} (or run `make system`)",
        )
    ]


def font_checks(languages: set[str]) -> list[Check]:
    """One line per font family the languages use, naming the languages."""
    users: dict[str, list[str]] = {}
    for language in sorted(languages):
        for family in fonts_for(language):
            users.setdefault(family, []).append(language)
    for family in all_families():
        users.setdefault(family, [])
    checks = []
    for family, langs in sorted(users.items()):
        used = f" for {SCRIPTS.get(family, 'its script')}: " + (
            ", ".join(langs) if langs else "no language here uses it"
        )
        if font_installed(family):
            checks.append(Check(True, f"font {family}{used}"))
        else:
            package = next((p for key, p in FONT_PACKAGES.items() if key in family), "fonts-noto-core")
            checks.append(
                Check(
                    not langs,
                    f"font {family} is not installed{used}",
                    f"sudo apt-get install {package}; until then these languages print "
                    "empty boxes or fail the glyph check",
                )
            )
    return checks


def tool_checks() -> list[Check]:
    checks = []
    for command, (package, why) in TOOLS.items():
        found = shutil.which(command)
        checks.append(
            Check(True, f"{command}: {found}")
            if found
            else Check(False, f"{command} is missing: {why}", f"sudo apt-get install {package}")
        )
    return checks


def doctor(root: Path) -> list[Check]:
    languages = available_languages(root / "locales") if (root / "locales").is_dir() else {"en"}
    return [
        python_check(),
        *package_checks(root / "requirements.lock"),
        weasyprint_check(),
        *system_checks(),
        *font_checks(languages),
        *tool_checks(),
    ]

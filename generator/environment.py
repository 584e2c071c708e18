"""The versions of everything outside the project that shapes a PDF.

They are written into ``handouts/manifest.json`` and the ``--report`` JSON, and are part of
every handout's input hash, so an upgrade of WeasyPrint, a font or HarfBuzz rebuilds the
handouts (and a reader of the report can tell which versions made them).
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess

#: Python packages whose version changes the PDF bytes (requirements.lock pins them).
PYTHON_PACKAGES = (
    "weasyprint",
    "pydyf",
    "fonttools",
    "tinycss2",
    "cssselect2",
    "tinyhtml5",
    "pyphen",
    "pillow",
    "jinja2",
    "babel",
    "markdown-it-py",
    "segno",
    "translate-toolkit",
)
#: Debian packages that shape the PDF: the fonts and the text layout stack.
SYSTEM_PACKAGES = (
    "fonts-noto-core",
    "fonts-noto-cjk",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz0b",
    "libharfbuzz-subset0",
    "libfontconfig1",
    "libfreetype6",
    "libfribidi0",
)


def python_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def system_versions() -> dict[str, str]:
    """Installed Debian package versions (``dpkg-query``); "unknown" off Debian."""
    try:
        listing = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n", *SYSTEM_PACKAGES],
            capture_output=True,
            text=True,
        ).stdout
    except OSError:
        return dict.fromkeys(SYSTEM_PACKAGES, "unknown")
    found = {}
    for line in listing.splitlines():
        name, version, status = (line.split("\t") + ["", ""])[:3]
        found[name.split(":")[0]] = version if status == "installed" else "not installed"
    return {name: found.get(name, "not installed") for name in SYSTEM_PACKAGES}


@functools.cache
def versions() -> dict[str, dict[str, str]]:
    """``{"python": {...}, "system": {...}}``, computed once per process."""
    return {"python": {name: python_version(name) for name in PYTHON_PACKAGES}, "system": system_versions()}

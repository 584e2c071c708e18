"""``handouts i18n ...``: thin wrappers over Babel's own commands, with the project's options.

Each is what a translator or maintainer could type with plain ``pybabel``; see docs.
"""
from __future__ import annotations

import contextlib

from babel.messages.frontend import CommandLineInterface

from . import __version__
from .errors import UsageError
from .project import Project
from .translation import DOMAIN, catalog_path

REVIEW_TEMPLATE = """\
# Review status of this language's translation. A handout built from a draft translation
# says so on every page. Set status = "approved" only after a qualified medical translator
# has checked every entry, and name them:
status = "draft"
# approved_by = "Name, credentials"
# approved_on = 2026-12-01
"""


def _pybabel(*args: str) -> None:
    code = CommandLineInterface().run(["pybabel", "-q", *args])
    if code:
        raise UsageError(f"pybabel {args[0]} failed (exit {code})")


def extract(project: Project) -> None:
    """Run from the project folder so ``#:`` references read ``content/iv/expect.md:10``."""
    project.pot.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(project.root):
        _pybabel("extract", "-F", "babel.cfg", "-o", str(project.pot.relative_to(project.root)),
                 "--add-comments=TRANSLATORS:", "--project=ketamine-handouts",
                 f"--version={__version__}", "--sort-by-file", ".")


def update(project: Project) -> None:
    _pybabel("update", "-i", str(project.pot), "-d", str(project.locales), "-D", DOMAIN,
             "--previous")


def compile_catalogs(project: Project) -> None:
    _pybabel("compile", "-d", str(project.locales), "-D", DOMAIN, "--statistics")


def init(project: Project, language: str) -> None:
    if catalog_path(project.locales, language).exists():
        raise UsageError(f"'{language}' already has a catalog", catalog_path(project.locales, language))
    _pybabel("init", "-i", str(project.pot), "-d", str(project.locales), "-D", DOMAIN, "-l", language)
    (project.locales / language / "review.toml").write_text(REVIEW_TEMPLATE, "utf-8")

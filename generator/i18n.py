"""``handouts i18n ...``: thin wrappers over Babel's own commands, with the project's options.

Each is what a translator or maintainer could type with plain ``pybabel``; see docs.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from dataclasses import dataclass, field

from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

from . import __version__
from .content import Content, load_content
from .errors import HandoutError, UsageError
from .gates import msgid_of
from .plurals import preferred
from .project import Project
from .review import printed_units, progress, whole_language_approved
from .translation import (
    DOMAIN,
    SOURCE_LANGUAGE,
    available_languages,
    catalog_path,
    from_content,
    is_translated,
    read_catalog,
)

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
        _pybabel(
            "extract",
            "-F",
            "babel.cfg",
            "-o",
            str(project.pot.relative_to(project.root)),
            "--add-comments=TRANSLATORS:",
            "--project=ketamine-handouts",
            f"--version={__version__}",
            "--sort-by-file",
            ".",
        )


def update(project: Project) -> None:
    """Merge the template into every catalog with GNU ``msgmerge --previous``, as Poedit and
    Weblate do: a changed unit becomes fuzzy with its old English in ``#|`` comments.
    (``pybabel update --previous`` wraps a long old msgid across ``#|`` lines in a way that
    msgfmt cannot read, which would stop the whole language.)"""
    if shutil.which("msgmerge") is None:
        raise UsageError("GNU msgmerge is not installed (Debian package gettext)")
    for language in sorted(available_languages(project.locales) - {SOURCE_LANGUAGE}):
        path = catalog_path(project.locales, language)
        proc = subprocess.run(
            ["msgmerge", "--quiet", "--update", "--previous", "--backup=none", str(path), str(project.pot)],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise UsageError(f"msgmerge failed: {proc.stderr.strip()}", path)


def compile_catalogs(project: Project) -> None:
    _pybabel("compile", "-d", str(project.locales), "-D", DOMAIN, "--statistics")


def init(project: Project, language: str) -> str:
    """Start a catalog from the template, with the language's preferred Plural-Forms (GNU
    gettext's where it has one, so the catalog does not change with Babel's releases) and a
    draft review status. Returns what was done, for the user."""
    path = catalog_path(project.locales, language)
    if path.exists():
        raise UsageError(f"'{language}' already has a catalog", path)
    _pybabel("init", "-i", str(project.pot), "-d", str(project.locales), "-D", DOMAIN, "-l", language)
    catalog = read_catalog(path, language)
    rule = preferred(language)
    catalog.mime_headers = [
        (key, rule.plural_forms if key.lower() == "plural-forms" else value) for key, value in catalog.mime_headers
    ]
    with path.open("wb") as fp:
        write_po(fp, catalog)
    (project.locales / language / "review.toml").write_text(REVIEW_TEMPLATE, "utf-8")
    return (
        f'created {path} with "Plural-Forms: {rule.plural_forms}" ({rule.source}) and '
        f"{path.parent.parent / 'review.toml'} (status: draft)"
    )


@dataclass(frozen=True)
class Stats:
    language: str
    translated: int
    fuzzy: int
    untranslated: int
    #: route -> (units the handout prints, of them not approved unit by unit); see review.py
    to_approve: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the whole language is approved in review.toml (as before per-unit approvals)
    language_approved: bool = False

    @property
    def total(self) -> int:
        return self.translated + self.fuzzy + self.untranslated

    @property
    def percent(self) -> float:
        return 100.0 * self.translated / self.total if self.total else 100.0


def _counts(catalog: Catalog, ids: list) -> tuple[int, int]:
    """How many of the template's messages ``ids`` a catalog has translated, and how many fuzzy."""
    translated = fuzzy = 0
    for msgid in ids:
        message = catalog.get(msgid)
        if message is not None and is_translated(message):
            translated += 1
        elif message is not None and message.fuzzy:
            fuzzy += 1
    return translated, fuzzy


def stats(project: Project) -> list[Stats]:
    """Per language: translated, fuzzy and untranslated messages of the current template."""
    with project.pot.open("rb") as fp:
        template = read_po(fp)
    ids = [m.id for m in template if m.id]
    found = []
    try:
        content: Content | None = load_content(project.content)
    except HandoutError:
        content = None  # the approvals per handout are left out; 'handouts check' says why
    # what each handout prints, worked out once (parsing the content's Markdown is most of the time)
    shared = [msgid_of(m) for m in template if m.id and not from_content(loc for loc, _ in m.locations)]
    printed = printed_units(content, shared) if content is not None else None
    for language in sorted(available_languages(project.locales) - {SOURCE_LANGUAGE}):
        catalog = read_catalog(catalog_path(project.locales, language), language)
        translated, fuzzy = _counts(catalog, ids)
        found.append(
            Stats(
                language,
                translated,
                fuzzy,
                len(ids) - translated - fuzzy,
                progress(project, language, content, catalog=catalog, printed=printed) if content else {},
                whole_language_approved(project, language, content),
            )
        )
    return found

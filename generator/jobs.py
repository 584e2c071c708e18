"""What a build makes: one :class:`Job` per clinic × language × route × edition, the plan
that lists them, the shards that split them, and the output key that names each one's file
(``<clinic>/<language>/<route>[.large|.xx+en].pdf``) for the build, the manifest, the index
and the output folder alike.

Dependencies run one way: config -> jobs -> manifest, index, build, report, check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .config import Clinic, ClinicFileError, load_clinic
from .errors import ConfigError, UsageError
from .project import Project
from .translation import available_languages


class Edition(StrEnum):
    """The editions of a handout; a value compares equal to its name (``"large"``)."""

    STANDARD = "standard"
    LARGE = "large"
    BILINGUAL = "bilingual"


@dataclass(frozen=True)
class Job:
    clinic: Clinic
    language: str
    route: str
    edition: Edition = Edition.STANDARD
    #: the second language of a bilingual edition
    second: str | None = None

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the handout prints: its own, and a bilingual edition's second."""
        return (self.language, self.second) if self.second else (self.language,)

    @property
    def filename(self) -> str:
        """iv.pdf, iv.large.pdf or iv.es+en.pdf"""
        if self.edition == Edition.LARGE:
            return f"{self.route}.large.pdf"
        if self.edition == Edition.BILINGUAL:
            return f"{self.route}.{self.language}+{self.second}.pdf"
        return f"{self.route}.pdf"

    @property
    def name(self) -> str:
        """example/es/iv, example/es/iv.large, example/es/iv.es+en: for messages and logs."""
        return f"{self.clinic.id}/{self.language}/{self.filename.removesuffix('.pdf')}"


def output_key(job: Job) -> str:
    """The output's path relative to the output folder (``example/es/iv.pdf``): its name in
    the manifest, the report and the index, and what :mod:`output` writes."""
    return f"{job.clinic.id}/{job.language}/{job.filename}"


def load_clinics(project: Project, only: Iterable[str] = (), broken: list[ConfigError] | None = None) -> list[Clinic]:
    """The clinics (those in ``only``, else all). A clinic whose file is wrong raises its
    :class:`ConfigError`; given a ``broken`` list, it goes there and the others are still
    loaded, unless none of them could be (then one error lists them all)."""
    known = available_languages(project.locales)
    files = project.clinic_files()
    wanted = set(only)
    unknown = wanted - {f.stem for f in files}
    if unknown:
        raise UsageError(
            f"unknown clinic {', '.join(sorted(unknown))} (have: {', '.join(f.stem for f in files) or 'none'})",
            project.clinics,
        )
    clinics, errors = _loaded([path for path in files if not wanted or path.stem in wanted], known)
    if errors and broken is None:
        raise errors[0]
    if errors and not clinics:  # nothing to build: every problem of every file at once
        raise ClinicFileError(errors[0].path, [p for e in errors for p in getattr(e, "problems", (e,))])
    if broken is not None:
        broken += errors
    return clinics


def _loaded(paths: list[Path], known: set[str]) -> tuple[list[Clinic], list[ConfigError]]:
    """Each clinic file read: the clinics, and the errors of the files that are wrong."""
    clinics, errors = [], []
    for path in paths:
        try:
            clinics.append(load_clinic(path, known))
        except ConfigError as exc:
            errors.append(exc)
    return clinics, errors


def plan(
    clinics: list[Clinic], languages: Iterable[str] = (), routes: Iterable[str] = (), editions: Iterable[str] = ()
) -> list[Job]:
    """Every (clinic, language, route, edition) the clinics offer, narrowed by the filters."""
    languages, routes, editions = set(languages), set(routes), set(editions)
    _offered("language", languages, {lang for c in clinics for lang in c.languages})
    _offered("route", routes, {r for c in clinics for r in c.routes})
    return [
        job
        for c in clinics
        for lang in c.languages
        for route in c.routes
        if (not languages or lang in languages) and (not routes or route in routes)
        for job in _editions(c, lang, route)
        if not editions or job.edition in editions
    ]


def _offered(what: str, wanted: set[str], offered: set[str]) -> None:
    """A usage error where a filter asks for what no clinic offers."""
    if wanted - offered:
        raise UsageError(
            f"no clinic offers {what} {', '.join(sorted(wanted - offered))} (offered: {', '.join(sorted(offered))})"
        )


def _editions(clinic: Clinic, language: str, route: str) -> list[Job]:
    """The standard edition, and the large-print and bilingual ones where the clinic wants them."""
    jobs = [Job(clinic, language, route)]
    if clinic.large_print:
        jobs.append(Job(clinic, language, route, Edition.LARGE))
    if language in clinic.bilingual and language != clinic.bilingual_second:
        jobs.append(Job(clinic, language, route, Edition.BILINGUAL, clinic.bilingual_second))
    return jobs


def shard(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Shard ``index`` of ``count`` (1-based): every count-th job in name order, so N
    machines given the same plan split it without overlap and about evenly."""
    if not 1 <= index <= count:
        raise UsageError(f"--shard {index}/{count}: K must be between 1 and N")
    ordered = sorted(jobs, key=lambda job: job.name)
    return [job for i, job in enumerate(ordered) if i % count == index - 1]

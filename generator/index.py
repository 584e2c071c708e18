"""The staff index page, ``handouts/index.html``: every handout by route and language.

A static page that staff open straight from the folder (``file://``, no server, nothing
fetched): links to each edition's PDF, review status, content version and build date, and a
filter-as-you-type box. The page is rendered here; ``output.write_index`` writes it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from babel import Locale
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from .approvals import route_units
from .content import Content, Route
from .dates import build_date
from .errors import HandoutError
from .jobs import Job, output_key
from .translation import SOURCE_LANGUAGE, Translators

TEMPLATE = "index.html"
#: the everyday words front-desk staff may type for each route
ROUTE_WORDS = {
    "iv": "infusion drip vein intravenous",
    "intranasal": "nasal nose spray esketamine Spravato",
    "im": "injection shot muscle intramuscular",
    "oral": "pill tablet lozenge mouth sublingual",
}
EDITION_LABELS = {"standard": "Standard", "large": "Large print", "bilingual": "Bilingual"}


@dataclass(frozen=True)
class Language:
    id: str  # Babel id: zh_Hans
    native: str  # its name in its own script: 中文 (简体)
    english: str  # Chinese (Simplified)
    lang: str  # BCP 47 tag for HTML: zh-Hans
    dir: str  # "ltr" or "rtl"

    @classmethod
    def of(cls, language: str) -> Language:
        locale = Locale.parse(language)
        native = locale.get_display_name(locale) or language
        return cls(
            language,
            native[:1].upper() + native[1:],
            locale.get_display_name("en") or language,
            language.replace("_", "-"),
            "rtl" if locale.character_order == "right-to-left" else "ltr",
        )


@dataclass(frozen=True)
class IndexEntry:
    """One handout PDF as the index lists it."""

    clinic_id: str
    clinic_name: str
    language: Language
    route_id: str
    route_title: str  # in English
    edition: str  # "standard", "large" or "bilingual"
    second: Language | None  # the second language of a bilingual edition
    path: str  # relative to the output folder, with "/"
    status: str  # "draft", "approved" or "source" (English, not a translation)
    version: str  # the route's content version
    built: str  # build date, yyyy-mm-dd

    @property
    def edition_label(self) -> str:
        label = EDITION_LABELS.get(self.edition, self.edition.capitalize())
        return f"{label} + {self.second.english}" if self.second else label

    @property
    def href(self) -> str:
        return quote(self.path, safe="/+")  # iv.es+en.pdf stays readable


def collect_entries(
    jobs: Iterable[Job],
    content: Content,
    translators: Translators,
    out_dir: Path,
    statuses: Mapping[str, str] | None = None,
) -> list[IndexEntry]:
    """An entry for each job whose PDF exists in ``out_dir``, in the jobs' order. ``statuses``:
    the review status of the handouts the build has just made, by output key, as their
    render processes found it (:func:`built_status`); the others' is found here (loading
    and checking their languages' catalogs)."""
    entries = []
    known = statuses or {}
    for job in jobs:
        key = output_key(job)
        path = out_dir / key
        if not path.is_file():
            continue
        route = content.routes[job.route]
        entries.append(
            IndexEntry(
                job.clinic.id,
                job.clinic.name,
                Language.of(job.language),
                route.id,
                route.title,
                job.edition,
                Language.of(job.second) if job.second else None,
                path.relative_to(out_dir).as_posix(),
                known.get(key) or handout_status(translators, job.languages, route),
                route.version,
                build_date(path),
            )
        )
    return entries


def handout_status(translators: Translators, languages: Iterable[str], route: Route) -> str:
    """ "draft", "approved" or "source" (English alone) for a handout printing ``languages``:
    what the index shows and the build's report counts."""
    return _status([_review_status(translators, lang, route) for lang in languages])


def built_status(languages: Iterable[str], draft: bool) -> str:
    """:func:`handout_status` of a handout its render process found to be a draft or not: a
    draft; else approved if it prints a translation, the source if English alone."""
    if draft:
        return "draft"
    return "approved" if any(lang != SOURCE_LANGUAGE for lang in languages) else "source"


def _review_status(translators: Translators, language: str, route: Route) -> str:
    try:
        tr = translators.get(language)
    except HandoutError:
        return "draft"  # a catalog that cannot be read now: never claim its PDF is approved
    if tr.is_source:
        return "source"
    printed = {*route_units(route), *tr.shared_ids, *tr.untranslated_shared}
    return "draft" if tr.is_draft(route.reviewed, printed) else "approved"


def _status(statuses: list[str]) -> str:
    """A handout is a draft if any of its languages is; English alone is the source."""
    for status in ("draft", "approved"):
        if status in statuses:
            return status
    return "source"


@dataclass(frozen=True)
class Row:
    """One language of one route: its editions side by side."""

    language: Language
    entries: tuple[IndexEntry, ...]

    def summary(self, field: str) -> list[tuple[str | None, str]]:
        """The field's value; when the editions differ, each value with the editions it is for."""
        editions: dict[str, list[str]] = {}
        for e in self.entries:
            editions.setdefault(getattr(e, field), []).append(e.edition_label)
        if len(editions) == 1:
            return [(None, next(iter(editions)))]
        return [(", ".join(labels), value) for value, labels in editions.items()]

    @property
    def search(self) -> str:
        """What the filter box matches: names in both scripts, ids, route (and the words staff
        use for it), clinic, editions."""
        e = self.entries[0]
        words = [
            e.clinic_id,
            e.clinic_name,
            e.route_id,
            e.route_title,
            ROUTE_WORDS.get(e.route_id, ""),
            self.language.id,
            self.language.lang,
            self.language.native,
            self.language.english,
        ]
        words += [x.edition_label for x in self.entries]
        words += [w for x in self.entries if x.second for w in (x.second.native, x.second.english)]
        return " ".join(dict.fromkeys(words))


@dataclass(frozen=True)
class RouteGroup:
    id: str
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class ClinicGroup:
    id: str
    name: str
    routes: tuple[RouteGroup, ...]


def group(entries: Iterable[IndexEntry]) -> list[ClinicGroup]:
    """Clinic, then route, then language, each in the order first met; editions in order."""
    tree: dict[tuple[str, str], dict[tuple[str, str], dict[str, list[IndexEntry]]]] = {}
    for e in entries:
        routes = tree.setdefault((e.clinic_id, e.clinic_name), {})
        languages = routes.setdefault((e.route_id, e.route_title), {})
        languages.setdefault(e.language.id, []).append(e)
    clinics = []
    for (clinic_id, clinic_name), routes in tree.items():
        route_groups = []
        for (route_id, route_title), languages in routes.items():
            rows = tuple(
                Row(found[0].language, tuple(sorted(found, key=_edition_order))) for found in languages.values()
            )
            route_groups.append(RouteGroup(route_id, route_title, rows))
        clinics.append(ClinicGroup(clinic_id, clinic_name, tuple(route_groups)))
    return clinics


def _edition_order(entry: IndexEntry) -> tuple[int, str]:
    editions = list(EDITION_LABELS)
    rank = editions.index(entry.edition) if entry.edition in editions else len(editions)
    return rank, entry.second.id if entry.second else ""


def render_index(entries: Iterable[IndexEntry], templates_dir: Path) -> str:
    entries = list(entries)
    env = Environment(
        loader=FileSystemLoader(templates_dir), autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True
    )
    return env.get_template(TEMPLATE).render(
        clinics=group(entries),
        count=len(entries),
        drafts=sum(e.status == "draft" for e in entries),
        newest=max((e.built for e in entries), default=""),
    )

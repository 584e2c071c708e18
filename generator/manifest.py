"""What each handout depends on, and the record of what was built (``handouts/manifest.json``).

Every output has a hash of everything it is made from: the content units its route uses
(block texts and front matter, the route's title and subtitle), the catalog entries for
those units plus the template and code strings, the catalog's header and review status,
the approval records of the entries it prints (``approvals.toml``: approving a unit renders
again only the handouts that print it), the language's glossary (the gates read it), the
templates and stylesheets, the clinic's file and logo, the font files, the versions
of the Python and Debian packages that shape a PDF (``environment.py``), and the
generator's version and code. ``handouts build`` renders an output again only when that
hash differs from the one recorded when it was last built, or when the PDF on disk is not
the one that was written (deleted or edited by hand). The hashes are computed from the
sources alone, without composing or rendering anything, so a build with nothing to do is
quick.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.pofile import denormalize

from . import __version__
from .approvals import Approval, approvals_path, read_approvals, unit_key
from .content import Content, Route
from .dates import build_date
from .environment import versions
from .errors import CatalogError, HandoutError
from .fonts import font_files, fonts_for
from .glossary import glossary_path
from .jobs import Job, output_key
from .output import read_inside
from .segments import units
from .translation import SOURCE_LANGUAGE, catalog_path, from_content

if TYPE_CHECKING:  # pragma: no cover
    from .project import Project

MANIFEST_NAME = "manifest.json"
#: Bump when the manifest's layout or what goes into a hash changes.
FORMAT = 3


@dataclass(frozen=True)
class Entry:
    """One output as it was last built."""

    job: str
    inputs: str  # hash of everything the output is made from
    sha256: str  # hash of the PDF as written
    pages: int
    #: keyed hash of the key, job, inputs, sha256 and pages (see :func:`seal`): set by the
    #: build or merge that checked the PDF, so that an entry edited by hand is noticed
    seal: str = ""


#: a manifest larger than this is not one a build wrote (a full plan's is about 200 KB)
MAX_MANIFEST_BYTES = 32 * 2**20
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
FIELDS = {"job": str, "inputs": str, "sha256": str, "pages": int, "seal": str}


class ManifestError(ValueError):
    """A manifest that is not as a build writes it."""


@dataclass
class Manifest:
    #: by the output's path relative to the output folder, e.g. "example/es/iv.pdf"
    entries: dict[str, Entry]
    #: hash of what the staff index page (index.html) was last written from
    index: str = ""

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest at ``path``; a missing, unreadable or malformed one is empty (all is
        rebuilt). It is read only if it is a regular file, not a link, of a sane size."""
        try:
            return cls.parse(read_inside(path.parent, path.name, MAX_MANIFEST_BYTES))
        except (OSError, HandoutError, ManifestError):
            return cls({})

    @classmethod
    def parse(cls, data: bytes) -> Manifest:
        """Strictly: the layout a build writes, or :class:`ManifestError` saying what is not."""
        try:
            obj = json.loads(data)
        except RecursionError:
            raise ManifestError("not JSON a build writes (nested too deeply)") from None
        except ValueError as exc:
            raise ManifestError(f"not valid JSON ({exc})") from None
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ManifestError(f"not a manifest of format {FORMAT}")
        outputs, index = obj.get("outputs"), obj.get("index", "")
        if not isinstance(outputs, dict) or not isinstance(index, str):
            raise ManifestError("'outputs' must be an object and 'index' a string")
        return cls({key: _entry(key, value) for key, value in outputs.items()}, index)

    def to_bytes(self) -> bytes:
        """Stable JSON: sorted, no clock time, so the same builds give the same manifest."""
        data = {
            "format": FORMAT,
            "generator": __version__,
            "versions": versions(),
            "index": self.index,
            "outputs": {key: asdict(entry) for key, entry in sorted(self.entries.items())},
        }
        return (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    def record(self, key: str, job: str, inputs: str, data: bytes, pages: int) -> Entry:
        """Record a PDF that was checked just now, sealed with this machine's key."""
        entry = Entry(job, inputs, hashlib.sha256(data).hexdigest(), pages)
        self.entries[key] = entry = replace(entry, seal=seal(key, entry))
        return entry

    def is_current(self, key: str, inputs: str, pdf: Path) -> bool:
        """Whether the output at ``pdf`` was built from these inputs and is still as written:
        its entry is sealed with this machine's key (not edited by hand) and its bytes hash to
        the recorded hash (not replaced or edited)."""
        entry = self.entries.get(key)
        return (
            entry is not None
            and entry.inputs == inputs
            and hmac.compare_digest(entry.seal, seal(key, entry))
            and _file_digest(pdf) == entry.sha256
        )


def _entry(key: object, value: object) -> Entry:
    if (
        not isinstance(key, str)
        or not isinstance(value, dict)
        or set(value) - set(FIELDS)
        or set(FIELDS) - set(value) - {"seal"}
    ):
        raise ManifestError(f"output {key!r}: an entry has exactly {', '.join(FIELDS)}")
    for name, kind in FIELDS.items():
        if name in value and (not isinstance(value[name], kind) or isinstance(value[name], bool)):
            raise ManifestError(f"output {key!r}: {name} must be a {kind.__name__}")
    if not (
        HEX64_RE.match(value["inputs"])
        and HEX64_RE.match(value["sha256"])
        and 0 < value["pages"] < 100_000
        and len(value["job"]) < 1000
        and len(key) < 1000
    ):
        raise ManifestError(f"output {key!r}: not an entry a build writes")
    return Entry(**value)


def seal(key: str, entry: Entry) -> str:
    """A keyed hash (HMAC-SHA256) of an entry, with the key of this machine's user kept
    outside every output folder (:func:`machine_key`)."""
    message = json.dumps([key, entry.job, entry.inputs, entry.sha256, entry.pages]).encode("utf-8")
    return hmac.new(machine_key(), message, hashlib.sha256).hexdigest()


#: where the key of the manifests' seals is kept, unless HANDOUTS_KEY_FILE says otherwise
def key_file() -> Path:
    if os.environ.get("HANDOUTS_KEY_FILE"):
        return Path(os.environ["HANDOUTS_KEY_FILE"])
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "handouts" / "manifest.key"


@functools.cache
def machine_key() -> bytes:
    """32 random bytes made once per user and machine (mode 0600), outside any output folder,
    so that whoever can write an output folder cannot seal an entry. Where it cannot be
    kept (no writable home), entries are hashed without a key: a hand edit is still noticed."""
    path = key_file()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except OSError:
        return b""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fp:
            fp.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)  # the first of two builds starting at once wins; both use its key
        finally:
            tmp.unlink()
    except FileExistsError:
        pass
    except OSError:
        return b""
    try:
        return _read_key(path)
    except OSError:
        return b""


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fp:
        key = fp.read(64)
    if len(key) != 32:
        raise OSError(f"{path}: not a key")
    return key


def _digest(*parts: object) -> str:
    """A hash of JSON-able parts (strings, numbers, lists, None)."""
    text = json.dumps(parts, ensure_ascii=False, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return "missing"


def _tree_digest(root: Path) -> str:
    """Every file under ``root``, by relative path and content."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return _digest([(p.relative_to(root).as_posix(), _file_digest(p)) for p in files])


def route_msgids(route: Route) -> list[str]:
    """Every translation unit a route prints: its title and subtitle, block titles and texts."""
    ids = [route.title, route.subtitle]
    for block in route.blocks:
        if block.title:
            ids.append(block.title)
        ids.extend(unit.text for unit in units(block.body, block.body_line))
    return ids


class Inputs:
    """The hash of each job's inputs, with every part computed once per run."""

    def __init__(
        self, project: Project, content: Content, allow_incomplete: bool = False, strict: bool = False
    ) -> None:
        self.project = project
        self.content = content
        self._common = _digest(
            FORMAT,
            __version__,
            _tree_digest(Path(__file__).parent),
            versions(),
            _tree_digest(project.templates),
            allow_incomplete,
            strict,
        )
        self._routes: dict[str, tuple[str, list[str]]] = {}
        self._catalogs: dict[tuple[str, str], str] = {}
        self._entries: dict[str, list[tuple[str | None, bool, str]]] = {}
        self._approvals: dict[str, dict[str, Approval] | str] = {}
        self._clinics: dict[Path, str] = {}
        self._fonts: dict[str, str] = {}
        self._font_files: dict[str, list[str]] | None = None

    def of(self, job: Job) -> str:
        return _digest(
            self._common,
            job.clinic.id,
            job.edition,
            job.filename,
            job.languages,
            self._clinic(job.clinic.path, job.clinic.logo),
            self._route(job.route)[0],
            [self._catalog(lang, job.route) for lang in job.languages],
            [self._font(job.clinic.font, lang) for lang in job.languages],
        )

    def of_index(self, jobs: list[Job], out_dir: Path) -> str:
        """What the staff index page shows for these jobs: the PDFs on disk and their dates,
        and the content, clinics, templates and review status they are listed with."""
        languages = sorted({lang for job in jobs for lang in job.languages})
        paths = [(job.name, out_dir / output_key(job)) for job in jobs]
        on_disk = [(name, build_date(path)) for name, path in paths if path.is_file()]
        return _digest(
            self._common,
            on_disk,
            sorted({self._clinic(job.clinic.path, job.clinic.logo) for job in jobs}),
            sorted({self._route(job.route)[0] for job in jobs}),
            [
                (
                    lang,
                    _file_digest(self.project.locales / lang / "review.toml"),
                    _file_digest(approvals_path(self.project.locales, lang)),
                    _file_digest(catalog_path(self.project.locales, lang)),
                )
                for lang in languages
            ],
        )

    def _route(self, route_id: str) -> tuple[str, list[str]]:
        if route_id not in self._routes:
            route = self.content.routes[route_id]
            blocks = [
                (b.id, b.title, b.version, b.reviewed, b.reviewer, b.review_due, b.body, b.countries)
                for b in route.blocks
            ]
            self._routes[route_id] = (_digest(route.id, route.title, route.subtitle, blocks), route_msgids(route))
        return self._routes[route_id]

    def _clinic(self, path: Path, logo: Path) -> str:
        if path not in self._clinics:
            self._clinics[path] = _digest(_file_digest(path), logo.name, _file_digest(logo))
        return self._clinics[path]

    def _catalog(self, language: str, route_id: str) -> str:
        """The catalog entries the route uses, the template and code strings, the header, the
        review status, the approvals of those entries and the glossary. Entries are hashed as
        written in the file (flags, plural forms, duplicates and all) so that whatever the
        translation gates check is covered; the glossary too, since the gates read it (a
        changed glossary may refuse a unit the handout prints: the build must check it again)."""
        if language == SOURCE_LANGUAGE:
            return ""
        key = (language, route_id)
        if key not in self._catalogs:
            if language not in self._entries:
                self._entries[language] = po_entries(catalog_path(self.project.locales, language))
            wanted = set(self._route(route_id)[1])
            entries = [(m, c, raw) for m, c, raw in self._entries[language] if m is None or not c or m in wanted]
            missing = sorted(wanted - {msgid for msgid, _, _ in self._entries[language]})
            self._catalogs[key] = _digest(
                sorted(raw for _, _, raw in entries),
                missing,
                _file_digest(self.project.locales / language / "review.toml"),
                self._approval_state(language, [(m, raw) for m, _, raw in entries if m is not None]),
                _file_digest(glossary_path(self.project.locales, language)),
            )
        return self._catalogs[key]

    def _approval_state(self, language: str, printed: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """The approval records of the entries a handout prints (``printed``: msgid and the
        entry as written), by the hashes that decide whether each still holds: with the
        entries themselves in the hash, this is their approval status. Approving a unit
        renders again only the handouts that print it; a reviewer's name or date is not
        printed. An approvals file that cannot be read is hashed whole (the build fails the
        language and says why)."""
        if language not in self._approvals:
            try:
                self._approvals[language] = read_approvals(approvals_path(self.project.locales, language))
            except CatalogError:
                self._approvals[language] = _file_digest(approvals_path(self.project.locales, language))
        records = self._approvals[language]
        if isinstance(records, str):
            return [("unreadable", records, "")]
        keys = sorted({unit_key(msgid, _context(raw)) for msgid, raw in printed})
        return [(k, records[k].source, records[k].translation) for k in keys if k in records]

    def _font(self, clinic_font: str | None, language: str) -> str:
        """The font files that can be used for a language (after the clinic's own font, if
        it names one), by path, size and time."""
        key = f"{clinic_font}\0{language}"
        if key not in self._fonts:
            if self._font_files is None:
                self._font_files = font_files()
            files = []
            for family in [*([clinic_font] if clinic_font else []), *fonts_for(language), "sans-serif"]:
                found = self._font_files.get(family.lower(), [])
                files.extend(found or [f"not installed: {family}"])
            stats: list[tuple[str, int | None, int | None]] = []
            for name in sorted(set(files)):
                try:
                    st = Path(name).stat()
                    stats.append((name, st.st_size, st.st_mtime_ns))
                except OSError:
                    stats.append((name, None, None))
            self._fonts[key] = _digest(stats)
        return self._fonts[key]


#: msgid, with the lines of a string continued after it
MSGID_RE = re.compile(r'^msgid ("(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)', re.M)
MSGCTXT_RE = re.compile(r'^msgctxt ("(?:[^"\\]|\\.)*"(?:\n"(?:[^"\\]|\\.)*")*)', re.M)
#: catalog header fields that change on every `i18n update` or save and are never printed
VOLATILE_HEADER_RE = re.compile(r'^"(POT-Creation-Date|PO-Revision-Date|X-Generator|Generated-By):.*(\n|$)', re.M)


def _context(raw: str) -> str | None:
    """The msgctxt of an entry as written, if it has one."""
    match = MSGCTXT_RE.search(raw)
    return denormalize(match.group(1)) if match else None


def po_entries(path: Path) -> list[tuple[str | None, bool, str]]:
    """A .po file's entries as written: (msgid, whether it comes from content/, raw text).

    The header's msgid is None, its dates left out; obsolete (#~) entries are left out. The
    text is split, not parsed, so that a catalog the gates would refuse still hashes."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return [(None, False, "missing")]
    entries: list[tuple[str | None, bool, str]] = []
    for raw in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        match = MSGID_RE.search(raw)
        if match is None:
            if raw.strip() and not all(line.startswith("#~") for line in raw.strip().splitlines()):
                entries.append((None, False, raw))  # not an entry: hash it anyway
            continue
        msgid = denormalize(match.group(1))
        if msgid == "" and "msgctxt" not in raw:
            entries.append((None, False, VOLATILE_HEADER_RE.sub("", raw)))
            continue
        locations = [word for line in raw.splitlines() if line.startswith("#:") for word in line[2:].split()]
        entries.append((msgid, from_content(locations), raw))
    return entries

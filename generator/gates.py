"""Checks that stop a wrong or altered translation from reaching paper.

Catalog-wide problems (a fuzzy header, wrong Plural-Forms, ``msgfmt --check`` failures)
stop every handout of that language; a broken entry stops every handout that uses it.
Every problem names ``path:line``, the msgid and what is wrong.
"""
from __future__ import annotations

import bisect
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from markdown_it import MarkdownIt

from .errors import format_diagnostic
from .placeholders import KINDS
from .plurals import mismatch, preferred, recognised
from .segments import LINK_SCHEMES, allowed_link, links

BRACE_FIELD_RE = re.compile(r"\{[a-z][a-z0-9_]*\}")
BRACE_NAME_RE = re.compile(r"\{([a-z][a-z0-9_]*)\}")
PERCENT_FIELD_RE = re.compile(r"%\([a-z_]+\)[sd]|%[sd]")
NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
#: With raw HTML switched on and every link target kept, so that HTML and javascript:,
#: file: or data: links in a translation can be seen (and refused).
HTML_AWARE_MD = MarkdownIt("commonmark", {"html": True}).enable("table")
HTML_AWARE_MD.validateLink = lambda url: True  # type: ignore[method-assign]


def msgid_of(message: Message) -> str:
    """A message's msgid: the singular of a plural entry."""
    return message.id if isinstance(message.id, str) else message.id[0]


@dataclass(frozen=True)
class Problem:
    path: Path | None
    line: int | None
    message: str
    msgid: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f" (msgid {self.msgid!r})" if self.msgid is not None else ""
        return format_diagnostic(self.severity, self.message + where, self.path, self.line)


def _fields(pattern: re.Pattern, text: str) -> Counter:
    return Counter(pattern.findall(text))


def _describe(diff_missing: Counter, diff_added: Counter, what: str) -> list[str]:
    found = []
    if diff_missing:
        found.append(f"{what} missing from the translation: {', '.join(sorted(diff_missing))}")
    if diff_added:
        found.append(f"{what} added or renamed in the translation: {', '.join(sorted(diff_added))}")
    return found


def markup(text: str) -> tuple[list[str], Counter, list[str]]:
    """Block structure, inline mark counts and link and image targets of a unit's Markdown."""
    tokens = HTML_AWARE_MD.parse(text)
    blocks = [t.type for t in tokens if t.type != "inline"]
    marks: Counter = Counter()
    targets: list[str] = []
    for token in tokens:
        for child in token.children or ():
            if child.type in ("strong_open", "em_open", "code_inline", "image", "hardbreak"):
                marks[child.type.removesuffix("_open")] += 1
            if child.type == "link_open":
                targets.append(str(child.attrs.get("href", "")))
            elif child.type == "image":
                targets.append(str(child.attrs.get("src", "")))
    return blocks, marks, sorted(targets)


def html_in(text: str) -> bool:
    tokens = HTML_AWARE_MD.parse(text)
    return any(t.type == "html_block" or any(c.type == "html_inline" for c in t.children or ())
               for t in tokens)


#: Embeddings and overrides (LRE, RLE, PDF, LRO, RLO): an override turns "503-555-0199" into
#: "9910-555-305" on paper, and no translation needs them (the page sets each text's direction).
BIDI_CONTROLS = frozenset(range(0x202A, 0x202F))
ISOLATE_OPENERS, ISOLATE_CLOSER = frozenset((0x2066, 0x2067, 0x2068)), 0x2069
#: Format characters that some scripts need inside words (zero-width non-joiner and joiner,
#: e.g. in Persian and Hindi), and the isolates, checked for balance instead.
ALLOWED_FORMAT = frozenset((0x200C, 0x200D, *ISOLATE_OPENERS, ISOLATE_CLOSER))
#: A conversion as the % operator reads it (Jinja formats every translated template string).
PERCENT_CONVERSION_RE = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?(.?)", re.S)


def code_point(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '(a control character)')}"


def blank(text: str) -> bool:
    """Nothing a reader would see: empty, spaces (a no-break space too), or invisible
    characters only. Such a translation counts as untranslated."""
    return all(c.isspace() or unicodedata.category(c) in ("Cf", "Cc", "Zs", "Zl", "Zp") for c in text)


def bidi_control_problems(msgstr: str) -> list[str]:
    return [f"bidirectional control character {code_point(c)} at character {i + 1}: it can "
            "reverse or hide what is printed; delete it"
            for i, c in enumerate(msgstr) if ord(c) in BIDI_CONTROLS]


def isolate_problems(msgstr: str) -> list[str]:
    """Isolates (U+2066-U+2069) must each be closed, and closed only once opened."""
    depth = 0
    for i, c in enumerate(msgstr):
        if ord(c) in ISOLATE_OPENERS:
            depth += 1
        elif ord(c) == ISOLATE_CLOSER:
            if depth == 0:
                return [f"unbalanced bidirectional isolate: {code_point(c)} at character {i + 1} "
                        "closes nothing"]
            depth -= 1
    return [f"unbalanced bidirectional isolate: {depth} opened (U+2066-U+2068) and not closed "
            "with U+2069"] if depth else []


def invisible_problems(msgstr: str) -> list[str]:
    """Invisible format characters (Cf) and control characters other than tab and newline."""
    return [f"invisible {'format' if unicodedata.category(c) == 'Cf' else 'control'} character "
            f"{code_point(c)} at character {i + 1}; delete it"
            for i, c in enumerate(msgstr)
            if (unicodedata.category(c) == "Cf" and ord(c) not in ALLOWED_FORMAT | BIDI_CONTROLS)
            or (unicodedata.category(c) == "Cc" and c not in "\t\n")]


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def combining_mark_problems(msgstr: str) -> list[str]:
    """A combining mark on a digit changes the number a reader sees; inside a placeholder it
    hides the placeholder from the build."""
    found = []
    for i, char in enumerate(msgstr):
        base = i - 1
        while base >= 0 and _is_mark(msgstr[base]):
            base -= 1
        if _is_mark(char) and base >= 0 and msgstr[base].isdigit():
            found.append(f"combining mark {code_point(char)} on the digit {msgstr[base]!r} at "
                         f"character {i + 1}")
    for match in re.finditer(r"\{[^{}\s]*\}|%\([^)]*\)", msgstr):
        found += [f"combining mark {code_point(c)} inside the placeholder {match.group(0)!r}"
                  for c in match.group(0) if _is_mark(c)]
    return found


def format_string_problems(msgid: str, msgstr: str) -> list[str]:
    """A template or code string is %-formatted: only %(name)s, %(name)d and %% may appear."""
    for match in PERCENT_CONVERSION_RE.finditer(msgstr):
        if match.group(0) == "%%" or match.group(1) in ("s", "d") and "(" in match.group(0):
            continue
        if match.group(0) in ("%s", "%d") and match.group(0) in msgid:
            continue
        shown = match.group(0) or "%"
        return [f"{shown!r} is not a format field here: write %% for a percent sign, and keep "
                "%(name)s fields exactly as in the source"]
    names = dict.fromkeys(re.findall(r"%\(([^)]*)\)", msgid), 1)
    try:
        msgstr % names
    except (ValueError, TypeError, KeyError) as exc:
        return [f"the translation cannot be filled in ({type(exc).__name__}: {exc}); keep "
                "%(name)s fields as in the source and write %% for a percent sign"]
    return []


def foreign_placeholder_problems(msgstr: str) -> list[str]:
    """A field in braces that is not a placeholder name (translated, or in another script)
    would be printed as it is."""
    return [f"{match.group(0)!r} is not a placeholder: placeholder names stay in English, "
            "exactly as in the source" for match in re.finditer(r"\{[^{}\n]*\}", msgstr)
            if not BRACE_FIELD_RE.fullmatch(match.group(0))]


def character_problems(msgstr: str) -> list[str]:
    """Characters that change or hide what is printed, whatever the source."""
    return [*bidi_control_problems(msgstr), *isolate_problems(msgstr),
            *invisible_problems(msgstr), *combining_mark_problems(msgstr),
            *foreign_placeholder_problems(msgstr)]


def entry_problems(msgid: str, msgstr: str, formatted: bool = False) -> list[str]:
    """What is wrong with one translation, compared with its source; [] when nothing is.
    ``formatted``: the string is %-formatted when used (template and code strings)."""
    found = [*character_problems(msgstr), *(format_string_problems(msgid, msgstr) if formatted else ())]
    for pattern, what in ((BRACE_FIELD_RE, "placeholder"), (PERCENT_FIELD_RE, "format field")):
        source, target = _fields(pattern, msgid), _fields(pattern, msgstr)
        found += _describe(source - target, target - source, what)
    if html_in(msgstr):
        found.append("raw HTML in the translation; use Markdown or plain text")
    source_blocks, source_marks, source_links = markup(msgid)
    target_blocks, target_marks, target_links = markup(msgstr)
    if source_blocks != target_blocks:
        found.append("Markdown structure changed (a list, heading or paragraph break was added or "
                     "removed)")
    if source_marks != target_marks:
        found.append(f"Markdown emphasis changed: {dict(source_marks) or 'none'} in the source, "
                     f"{dict(target_marks) or 'none'} in the translation")
    if source_links != target_links:
        found.append(f"links changed: {source_links} in the source, {target_links} in the translation")
    refused = [target for _, target in links(msgstr) if not allowed_link(target)]
    if refused:
        found.append(f"link targets {refused} are not allowed; links may only use "
                     f"{', '.join(s + ':' for s in LINK_SCHEMES)}")

    def numbers(text: str) -> Counter:
        return Counter(NUMBER_RE.findall(PERCENT_FIELD_RE.sub("", BRACE_FIELD_RE.sub("", text))))
    source_numbers, target_numbers = numbers(msgid), numbers(msgstr)
    if source_numbers != target_numbers:
        found.append(f"numbers differ: {sorted(source_numbers.elements()) or 'none'} in the source, "
                     f"{sorted(target_numbers.elements()) or 'none'} in the translation")
    return found


#: A translator's flag (as Weblate's) for a translation meant to be the same as its source.
SAME_FLAG = "ignore-same"


def unchanged_warning(msgid: str, msgstr: str, flags: set[str]) -> list[str]:
    """A translation identical to its English source (with letters in it) is likely left
    untranslated; ``#, ignore-same`` above the entry says it is meant."""
    words = PERCENT_FIELD_RE.sub("", BRACE_FIELD_RE.sub("", msgid))
    if msgstr != msgid or SAME_FLAG in flags or not re.search(r"[^\W\d_]{2}", words):
        return []
    return [f"the translation is the same as the English source; translate it, or add "
            f"'#, {SAME_FLAG}' above the entry if it is meant"]


def reordered_warning(msgid: str, msgstr: str) -> list[str]:
    """Placeholders of one kind (two phone numbers, two times) in another order than the
    source: a swap changes who the patient calls."""
    found = []
    for kind in sorted(set(KINDS.values())):
        source, target = _of_kind(msgid, kind), _of_kind(msgstr, kind)
        if sorted(source) == sorted(target) and source != target:
            found.append(f"the {kind} placeholders are in another order than in the source "
                         f"({', '.join(source)} in the source, {', '.join(target)} in the "
                         "translation): check that each sentence still names the right one")
    return found


def _of_kind(text: str, kind: str) -> list[str]:
    return [name for name in BRACE_NAME_RE.findall(text) if KINDS.get(name) == kind]


def entry_warnings(path: Path | None, catalog: Catalog) -> list[Problem]:
    """What a reviewer must look at in a catalog, without stopping a build."""
    found = []
    for message in catalog:
        if not isinstance(message.id, str) or not isinstance(message.string, str) \
                or not message.id or not message.string or message.fuzzy:
            continue
        for text in [*unchanged_warning(message.id, message.string, set(message.flags)),
                     *reordered_warning(message.id, message.string)]:
            found.append(Problem(path, message.lineno, text, message.id, "warning"))
    return found


def header_problems(path: Path, language: str, catalog: Catalog, text: str) -> list[Problem]:
    """The header: not fuzzy, and Plural-Forms present and right for the language."""
    found = []
    header = _header_lines(text)
    if catalog.fuzzy:
        found.append(Problem(path, _line_of(header, "#, fuzzy"), "the catalog header is marked fuzzy; "
                             "check the header and remove the '#, fuzzy' line above it"))
    expected = preferred(language).plural_forms
    line = _line_of(header, '"Plural-Forms:')
    if line is None:
        found.append(Problem(path, None, f"the header has no Plural-Forms; for '{language}' it is "
                             f"\"Plural-Forms: {expected}\\n\""))
        return found
    wrong = mismatch(catalog.num_plurals, catalog.plural_expr, recognised(language))
    if wrong:
        found.append(Problem(path, line, f"Plural-Forms is wrong for '{language}': {wrong}; "
                             f"use \"{expected}\""))
    return found


def plural_count_problems(path: Path, catalog: Catalog, raw: dict[str, int]) -> list[Problem]:
    found = []
    for message in catalog:
        if message.id and message.pluralizable:
            forms = message.string or ()
            count = raw.get(msgid_of(message), len(forms))
            if count != catalog.num_plurals and any(forms):
                found.append(Problem(path, message.lineno, f"this plural entry has {count} forms, "
                                     f"the catalog's Plural-Forms says {catalog.num_plurals}",
                                     message.id[0]))
    return found


def raw_plural_counts(text: str) -> dict[str, int]:
    """How many msgstr[N] lines each plural entry really has (Babel pads or trims them)."""
    counts: dict[str, int] = {}
    for match in re.finditer(r'^msgid "(.*)"\nmsgid_plural .*\n((?:msgstr\[\d+\] .*\n(?:".*"\n)*)+)',
                             text, re.M):
        counts[match.group(1)] = len(re.findall(r"^msgstr\[", match.group(2), re.M))
    return counts


def msgfmt_problems(path: Path, check: bool = True) -> list[Problem]:
    """GNU ``msgfmt --check``: the same check Poedit and Weblate run (``check=False``: syntax
    errors only)."""
    if shutil.which("msgfmt") is None:
        return [Problem(path, None, "GNU msgfmt is not installed (Debian package gettext); it is "
                        "needed to check catalogs")]
    command = ["msgfmt", *(["--check"] if check else []), "-o", "/dev/null", str(path)]
    name = " ".join(command[:-3])
    proc = subprocess.run(command, capture_output=True)
    if proc.returncode == 0:
        return []
    # msgfmt quotes the catalog in its messages: whatever it writes must not stop the check
    stderr = proc.stderr.decode("utf-8", errors="replace")
    found = []
    for line in stderr.splitlines():
        match = re.match(r"^(.*?):(\d+):(?:\d+:)? (.*)$", line)
        if match and not line.startswith("msgfmt:"):
            found.append(Problem(path, int(match.group(2)), f"{name}: {match.group(3)}"))
    return found or [Problem(path, None, f"{name} failed: {stderr.strip()}")]


def assign_to_entries(problems: list[Problem], catalog: Catalog) -> tuple[list[Problem], dict[str, list[Problem]]]:
    """Split problems into catalog-wide ones and those inside one entry (keyed by msgid):
    a line belongs to the last entry that starts at or before it."""
    entries = sorted((m.lineno, msgid_of(m))
                     for m in catalog if m.id and m.lineno)
    starts = [lineno for lineno, _ in entries]
    wide: list[Problem] = []
    by_msgid: dict[str, list[Problem]] = {}
    for problem in problems:
        index = bisect.bisect_right(starts, problem.line) - 1 if problem.line is not None else -1
        if index < 0:
            wide.append(problem)
        else:
            owner = entries[index][1]
            by_msgid.setdefault(owner, []).append(Problem(problem.path, problem.line, problem.message, owner))
    return wide, by_msgid


def _header_lines(text: str) -> list[str]:
    """The catalog's header entry: its lines up to the first blank line."""
    lines = text.splitlines()
    return lines[:lines.index("")] if "" in lines else lines


def _line_of(lines: list[str], prefix: str) -> int | None:
    return next((n for n, line in enumerate(lines, 1) if line.startswith(prefix)), None)

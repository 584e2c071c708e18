"""Checks that stop a wrong or altered translation from reaching paper.

Catalog-wide problems (a fuzzy header, wrong Plural-Forms, ``msgfmt --check`` failures)
stop every handout of that language; a broken entry stops every handout that uses it.
Every problem names ``path:line``, the msgid and what is wrong.
"""

from __future__ import annotations

import bisect
import functools
import re
import shutil
import subprocess
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from markdown_it import MarkdownIt

from .errors import _display, format_diagnostic
from .glossary import Glossary, missing
from .numberwords import added_words, values_in_english, words_in
from .placeholders import KINDS
from .plurals import mismatch, preferred, recognised, single_value_forms
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
    return str(message.id[0]) if message.pluralizable else str(message.id)


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


@functools.lru_cache(maxsize=4096)
def _tokens(text: str) -> tuple:
    """markdown-it's tokens for a text, parsed once (a source is checked in every language)."""
    return tuple(HTML_AWARE_MD.parse(text))


#: One line of text in which Markdown can mark nothing: no emphasis, code, link, image, HTML
#: or escape anywhere, and no list, heading, quote, code block or break at its start. Its
#: structure is one paragraph of plain text, without parsing it (most units; issue 17).
PLAIN_MARKDOWN_RE = re.compile(r"[^\s\d#>*+=\-`_\[\]!<\\|~:][^\n\r*_`\[\]!<\\|~]*")
PLAIN_PARAGRAPH = ("paragraph_open", "paragraph_close")


def markup(text: str) -> tuple[list[str], Counter, list[str]]:
    """Block structure, inline mark counts and link and image targets of a unit's Markdown."""
    if PLAIN_MARKDOWN_RE.fullmatch(text) and not text.endswith((" ", "\t")):
        return list(PLAIN_PARAGRAPH), Counter(), []
    return parsed_markup(text)


def parsed_markup(text: str) -> tuple[list[str], Counter, list[str]]:
    """:func:`markup` read from markdown-it's tokens, without the plain-text shortcut."""
    tokens = _tokens(text)
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
    if "<" not in text:  # raw HTML, inline or a block, starts with "<"
        return False
    tokens = _tokens(text)
    return any(t.type == "html_block" or any(c.type == "html_inline" for c in t.children or ()) for t in tokens)


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


BIDI_CONTROLS_RE = re.compile("[\u202a-\u202e]")
ISOLATES_RE = re.compile("[\u2066-\u2069]")
#: white space that is not printable for str.isprintable but never a problem
ORDINARY_SPACES = str.maketrans("", "", "\t\n\u00a0\u202f\u2009\u3000")


def bidi_control_problems(msgstr: str) -> list[str]:
    if not BIDI_CONTROLS_RE.search(msgstr):
        return []
    return [
        f"bidirectional control character {code_point(c)} at character {i + 1}: it can "
        "reverse or hide what is printed; delete it"
        for i, c in enumerate(msgstr)
        if ord(c) in BIDI_CONTROLS
    ]


def isolate_problems(msgstr: str) -> list[str]:
    """Isolates (U+2066-U+2069) must each be closed, and closed only once opened."""
    if not ISOLATES_RE.search(msgstr):
        return []
    depth = 0
    for i, c in enumerate(msgstr):
        if ord(c) in ISOLATE_OPENERS:
            depth += 1
        elif ord(c) == ISOLATE_CLOSER:
            if depth == 0:
                return [f"unbalanced bidirectional isolate: {code_point(c)} at character {i + 1} closes nothing"]
            depth -= 1
    return (
        [f"unbalanced bidirectional isolate: {depth} opened (U+2066-U+2068) and not closed with U+2069"]
        if depth
        else []
    )


def invisible_problems(msgstr: str) -> list[str]:
    """Invisible format characters (Cf) and control characters other than tab and newline."""
    if msgstr.translate(ORDINARY_SPACES).isprintable():  # no character of category C at all
        return []
    return [
        f"invisible {'format' if unicodedata.category(c) == 'Cf' else 'control'} character "
        f"{code_point(c)} at character {i + 1}; delete it"
        for i, c in enumerate(msgstr)
        if (unicodedata.category(c) == "Cf" and ord(c) not in ALLOWED_FORMAT | BIDI_CONTROLS)
        or (unicodedata.category(c) == "Cc" and c not in "\t\n")
    ]


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def combining_mark_problems(msgstr: str) -> list[str]:
    """A combining mark on a digit changes the number a reader sees; inside a placeholder it
    hides the placeholder from the build."""
    found = []
    if any(map(str.isdigit, msgstr)):  # the marks right after each digit (one pass if none)
        for base, digit in enumerate(msgstr):
            if not digit.isdigit():
                continue
            i = base + 1
            while i < len(msgstr) and _is_mark(msgstr[i]):
                found.append(f"combining mark {code_point(msgstr[i])} on the digit {digit!r} at character {i + 1}")
                i += 1
    for match in re.finditer(r"\{[^{}\s]*\}|%\([^)]*\)", msgstr):
        found += [
            f"combining mark {code_point(c)} inside the placeholder {match.group(0)!r}"
            for c in match.group(0)
            if _is_mark(c)
        ]
    return found


def format_string_problems(msgid: str, msgstr: str) -> list[str]:
    """A template or code string is %-formatted: only %(name)s, %(name)d and %% may appear."""
    for match in PERCENT_CONVERSION_RE.finditer(msgstr):
        if match.group(0) == "%%" or match.group(1) in ("s", "d") and "(" in match.group(0):
            continue
        if match.group(0) in ("%s", "%d") and match.group(0) in msgid:
            continue
        shown = match.group(0) or "%"
        return [
            f"{shown!r} is not a format field here: write %% for a percent sign, and keep "
            "%(name)s fields exactly as in the source"
        ]
    names = dict.fromkeys(re.findall(r"%\(([^)]*)\)", msgid), 1)
    try:
        msgstr % names
    except (ValueError, TypeError, KeyError) as exc:
        return [
            f"the translation cannot be filled in ({type(exc).__name__}: {exc}); keep "
            "%(name)s fields as in the source and write %% for a percent sign"
        ]
    return []


def foreign_placeholder_problems(msgstr: str) -> list[str]:
    """A field in braces that is not a placeholder name (translated, or in another script)
    would be printed as it is."""
    return [
        f"{match.group(0)!r} is not a placeholder: placeholder names stay in English, exactly as in the source"
        for match in re.finditer(r"\{[^{}\n]*\}", msgstr)
        if not BRACE_FIELD_RE.fullmatch(match.group(0))
    ]


def character_problems(msgstr: str) -> list[str]:
    """Characters that change or hide what is printed, whatever the source."""
    return [
        *bidi_control_problems(msgstr),
        *isolate_problems(msgstr),
        *invisible_problems(msgstr),
        *combining_mark_problems(msgstr),
        *foreign_placeholder_problems(msgstr),
    ]


def field_problems(msgid: str, msgstr: str, may_omit_number: bool = False) -> list[str]:
    """``{placeholders}`` and ``%(fields)s`` as in the source. ``may_omit_number``: a plural
    form used for exactly one number may leave its ``%(num)s`` out (but add none)."""
    found = []
    for pattern, what in ((BRACE_FIELD_RE, "placeholder"), (PERCENT_FIELD_RE, "format field")):
        source, target = _fields(pattern, msgid), _fields(pattern, msgstr)
        missing = Counter() if may_omit_number and pattern is PERCENT_FIELD_RE else source - target
        found += _describe(missing, target - source, what)
    return found


def html_problems(msgstr: str) -> list[str]:
    return ["raw HTML in the translation; use Markdown or plain text"] if html_in(msgstr) else []


def markdown_problems(msgid: str, msgstr: str) -> list[str]:
    found = []
    source_blocks, source_marks, source_links = markup(msgid)
    target_blocks, target_marks, target_links = markup(msgstr)
    if source_blocks != target_blocks:
        found.append("Markdown structure changed (a list, heading or paragraph break was added or removed)")
    if source_marks != target_marks:
        found.append(
            f"Markdown emphasis changed: {dict(source_marks) or 'none'} in the source, "
            f"{dict(target_marks) or 'none'} in the translation"
        )
    if source_links != target_links:
        found.append(f"links changed: {source_links} in the source, {target_links} in the translation")
    return found


def link_problems(msgstr: str) -> list[str]:
    if "[" not in msgstr and "<" not in msgstr:  # no link, reference or autolink (no linkify)
        return []
    refused = [target for _, target in links(msgstr) if not allowed_link(target)]
    return (
        [f"link targets {refused} are not allowed; links may only use {', '.join(s + ':' for s in LINK_SCHEMES)}"]
        if refused
        else []
    )


def numbers_of(text: str) -> Counter:
    """The numbers written in digits, placeholders and format fields left out."""
    return Counter(NUMBER_RE.findall(PERCENT_FIELD_RE.sub("", BRACE_FIELD_RE.sub("", text))))


def number_problems(msgid: str, msgstr: str) -> list[str]:
    source_numbers, target_numbers = numbers_of(msgid), numbers_of(msgstr)
    if source_numbers == target_numbers:
        return []
    return [
        f"numbers differ: {sorted(source_numbers.elements()) or 'none'} in the source, "
        f"{sorted(target_numbers.elements()) or 'none'} in the translation"
    ]


def entry_problems(msgid: str, msgstr: str, formatted: bool = False) -> list[str]:
    """What is wrong with one translation, compared with its source; [] when nothing is.
    ``formatted``: the string is %-formatted when used (template and code strings)."""
    return [
        *character_problems(msgstr),
        *(format_string_problems(msgid, msgstr) if formatted else ()),
        *field_problems(msgid, msgstr),
        *html_problems(msgstr),
        *markdown_problems(msgid, msgstr),
        *link_problems(msgstr),
        *number_problems(msgid, msgstr),
    ]


def number_word_problems(msgid: str, msgstr: str, language: str) -> list[str]:
    """A number the source writes in digits and the translation in words ("2 horas" as
    "dos horas")."""
    lost = numbers_of(msgid) - numbers_of(msgstr)
    words = {value: word for word, value in words_in(msgstr, language)}
    return [
        f"the number {number} is written as a word ({words[int(number)]!r}) in the "
        f"translation; write it in digits, {number}, as the source does"
        for number in sorted(lost)
        if number.isdigit() and int(number) in words
    ]


def added_number_warning(msgid: str, msgstr: str, language: str) -> list[str]:
    """A number word (2 to 12) the source has neither in digits nor in words."""
    source = {int(n) for n in numbers_of(msgid) if n.isdigit()} | set(values_in_english(msgid))
    added = [(word, value) for word, value in added_words(msgstr, language) if value >= 2 and value not in source]
    return [
        f"the translation has the number word {word!r} ({value}), which the source does not "
        "have: check that it says what the source says (numbers stay in digits, as in the source)"
        for word, value in dict(added).items()
    ]


#: A translator's mark (Weblate's flag name) for a translation meant to be the same as its
#: source: a translator comment line ``# ignore-same`` above the entry. GNU msgmerge and msgcat
#: keep translator comments but drop flags they do not know, so a ``#, ignore-same`` flag (as
#: Weblate writes it) counts too but is lost at the next ``i18n update``.
SAME_FLAG = "ignore-same"


def marks(message: Message) -> set[str]:
    """The translator's marks of an entry: its flags and its translator comment lines."""
    return set(message.flags) | {line.strip() for line in message.user_comments}


def unchanged_warning(msgid: str, msgstr: str, flags: set[str]) -> list[str]:
    """A translation identical to its English source (with letters in it) is likely left
    untranslated; ``# ignore-same`` above the entry says it is meant."""
    words = PERCENT_FIELD_RE.sub("", BRACE_FIELD_RE.sub("", msgid))
    if msgstr != msgid or SAME_FLAG in flags or not re.search(r"[^\W\d_]{2}", words):
        return []
    return [
        f"the translation is the same as the English source; translate it, or add "
        f"the comment line '# {SAME_FLAG}' above the entry if it is meant"
    ]


def reordered_warning(msgid: str, msgstr: str) -> list[str]:
    """Placeholders of one kind (two phone numbers, two times) in another order than the
    source: a swap changes who the patient calls."""
    found = []
    for kind in sorted(set(KINDS.values())):
        source, target = _of_kind(msgid, kind), _of_kind(msgstr, kind)
        if sorted(source) == sorted(target) and source != target:
            found.append(
                f"the {kind} placeholders are in another order than in the source "
                f"({', '.join(source)} in the source, {', '.join(target)} in the "
                "translation): check that each sentence still names the right one"
            )
    return found


def _of_kind(text: str, kind: str) -> list[str]:
    return [name for name in BRACE_NAME_RE.findall(text) if KINDS.get(name) == kind]


# Checks in the shape of Babel's babel/messages/checkers.py: one function per check, each
# ``(catalog, message) -> None``, reporting what it finds with the entry's path and line.


@dataclass
class CheckedCatalog:
    """A catalog under check: Babel's catalog, where it is, what the checks need to know
    about it, and what they found."""

    catalog: Catalog
    path: Path | None
    language: str
    #: the msgids of the safety-critical units (their translations must follow the glossary)
    safety: frozenset[str] = frozenset()
    glossary: Glossary | None = None
    found: list[Problem] = field(default_factory=list)

    def report(self, message: Message, text: str, severity: str = "error") -> None:
        self.found.append(Problem(self.path, message.lineno, text, msgid_of(message), severity))

    def forms(self, message: Message) -> list[tuple[str, str, bool]]:
        """(source, translation, used for one number only) for each form of the entry."""
        if not message.pluralizable:
            return [(msgid_of(message), str(message.string), False)]
        single = single_value_forms(self.catalog.num_plurals, self.catalog.plural_expr)
        return [(message.id[-1], form, index in single) for index, form in enumerate(message.string or ())]

    def shared(self, message: Message) -> bool:
        """Used by every handout (a template or code string), %-formatted when used."""
        return not from_content(loc for loc, _ in message.locations)


Checker = Callable[[CheckedCatalog, Message], None]


def from_content(locations: Iterable[str]) -> bool:
    """Whether a message's source references point into content/ (a content unit), rather
    than to a template or code (a string every handout uses)."""
    return any(location.startswith("content/") for location in locations)


def characters(cat: CheckedCatalog, message: Message) -> None:
    for _, msgstr, _ in cat.forms(message):
        for text in character_problems(msgstr):
            cat.report(message, text)


def format_strings(cat: CheckedCatalog, message: Message) -> None:
    if cat.shared(message):
        for msgid, msgstr, _ in cat.forms(message):
            for text in format_string_problems(msgid, msgstr):
                cat.report(message, text)


def fields(cat: CheckedCatalog, message: Message) -> None:
    for msgid, msgstr, single in cat.forms(message):
        for text in field_problems(msgid, msgstr, may_omit_number=single):
            cat.report(message, text)


def raw_html(cat: CheckedCatalog, message: Message) -> None:
    for _, msgstr, _ in cat.forms(message):
        for text in html_problems(msgstr):
            cat.report(message, text)


def markdown(cat: CheckedCatalog, message: Message) -> None:
    for msgid, msgstr, _ in cat.forms(message):
        for text in markdown_problems(msgid, msgstr):
            cat.report(message, text)


def link_targets(cat: CheckedCatalog, message: Message) -> None:
    for _, msgstr, _ in cat.forms(message):
        for text in link_problems(msgstr):
            cat.report(message, text)


def numbers(cat: CheckedCatalog, message: Message) -> None:
    for msgid, msgstr, _ in cat.forms(message):
        for text in number_problems(msgid, msgstr):
            cat.report(message, text)


def number_words(cat: CheckedCatalog, message: Message) -> None:
    if not message.pluralizable:  # a form for one number may say it in words ("ساعة واحدة")
        for text in number_word_problems(msgid_of(message), str(message.string), cat.language):
            cat.report(message, text)


def glossary_terms(cat: CheckedCatalog, message: Message) -> None:
    if cat.glossary is None or message.pluralizable or msgid_of(message) not in cat.safety:
        return
    for gap in missing(cat.glossary, msgid_of(message), str(message.string)):
        term = gap.term
        times = f" {gap.in_source} times" if gap.in_source > 1 else ""
        cat.report(
            message,
            f"glossary: the source says {term.source[0]!r}{times}; the translation must "
            f"say it as {' or '.join(repr(r) for r in term.renderings)} (the approved rendering, "
            f"{_display(cat.glossary.path)}:{term.line}), "
            f"and has it {gap.in_translation} time{'' if gap.in_translation == 1 else 's'}",
        )


def unchanged(cat: CheckedCatalog, message: Message) -> None:
    if not message.pluralizable:
        for text in unchanged_warning(msgid_of(message), str(message.string), marks(message)):
            cat.report(message, text, "warning")


def reordered(cat: CheckedCatalog, message: Message) -> None:
    if not message.pluralizable:
        for text in reordered_warning(msgid_of(message), str(message.string)):
            cat.report(message, text, "warning")


#: A translator's mark (a comment line, as SAME_FLAG) for a translation whose number words are
#: meant ("more than one" as "two or more").
NUMBERS_FLAG = "ignore-number-words"


def added_numbers(cat: CheckedCatalog, message: Message) -> None:
    if not message.pluralizable and NUMBERS_FLAG not in marks(message):
        for text in added_number_warning(msgid_of(message), str(message.string), cat.language):
            cat.report(message, text, "warning")


#: Each stops the handouts that use the entry.
ERROR_CHECKS: tuple[Checker, ...] = (
    characters,
    format_strings,
    fields,
    raw_html,
    markdown,
    link_targets,
    numbers,
    number_words,
    glossary_terms,
)
#: For a reviewer to look at; a build goes on.
WARNING_CHECKS: tuple[Checker, ...] = (unchanged, reordered, added_numbers)


def run_checks(cat: CheckedCatalog, message: Message, checks: Iterable[Checker]) -> list[Problem]:
    """Run ``checks`` on one message; what they found about it."""
    before = len(cat.found)
    for check in checks:
        check(cat, message)
    return cat.found[before:]


def entry_warnings(path: Path | None, catalog: Catalog, language: str | None = None) -> list[Problem]:
    """What a reviewer must look at in a catalog, without stopping a build."""
    cat = CheckedCatalog(catalog, path, language or str(catalog.locale or ""))
    for message in catalog:
        if message.id and not message.pluralizable and message.string and not message.fuzzy:
            run_checks(cat, message, WARNING_CHECKS)
    return cat.found


def header_problems(path: Path, language: str, catalog: Catalog, text: str) -> list[Problem]:
    """The header: not fuzzy, and Plural-Forms present and right for the language."""
    found = []
    header = _header_lines(text)
    if catalog.fuzzy:
        found.append(
            Problem(
                path,
                _line_of(header, "#, fuzzy"),
                "the catalog header is marked fuzzy; check the header and remove the '#, fuzzy' line above it",
            )
        )
    expected = preferred(language).plural_forms
    line = _line_of(header, '"Plural-Forms:')
    if line is None:
        found.append(
            Problem(
                path, None, f"the header has no Plural-Forms; for '{language}' it is \"Plural-Forms: {expected}\\n\""
            )
        )
        return found
    wrong = mismatch(catalog.num_plurals, catalog.plural_expr, recognised(language))
    if wrong:
        found.append(Problem(path, line, f"Plural-Forms is wrong for '{language}': {wrong}; use \"{expected}\""))
    return found


def plural_count_problems(path: Path, catalog: Catalog, raw: Mapping[str, int]) -> list[Problem]:
    """``raw``: how many msgstr[N] each plural entry really has (Babel pads missing ones)."""
    found = []
    for message in catalog:
        if message.id and message.pluralizable:
            forms = message.string or ()
            count = raw.get(msgid_of(message), len(forms))
            if count != catalog.num_plurals and any(forms):
                found.append(
                    Problem(
                        path,
                        message.lineno,
                        f"this plural entry has {count} forms, the catalog's Plural-Forms says {catalog.num_plurals}",
                        msgid_of(message),
                    )
                )
    return found


#: What ``msgfmt --check`` says about one entry (its format strings) or the header, rather
#: than a syntax error (which makes the whole catalog unreadable).
CHECK_FINDING_RE = re.compile(
    r"format specification|format string|(?:begin|end) with '\\n'|nplurals|"
    r"plural expression|plural form translations|plural handling|header field|domain name"
)


def msgfmt_problems(path: Path) -> list[Problem]:
    """GNU ``msgfmt --check`` (the check Poedit and Weblate run), run once: its syntax errors
    are named ``msgfmt``, its format and header findings ``msgfmt --check``. When there is
    a syntax error, only the syntax errors are returned."""
    if shutil.which("msgfmt") is None:
        return [
            Problem(path, None, "GNU msgfmt is not installed (Debian package gettext); it is needed to check catalogs")
        ]
    proc = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(path)], capture_output=True)
    if proc.returncode == 0:
        return []
    # msgfmt quotes the catalog in its messages: whatever it writes must not stop the check
    stderr = proc.stderr.decode("utf-8", errors="replace")
    syntax: list[Problem] = []
    checks: list[Problem] = []
    for line in stderr.splitlines():
        match = re.match(r"^(.*?):(\d+):(?:\d+:)? (.*)$", line)
        if match and not line.startswith("msgfmt:"):
            finding = CHECK_FINDING_RE.search(match.group(3)) is not None
            (checks if finding else syntax).append(
                Problem(path, int(match.group(2)), f"msgfmt{' --check' if finding else ''}: {match.group(3)}")
            )
    return syntax or checks or [Problem(path, None, f"msgfmt --check failed: {stderr.strip()}")]


def is_syntax_problem(problem: Problem) -> bool:
    return not problem.message.startswith("msgfmt --check")


def assign_to_entries(problems: list[Problem], catalog: Catalog) -> tuple[list[Problem], dict[str, list[Problem]]]:
    """Split problems into catalog-wide ones and those inside one entry (keyed by msgid):
    a line belongs to the last entry that starts at or before it."""
    entries = sorted((m.lineno, msgid_of(m)) for m in catalog if m.id and m.lineno)
    starts = [lineno for lineno, _ in entries]
    wide: list[Problem] = []
    by_msgid: dict[str, list[Problem]] = {}
    for problem in problems:
        index = bisect.bisect_right(starts, problem.line) - 1 if problem.line is not None else -1
        if index < 0 or is_syntax_problem(problem):
            wide.append(problem)
        else:
            owner = entries[index][1]
            by_msgid.setdefault(owner, []).append(Problem(problem.path, problem.line, problem.message, owner))
    return wide, by_msgid


def _header_lines(text: str) -> list[str]:
    """The catalog's header entry: its lines up to the first blank line."""
    lines = text.splitlines()
    return lines[: lines.index("")] if "" in lines else lines


def _line_of(lines: list[str], prefix: str) -> int | None:
    return next((n for n, line in enumerate(lines, 1) if line.startswith(prefix)), None)

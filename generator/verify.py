"""Stage 6: read each rendered PDF's own text back and check it against what was meant.

The gates check what translators wrote; this checks what the patient reads. The text comes
from poppler's ``pdftotext`` (a system dependency already; 15 ms a handout, where pypdf
takes 180 ms), page by page, as a reader or screen reader gets it: digits in the
order they are printed. Checked on every page:

- each clinic number is printed as configured, as often as the HTML prints it, and never
  reversed (``0142-555-503``, ``0321 7946 020``, ``2410-555-305``) or split across lines;
- the clinic's, the emergency and the crisis numbers are on page 1 and on the page of the
  "Get help" heading;
- every unit marked as safety-critical in the content (front matter ``safety``) is printed;
- no placeholder syntax (``{x}``, ``%(x)s``), HTML entity, U+FFFD, or ``[EN]`` (unless
  built with ``--allow-incomplete``).

All of it takes about 60 ms a handout (at most 135 ms), 3 % of a render (measured on the 164
handouts of both example clinics).
"""

from __future__ import annotations

import difflib
import functools
import html as html_lib
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .content import load_content
from .content import safety_units as safety_units  # where html.py finds it
from .errors import HandoutError, RenderError, UsageError
from .project import Project
from .segments import MD
from .translation import Translators

#: The fields whose values are the numbers a patient dials.
URGENT_FIELDS = ("clinic_phone", "emergency_number", "crisis_line")
#: The least share of a unit's words (or else of its letters, in order) that must be read
#: back where it is printed, when poppler's text is not the source's (Arabic ligatures,
#: Devanagari conjuncts); a unit of three words or more may always miss one word.
MIN_MATCH = 0.85
#: Scripts whose text poppler reads back with letters dropped or added (the Indic scripts:
#: conjuncts and nukta forms map to the wrong characters), compared letter by letter.
UNRELIABLE_SCRIPTS_RE = re.compile("[\u0900-\u0dff]")
#: Right-to-left scripts, whose words poppler may read back far from their line (the first
#: word of an Arabic list item that wraps, with a vowel mark on it), compared word by word.
REORDERED_SCRIPTS_RE = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
FORBIDDEN = (
    # two braces on one line: poppler may mirror them or move them about in right-to-left text
    (re.compile(r"[{}][^{}\n]{1,40}[{}]"), "placeholder syntax"),
    (re.compile(r"%\(\w+\)[a-z]"), "a format field"),
    (re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});"), "an HTML entity"),
    (re.compile("\ufffd"), "U+FFFD (a character that could not be decoded)"),
)
UNTRANSLATED_MARK = "[EN]"


class VerificationError(RenderError):
    """The PDF does not say what its HTML meant (a failed handout; its previous PDF stays)."""


@dataclass(frozen=True)
class Expected:
    """What a handout must print, from the HTML it was rendered from."""

    #: the clinic's numbers: field -> value
    numbers: dict[str, str]
    #: value -> how many times the HTML prints it (as a number to dial)
    printed: dict[str, int]
    #: each help box's heading as printed (plain text) with the fields whose numbers it
    #: prints: "Get help now" the emergency number, the crisis box the crisis line, the
    #: clinic's box its phone (each box is whole, so they share the heading's page)
    help_boxes: tuple[tuple[str, tuple[str, ...]], ...]
    #: the safety-critical units as printed (plain text), with where they come from
    safety: tuple[tuple[str, str], ...] = ()
    allow_incomplete: bool = False
    #: what each page prints in its margins (the footer, the page label with %(page)s and
    #: %(pages)s, the draft notice): taken out of the text read back, so that a unit cut by
    #: a page break reads as one
    furniture: tuple[str, ...] = ()


def plain(markdown_inline: str) -> str:
    """A unit's inline Markdown as the text a reader sees (marks and links dropped)."""
    rendered = MD.renderInline(markdown_inline)
    return html_lib.unescape(re.sub(r"<[^>]*>", "", rendered))


def page_texts(pdf: bytes) -> list[str]:
    """Each page's text, as poppler reads it (reading order; digits in printed order)."""
    try:
        proc = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, timeout=60)
    except FileNotFoundError:
        raise VerificationError(
            "pdftotext is not installed (Debian package poppler-utils); it is needed to check what a PDF prints"
        ) from None
    if proc.returncode:
        raise VerificationError(f"pdftotext cannot read the PDF: {proc.stderr.decode('utf-8', 'replace').strip()}")
    pages = proc.stdout.decode("utf-8", errors="replace").split("\f")
    return pages[:-1] if len(pages) > 1 and not pages[-1].strip() else pages


def _clean(text: str) -> str:
    """Text without format characters (poppler marks right-to-left runs with U+202A-U+202C),
    no-break spaces as spaces, and words hyphenated at a line's end joined again."""
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").replace("\u00a0", " ")
    return re.sub(r"([^\W\d])[-\u2010]\n([^\W\d])", r"\1\2", text)  # never inside a number


#: What may stand between two digit groups of a number as read back: up to three characters
#: that are neither digits nor letters (a space, a hyphen, a bracket, a line break).
_GAP = r"[^\w]{0,3}"


def _groups_pattern(groups: list[str]) -> re.Pattern:
    return re.compile(r"(?<![\d])" + _GAP.join(re.escape(g) for g in groups) + r"(?![\d])")


def wrong_forms(value: str, page: str) -> list[tuple[str, str]]:
    """How a number is misprinted on a page: its digit groups in reverse order (the bidi
    algorithm in right-to-left text), every character reversed (an override character), or
    split over two lines. (what, the text found) for each."""
    groups = re.findall(r"\d+", value)
    found = []
    if len(groups) > 1 and groups != groups[::-1]:
        found += [("with its digit groups reversed", m.group(0)) for m in _groups_pattern(groups[::-1]).finditer(page)]
    if len("".join(groups)) >= 5 and value[::-1] != value:
        found += [
            ("reversed", m.group(0)) for m in re.finditer(r"(?<![\d])" + re.escape(value[::-1]) + r"(?![\d])", page)
        ]
    if len(groups) > 1:
        found += [
            ("split over two lines", m.group(0)) for m in _groups_pattern(groups).finditer(page) if "\n" in m.group(0)
        ]
    return found


def number_pattern(value: str) -> re.Pattern:
    """A number as read back: not part of a longer number, its brackets either way round
    (poppler mirrors brackets in right-to-left lines, though the page prints them right)."""
    body = "".join("[()]" if c in "()" else re.escape(c) for c in value)
    before = r"(?<!\d)" if value[:1].isdigit() else ""
    after = r"(?!\d)" if value[-1:].isdigit() else ""
    return re.compile(before + body + after)


def _count(value: str, text: str) -> int:
    return len(number_pattern(value).findall(text))


def letters(text: str) -> str:
    """Text reduced to what survives any PDF's extraction: letters and digits, casefolded,
    without marks, spaces or punctuation (so that line breaks inside a word, as in Korean,
    and vowel signs poppler puts in visual order, as in Hindi, do not matter)."""
    return "".join(c for c in unicodedata.normalize("NFKC", text).casefold() if unicodedata.category(c)[0] in "LN")


def printed(unit: str, text: str) -> bool:
    """Whether a unit (plain text) is printed in ``text`` (reduced by :func:`letters`): as it
    is, or, where poppler reorders what it reads (Arabic runs around punctuation, the
    letters of Arabic ligatures and Devanagari conjuncts), with nearly all of its words
    found, each as written or with its letters in another order, close to one another."""
    wanted = letters(unit)
    if not wanted or wanted in text:
        return True
    start = _best_offset(wanted, text)
    if start is None:
        return False
    window = text[max(start - 2 * len(wanted), 0) : start + 3 * len(wanted)]
    words = [w for w in map(letters, unit.split()) if w]
    found = sum(1 for word in words if word in window or _anagram_in(word, window))
    if found >= len(words) - max(int(len(words) * (1 - MIN_MATCH)), len(words) >= 3):
        return True
    if REORDERED_SCRIPTS_RE.search(unit) and all(word in text or _anagram_in(word, text) for word in words):
        return True
    return bool(UNRELIABLE_SCRIPTS_RE.search(unit)) and _mostly_in_order(wanted, text, start)


def _mostly_in_order(wanted: str, text: str, start: int) -> bool:
    """Whether nearly all of ``wanted``'s letters are in ``text`` near ``start``, in order:
    Devanagari read back drops or adds letters (nukta forms, conjuncts)."""
    near = text[max(start - len(wanted) // 4, 0) : start + len(wanted) + len(wanted) // 4]
    matcher = difflib.SequenceMatcher(None, wanted, near, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) >= MIN_MATCH * len(wanted)


def _anagram_in(word: str, text: str) -> bool:
    """Whether ``text`` holds ``word``'s letters, in any order, side by side."""
    wanted, size, chars = sorted(word), len(word), set(word)
    return any(
        sorted(text[i : i + size]) == wanted
        for i in range(len(text) - size + 1)
        if text[i] in chars and text[i + size - 1] in chars  # a window's ends are its letters
    )


def _best_offset(wanted: str, text: str) -> int | None:
    """Where in ``text`` most of ``wanted``'s letter pairs line up (votes per offset)."""
    votes: dict[int, int] = {}
    first: dict[int, int] = {}  # offset -> the first of wanted's pairs that voted for it
    positions = _pair_positions(text)
    for j in range(len(wanted) - 1):
        for i in positions.get(wanted[j : j + 2], ()):
            offset = i - j
            if offset in votes:
                votes[offset] += 1
            else:
                votes[offset], first[offset] = 1, j
    if not votes:
        return None

    # a letter dropped or added in the text read back shifts the rest by one or two: count
    # the votes of near offsets together; of equals, the one whose first vote comes first in
    # the text (the text's position, then wanted's)
    def near(offset: int) -> int:
        return sum(votes.get(offset + d, 0) for d in range(-2, 3))

    def rank(offset: int) -> tuple[int, int, int]:
        return near(offset), -(offset + first[offset]), -first[offset]

    # only an offset with a fifth of the best single offset's count nearby can win: the rest
    # (nearly all, letter pairs met by chance) are not ranked
    least = near(max(votes, key=votes.__getitem__))
    strong = [offset for offset, count in votes.items() if 5 * count >= least]
    return max({offset + d for offset in strong for d in range(-2, 3)} & votes.keys(), key=rank)


@functools.lru_cache(maxsize=8)
def _pair_positions(text: str) -> dict[str, list[int]]:
    """Where each pair of letters is in ``text`` (one text is searched for every unit)."""
    where: dict[str, list[int]] = {}
    for i in range(len(text) - 1):
        where.setdefault(text[i : i + 2], []).append(i)
    return where


def verify(pdf: bytes, expected: Expected) -> list[str]:
    """What the PDF prints differently from what was meant; [] when it prints it all."""
    pages = [_clean(page) for page in page_texts(pdf)]
    return [
        *_number_problems(pages, expected),
        *_urgent_problems(pages, expected),
        *_safety_problems(pages, expected),
        *_forbidden_problems(pages, expected),
    ]


def _number_problems(pages: list[str], expected: Expected) -> list[str]:
    found = []
    for value, times in expected.printed.items():
        counts = [_count(value, page) for page in pages]
        if sum(counts) != times:
            where = ", ".join(f"page {n}: {c}" for n, c in enumerate(counts, 1))
            found.append(
                f"the number {value} should be printed {times} time(s) as configured; found {sum(counts)} ({where})"
            )
        for n, page in enumerate(pages, 1):
            found += [
                f"page {n}: the number {value} is printed {what}: {text!r}" for what, text in wrong_forms(value, page)
            ]
    return found


def _urgent_problems(pages: list[str], expected: Expected) -> list[str]:
    """Page 1 prints every urgent number; each help box's numbers are on a page that prints
    its heading (the heading's words may also be a sentence elsewhere: "Call the clinic")."""
    found = [f"page 1: {problem}" for problem in _missing_numbers(pages[0], URGENT_FIELDS, expected)]
    for heading, fields in expected.help_boxes:
        on = [n for n, page in enumerate(pages, 1) if _heading_printed(heading, page)]
        if not on:
            found.append(f"the heading {heading!r} is printed on no page")
            continue
        missing = [_missing_numbers(pages[n - 1], fields, expected) for n in on]
        if all(missing):
            found += [f"page {on[0]} (the page of {heading!r}): {problem}" for problem in missing[0]]
    return found


def _heading_printed(heading: str, page: str) -> bool:
    """Whether a help box's heading is printed on ``page``: as a unit is, or with its letters
    in order and close together, since what is set beside a wrapped heading (the crisis
    line's label and number) may be read back between its lines: "有自杀或伤害自己的 危机热线
    988 念头"."""
    text = _page_letters(page)
    if printed(heading, text):
        return True
    wanted = letters(heading)
    starts = (i for i, c in enumerate(text) if c == wanted[0]) if wanted else ()
    return any(_in_order(wanted, text[i : i + 3 * len(wanted) + 20]) for i in starts)


@functools.lru_cache(maxsize=32)
def _page_letters(page: str) -> str:
    """:func:`letters` of a page, once for all the headings looked for on it."""
    return letters(page)


def _in_order(wanted: str, text: str) -> bool:
    rest = iter(text)
    return all(c in rest for c in wanted)


def _missing_numbers(page: str, fields: tuple[str, ...], expected: Expected) -> list[str]:
    return [
        f"expected the {field.replace('_', ' ')} {expected.numbers[field]}; it is not printed there"
        for field in fields
        if _count(expected.numbers[field], page) == 0
    ]


def _safety_problems(pages: list[str], expected: Expected) -> list[str]:
    units = [letters(unit) for unit, _ in expected.safety]
    text = without_furniture(letters("\n".join(without_running_lines(pages, units))), expected.furniture)
    return [
        f"the safety-critical unit {unit!r} ({source}) is not printed in full"
        for unit, source in expected.safety
        if not printed(unit, text)
    ]


def without_running_lines(pages: list[str], units: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The pages without the lines every one of them prints (the footer, the page label, the
    draft notice), as poppler reads them: where it reads a script's letters unlike the
    source (Devanagari), :func:`without_furniture` cannot find them, and a unit cut by the
    page's end would read with the footer inside it. Numbers are masked: "Page 2 / 13".
    A line that is part of one of ``units`` (reduced by :func:`letters`) is kept: a
    sentence printed on every page (the key points, the checklist and "After your session"
    each say who takes you home) may end in the same line each time."""
    if len(pages) < 2:
        return pages

    def key(line: str) -> str:
        return re.sub(r"\d+", "#", line.strip())

    running = set.intersection(*({key(line) for line in page.splitlines()} for page in pages)) - {""}
    running -= {line for line in running if (kept := letters(line)) and any(kept in unit for unit in units)}
    return ["\n".join(line for line in page.splitlines() if key(line) not in running) for page in pages]


def without_furniture(text: str, furniture: tuple[str, ...]) -> str:
    """``text`` (reduced by :func:`letters`) without what the page margins print."""
    for item in furniture:
        pieces = [letters(piece) for piece in re.split(r"%\((?:page|pages)\)s", item)]
        if sum(map(len, pieces)) >= 4:
            text = re.sub(r"\d+".join(map(re.escape, pieces)), "", text)
    return text


def _forbidden_problems(pages: list[str], expected: Expected) -> list[str]:
    found = []
    for n, page in enumerate(pages, 1):
        for pattern, what in FORBIDDEN:
            found += [
                f"page {n}: {what} is printed: {_context(page, match)!r}" for match in list(pattern.finditer(page))[:5]
            ]
        if UNTRANSLATED_MARK in page and not expected.allow_incomplete:
            found.append(
                f"page {n}: untranslated text ({UNTRANSLATED_MARK}) is printed, and the "
                "handout was not built with --allow-incomplete"
            )
    return found


def _context(text: str, match: re.Match) -> str:
    return " ".join(text[max(match.start() - 30, 0) : match.end() + 30].split())


def check_pdf(pdf: bytes, expected: Expected | None, name: str, layout: tuple[str, ...] = ()) -> None:
    """Raise :class:`VerificationError` naming the handout if the PDF is not as meant;
    ``layout``: what the layout check found (text out of its box), often the reason."""
    if expected is None:  # a document not composed by html.compose
        raise VerificationError(f"{name}: nothing says what the PDF should print")
    problems = verify(pdf, expected)
    if problems:
        raise VerificationError(
            f"{name}: the PDF does not print what was meant:\n"
            + "\n".join(f"  {p}" for p in problems)
            + "".join(f"\n  (layout) {line}" for line in layout)
        )


def verify_files(project: Project, paths: list[Path], allow_incomplete: bool = False) -> dict[Path, list[str]]:
    """``handouts verify``: check PDFs already built against what their inputs mean now.

    Each path is ``<output>/<clinic>/<language>/<file>`` as the build writes it; the clinic's
    values come from its file. Returns each path's problems ([] when it is as meant).
    """
    from .build import compose_job, load_clinics, plan  # the build imports this module

    wanted = {}
    for path in paths:
        if len(path.parts) < 3 or path.suffix != ".pdf":
            raise UsageError("not a handout: expected handouts/<clinic>/<language>/<file>.pdf", path)
        wanted[path] = (path.parts[-3], path.parts[-2], path.name)
    clinics = {c.id: c for c in load_clinics(project, sorted({c for c, _, _ in wanted.values()}))}
    content = load_content(project.content)
    translators = Translators(project.locales)
    jobs = {(job.clinic.id, job.language, job.filename): job for job in plan(list(clinics.values()))}
    results: dict[Path, list[str]] = {}
    for path, key in wanted.items():
        job = jobs.get(key)
        if job is None:
            raise UsageError(f"clinic '{key[0]}' has no handout {key[1]}/{key[2]}", path)
        try:
            doc = compose_job(job, content, translators, project.templates, allow_incomplete)
            check_pdf(path.read_bytes(), doc.expected, job.name)
            results[path] = []
        except VerificationError as exc:
            results[path] = exc.message.split("\n  ")[1:]
        except (HandoutError, OSError) as exc:
            results[path] = [str(exc)]
    return results

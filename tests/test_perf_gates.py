"""The translation gates made cheaper (issue 17: loading a catalog is checking every entry, in
each render process and for the staff index) find exactly what the first versions, kept here,
found: on every msgid and msgstr of the project's catalogs, and on random texts made of the
characters each shortcut is about."""

import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from generator import gates
from generator.gates import (
    _is_mark,
    _tokens,
    character_problems,
    code_point,
    foreign_placeholder_problems,
    html_in,
    link_problems,
    markup,
    parsed_markup,
)
from generator.segments import LINK_SCHEMES, allowed_link, links

LOCALES = Path(__file__).resolve().parents[1] / "locales"


def first_html_in(text: str) -> bool:
    return any(t.type == "html_block" or any(c.type == "html_inline" for c in t.children or ()) for t in _tokens(text))


def first_link_problems(msgstr: str) -> list[str]:
    refused = [target for _, target in links(msgstr) if not allowed_link(target)]
    return (
        [f"link targets {refused} are not allowed; links may only use {', '.join(s + ':' for s in LINK_SCHEMES)}"]
        if refused
        else []
    )


# The first character check, one kind of problem a function, in the order it reported them.


def first_character_problems(msgstr: str) -> list[str]:
    return [
        *first_bidi_problems(msgstr),
        *first_isolate_problems(msgstr),
        *first_invisible_problems(msgstr),
        *first_digit_mark_problems(msgstr),
        *first_placeholder_mark_problems(msgstr),
        *foreign_placeholder_problems(msgstr),
    ]


def first_bidi_problems(msgstr: str) -> list[str]:
    """Each embedding, override or isolate character, where it is."""
    return [
        f"bidirectional control character {code_point(c)} at character {i + 1}: it can "
        "reverse or hide what is printed; delete it"
        for i, c in enumerate(msgstr)
        if ord(c) in gates.BIDI_CONTROLS
    ]


def first_isolate_problems(msgstr: str) -> list[str]:
    """The first isolate closed without being opened, else how many are left open; at most one problem."""
    depth, isolates = 0, []
    for i, c in enumerate(msgstr):
        if ord(c) in gates.ISOLATE_OPENERS:
            depth += 1
        elif ord(c) == gates.ISOLATE_CLOSER:
            if depth == 0:
                isolates = [f"unbalanced bidirectional isolate: {code_point(c)} at character {i + 1} closes nothing"]
                break
            depth -= 1
    else:
        if depth:
            isolates = [f"unbalanced bidirectional isolate: {depth} opened (U+2066-U+2068) and not closed with U+2069"]
    return isolates


def first_invisible_problems(msgstr: str) -> list[str]:
    """Each format character neither allowed nor a bidi control, and each control character but tab and newline."""
    return [
        f"invisible {'format' if unicodedata.category(c) == 'Cf' else 'control'} character "
        f"{code_point(c)} at character {i + 1}; delete it"
        for i, c in enumerate(msgstr)
        if (unicodedata.category(c) == "Cf" and ord(c) not in gates.ALLOWED_FORMAT | gates.BIDI_CONTROLS)
        or (unicodedata.category(c) == "Cc" and c not in "\t\n")
    ]


def first_digit_mark_problems(msgstr: str) -> list[str]:
    """Each combining mark whose base character (marks before it skipped) is a digit."""
    marks = []
    for i, char in enumerate(msgstr):
        base = i - 1
        while base >= 0 and _is_mark(msgstr[base]):
            base -= 1
        if _is_mark(char) and base >= 0 and msgstr[base].isdigit():
            marks.append(f"combining mark {code_point(char)} on the digit {msgstr[base]!r} at character {i + 1}")
    return marks


def first_placeholder_mark_problems(msgstr: str) -> list[str]:
    """Each combining mark inside a {name} or %(name) placeholder."""
    marks = []
    for match in re.finditer(r"\{[^{}\s]*\}|%\([^)]*\)", msgstr):
        marks += [
            f"combining mark {code_point(c)} inside the placeholder {match.group(0)!r}"
            for c in match.group(0)
            if _is_mark(c)
        ]
    return marks


def catalog_texts() -> list[str]:
    texts = []
    for po in sorted(LOCALES.glob("*/LC_MESSAGES/messages.po")):
        with po.open("rb") as fp:
            for message in read_po(fp):
                for text in (message.id, message.string):
                    texts += [text] if isinstance(text, str) else list(text or ())
    return [t for t in dict.fromkeys(texts) if t]


#: characters each shortcut is about: Markdown's, digits with marks after them, controls,
#: format characters, spaces of several kinds, placeholders, Arabic, Devanagari, Chinese
PIECES = [
    *"*_`[]()!<>#-+=|~:\\ \t\n\r&;.,%{}", "1", "٣", "²", "\u0301", "\u064e", "\u093f", "\u200c", "\u200d",
    "\u202b", "\u202c", "\u2066", "\u2069", "\u00ad", "\u00a0", "\u202f", "\u0007", "\ufeff", "a", "b",
    "ب", "ك", "क", "中", "  ", "1. ", "- ", "# ", "> ", "    ", "](", "https://x.org", "javascript:x", "<b>",
    "{time}", "%(n)s", "[a](tel:1)", "[a](file:x)", "<https://x>", "**", "\n\n", "---",
]  # fmt: skip


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 12))) for _ in range(count)]


#: a combining mark inside a placeholder: no catalog has one and the random texts above never make one
#: (it takes "{", a mark and "}" in a row), so without these that check would go uncompared
MARKED_PLACEHOLDERS = ["{ti\u0301me}", "%(n\u0301)s", "Take {dose\u064e} at 9\u0301"]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return catalog_texts() + random_texts(3000, 17) + MARKED_PLACEHOLDERS


def test_markup_and_html_are_the_first_versions(texts):
    for text in texts:
        assert markup(text) == parsed_markup(text), text
        assert html_in(text) == first_html_in(text), text


def test_link_and_character_problems_are_the_first_versions(texts):
    for text in texts:
        assert link_problems(text) == first_link_problems(text), text
        assert character_problems(text) == first_character_problems(text), text


def test_the_shortcuts_are_taken_and_faults_still_found():
    """Most units take a shortcut; the faults each check is for are still reported."""
    plain = [text for text in catalog_texts() if gates.PLAIN_MARKDOWN_RE.fullmatch(text)]
    assert len(plain) > len(catalog_texts()) / 3
    assert character_problems("Call 9\u0301 1 1") and character_problems("\u202eCall 911")
    assert character_problems("Call \u2066911") and character_problems("Call\u200b 911")
    assert link_problems("[x](javascript:alert(1))") and html_in("<b>x</b>")
    assert markup("Take **one**")[1] == Counter({"strong": 1}) and markup("1. one")[0][0] == "ordered_list_open"

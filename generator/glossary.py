"""The translators' glossary: each language's approved rendering of the words a safety
instruction turns on ("do not", "never", "call", "emergency", "drive", "two").

A glossary is a TBX file beside the catalog, ``locales/<lang>/glossary.tbx`` (the format
Weblate, Poedit and translate-toolkit read), with one ``termEntry`` per term: the English
forms in ``<langSet xml:lang="en">`` and the approved renderings in the language's
``langSet`` (``xml:lang`` is the BCP 47 tag: ``zh-Hans``, ``pt-BR``). Where a safety unit's
English holds a term N times, its translation must hold one of the renderings N times:
"Do not drive" translated without its "No" is an error naming the term and the rendering.

Renderings are matched as whole words, ignoring case (and Arabic short vowels); in Chinese
and Korean, where words are not separated or take endings, anywhere in the text. List every
form a translation uses ("llame", "llamar").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from translate.storage import tbx

from .errors import CatalogError

SOURCE_TAG = "en"
#: Languages whose renderings are found anywhere in the text, not as whole words.
UNSPACED = frozenset({"zh_Hans", "ko"})
#: Arabic short vowels, tanween, shadda, sukun and tatweel: written or not, the word is the same.
ARABIC_MARKS_RE = re.compile("[\u064b-\u0652\u0670\u0640]")
PLACEHOLDER_RE = re.compile(r"\{[a-z][a-z0-9_]*\}|%\([a-z_]+\)[sd]")


@dataclass(frozen=True)
class Term:
    source: tuple[str, ...]  # the English forms ("do not")
    renderings: tuple[str, ...]  # the approved renderings; any one counts
    line: int | None  # where the entry starts in the glossary


@dataclass(frozen=True)
class Glossary:
    path: Path
    language: str
    terms: tuple[Term, ...]

    @property
    def whole_words(self) -> bool:
        return self.language not in UNSPACED


@dataclass(frozen=True)
class Missing:
    """A term the source holds more often than the translation holds its renderings."""

    term: Term
    in_source: int
    in_translation: int


def glossary_path(locales: Path, language: str) -> Path:
    return locales / language / "glossary.tbx"


def load_glossary(locales: Path, language: str) -> Glossary | None:
    """The language's glossary, or None when it has none. A broken file is a
    :class:`CatalogError` at its line (no handout in the language is built)."""
    path = glossary_path(locales, language)
    if not path.is_file():
        return None
    try:
        store = tbx.tbxfile.parsefile(str(path))
    except etree.XMLSyntaxError as exc:
        raise CatalogError(f"the glossary is not valid TBX (XML): {exc.msg}", path, exc.lineno) from None
    except (AssertionError, ValueError):
        raise CatalogError(
            'the glossary is not a TBX file: its root element must be <martif type="TBX">', path, 1
        ) from None
    tag = language.replace("_", "-")
    terms = []
    for unit in store.units:
        line = unit.xmlelement.sourceline
        source = tuple(t.text.strip() for t in unit.get_target_terms(SOURCE_TAG) if t.text.strip())
        target = tuple(t.text.strip() for t in unit.get_target_terms(tag) if t.text.strip())
        if not source:
            raise CatalogError(
                f'a termEntry has no English term: add <langSet xml:lang="{SOURCE_TAG}">'
                "<tig><term>...</term></tig></langSet>",
                path,
                line,
            )
        if target:
            terms.append(Term(source, target, line))
    return Glossary(path, language, tuple(terms))


def fold(text: str) -> str:
    """Text as terms are compared: NFC, case folded, one apostrophe, no Arabic short vowels,
    placeholders taken out (``{emergency_number}`` holds no term)."""
    text = PLACEHOLDER_RE.sub(" ", text)
    text = unicodedata.normalize("NFC", text).casefold().replace("\u2019", "'")
    return ARABIC_MARKS_RE.sub("", text)


def _word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def take(text: str, words: list[str], whole_words: bool = True) -> tuple[str, list[str]]:
    """Find ``words`` (folded) in ``text`` (folded), longest first, each occurrence once:
    returns the text with what was found blanked out, and the words found (with repeats).
    A whole word has no letter or mark right before or after it (only checked on a side
    where the word itself ends in a letter: "n'" matches in "n'attendez")."""
    found: list[str] = []
    for word in sorted(set(words), key=len, reverse=True):
        start = text.find(word)
        while word and start >= 0:
            end = start + len(word)
            before_ok = not whole_words or not _word_char(word[0]) or start == 0 or not _word_char(text[start - 1])
            after_ok = not whole_words or not _word_char(word[-1]) or end == len(text) or not _word_char(text[end])
            if before_ok and after_ok:
                found.append(word)
                text = text[:start] + "\0" * len(word) + text[end:]
            start = text.find(word, start + 1)
    return text, found


def missing(glossary: Glossary, source: str, translation: str) -> list[Missing]:
    """The glossary terms of ``source`` that ``translation`` does not render as approved."""
    english, target = fold(source), fold(translation)
    found = []
    for term in glossary.terms:
        count = len(take(english, [fold(s) for s in term.source])[1])
        if not count:
            continue
        have = len(take(target, [fold(r) for r in term.renderings], glossary.whole_words)[1])
        if have < count:
            found.append(Missing(term, count, have))
    return found

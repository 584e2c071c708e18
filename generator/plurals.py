"""Which ``Plural-Forms`` a language's catalog may use, judged by what the rule chooses.

A catalog's rule is right when, for every whole number a handout can print (0 to
:data:`HIGHEST`), it chooses the same form as a rule recognised for that language:

- GNU gettext's usual rule, what ``msginit`` writes and Poedit and Weblate expect, from
  translate-toolkit's table of languages (``translate.lang.data``);
- CLDR's rule as the installed Babel turns it into a gettext expression.

The two can differ (Babel 2.19 gives Spanish a third form for exact millions; gettext's
Spanish rule has two), and both are right for the numbers a handout prints; a rule that
chooses another form for any of them (``plural=(n == 1)`` in Spanish) is wrong. New
catalogs get gettext's rule where it has one, so they do not change with Babel's releases.
"""

from __future__ import annotations

import functools
import gettext
from collections import Counter
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel import __version__ as babel_version
from babel.messages.plurals import get_plural
from translate.lang.data import languages as gettext_languages

#: The numbers checked: every whole number a handout can print (durations, counts).
HIGHEST = 10_000


@dataclass(frozen=True)
class PluralRule:
    nplurals: int
    expr: str
    source: str  # where the rule comes from, for messages

    @property
    def plural_forms(self) -> str:
        return f"nplurals={self.nplurals}; plural={self.expr};"


@functools.lru_cache(maxsize=256)
def choices(nplurals: int, expr: str) -> tuple[int, ...] | None:
    """The form the rule chooses for 0..HIGHEST; None when the expression is not valid
    C, or chooses a form outside 0..nplurals-1."""
    try:
        plural = gettext.c2py(expr)
        chosen = tuple(plural(n) for n in range(HIGHEST + 1))
    except (ValueError, SyntaxError, ZeroDivisionError, RecursionError):
        return None
    return chosen if nplurals >= 1 and all(0 <= c < nplurals for c in chosen) else None


def gettext_rule(language: str) -> PluralRule | None:
    """GNU gettext's usual rule for ``language`` (an id such as ``pt_BR`` or ``es``)."""
    for code in (language, language.split("_")[0]):
        if code in gettext_languages:
            _, nplurals, expr = gettext_languages[code]
            return PluralRule(nplurals, expr, "GNU gettext")
    return None


def cldr_rule(language: str) -> PluralRule | None:
    """CLDR's rule, as the installed Babel gives it; None for a locale Babel does not know."""
    try:
        Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None
    nplurals, expr = get_plural(language)
    return PluralRule(nplurals, expr, f"CLDR (Babel {babel_version})")


def recognised(language: str) -> list[PluralRule]:
    """The rules a catalog in ``language`` may follow, the preferred one first."""
    return [rule for rule in (gettext_rule(language), cldr_rule(language)) if rule is not None]


def preferred(language: str) -> PluralRule:
    """What ``i18n init`` writes: gettext's rule, else CLDR's, else English's."""
    rules = recognised(language)
    return rules[0] if rules else PluralRule(2, "(n != 1)", "the default")


def mismatch(nplurals: int, expr: str, rules: list[PluralRule]) -> str | None:
    """Why a catalog's rule is wrong for a language with these recognised ``rules``, or None
    when it chooses as one of them does for every number from 0 to HIGHEST."""
    chosen = choices(nplurals, expr)
    if chosen is None:
        return f"the expression is not valid for nplurals={nplurals}"
    same_count = [rule for rule in rules if rule.nplurals == nplurals]
    if rules and not same_count:
        counts = " or ".join(sorted({str(rule.nplurals) for rule in rules}))
        return f"it says nplurals={nplurals}, but this language has {counts} plural forms"
    if not same_count or any(choices(r.nplurals, r.expr) == chosen for r in same_count):
        return None
    rule = same_count[0]
    expected = choices(rule.nplurals, rule.expr) or ()
    n = next(n for n in range(HIGHEST + 1) if chosen[n] != expected[n])
    return f"for n = {n} it chooses form {chosen[n]}, but this language uses form {expected[n]} ({rule.source})"


def single_value_forms(nplurals: int, expr: str) -> frozenset[int]:
    """The forms the rule chooses for exactly one number from 0 to HIGHEST (Arabic's "one"
    for 1 and "two" for 2). As in GNU gettext, such a form may leave the number out
    ("ساعتين", two hours, in the dual); a form used for many numbers must print it."""
    chosen = choices(nplurals, expr)
    if chosen is None:
        return frozenset()
    counts = Counter(chosen)
    return frozenset(form for form, count in counts.items() if count == 1)

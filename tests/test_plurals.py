"""Plural-Forms judged by what they choose for 0..10 000, against GNU gettext's and CLDR's rules."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from generator.gates import header_problems
from generator.plurals import HIGHEST, PluralRule, choices, cldr_rule, gettext_rule, mismatch, preferred, recognised
from generator.translation import available_languages, catalog_path

from .conftest import handouts

#: The rules Babel gave before 2.18 (one, two-form rules for the Romance languages, as every
#: shipped catalog was first written): with gettext's, what an older machine recognises.
OLDER_BABEL = {
    "es": PluralRule(2, "(n != 1)", "Babel 2.17"),
    "fr": PluralRule(2, "(n > 1)", "Babel 2.17"),
    "pt_BR": PluralRule(2, "(n > 1)", "Babel 2.17"),
    "it": PluralRule(2, "(n != 1)", "Babel 2.17"),
    "hi": PluralRule(2, "(n != 1)", "Babel 2.17"),
    "tl": PluralRule(2, "(n != 1)", "Babel 2.17"),
    "ru": PluralRule(
        3, "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)", "Babel 2.17"
    ),
    "ar": PluralRule(
        6, "(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=0 && n%100<=2 ? 4 : 5)", "Babel 2.17"
    ),
    "zh_Hans": PluralRule(1, "0", "Babel 2.17"),
    "vi": PluralRule(1, "0", "Babel 2.17"),
    "ko": PluralRule(1, "0", "Babel 2.17"),
}


def shipped(project):
    for language in sorted(available_languages(project.locales) - {"en"}):
        with catalog_path(project.locales, language).open("rb") as fp:
            yield language, read_po(fp, locale=None)


def test_every_shipped_catalog_chooses_as_a_recognised_rule_today(project):
    for language, catalog in shipped(project):
        assert mismatch(catalog.num_plurals, catalog.plural_expr, recognised(language)) is None, language


def test_every_shipped_catalog_but_tagalog_chooses_as_the_older_rules_did(project):
    """Under the older two-form rules (and gettext's) the same catalogs pass; Tagalog's two
    forms are the same words, and its rule is CLDR's, which older Babel did not have."""
    for language, catalog in shipped(project):
        rules = [r for r in (gettext_rule(language), OLDER_BABEL.get(language)) if r]
        problem = mismatch(catalog.num_plurals, catalog.plural_expr, rules)
        assert (problem is None) == (language != "tl"), (language, problem)


@pytest.mark.parametrize(
    "rules", [pytest.param(lambda: recognised("es"), id="today"), pytest.param(lambda: [OLDER_BABEL["es"]], id="older")]
)
def test_a_swapped_formula_is_wrong_under_either_rule_set(rules):
    problem = mismatch(2, "(n == 1)", rules())
    assert problem is not None and problem.startswith("for n = 0 it chooses form 0")


@pytest.mark.parametrize("nplurals,expr", [(2, "(n != 1)"), (3, "(n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2)")])
def test_spanish_may_follow_gettext_or_cldr(nplurals, expr):
    assert mismatch(nplurals, expr, recognised("es")) is None


def test_a_rule_that_differs_only_above_the_numbers_printed_is_accepted():
    assert mismatch(2, f"(n != 1 && n <= {HIGHEST})", recognised("es")) is None
    assert (
        mismatch(2, f"(n != 1 && n < {HIGHEST})", recognised("es"))
        == f"for n = {HIGHEST} it chooses form 0, but this language uses form 1 (GNU gettext)"
    )


@pytest.mark.parametrize("expr", ["n +", "(n > 1 ? 2 : 0)", "n / 0", "n - 1"])
def test_an_invalid_expression_is_named(expr):
    assert choices(2, expr) is None
    assert mismatch(2, expr, recognised("fr")) == "the expression is not valid for nplurals=2"


def test_the_wrong_count_names_both_counts():
    assert (
        mismatch(4, "(n > 2 ? 3 : n)", recognised("fr"))
        == "it says nplurals=4, but this language has 2 or 3 plural forms"
    )


def test_rules_come_from_gettext_and_from_the_installed_babel():
    assert gettext_rule("pt_BR") == PluralRule(2, "(n > 1)", "GNU gettext")
    assert gettext_rule("tl") is None and cldr_rule("tl") is not None
    assert cldr_rule("xx") is None and preferred("xx").plural_forms == "nplurals=2; plural=(n != 1);"
    assert preferred("es").source == "GNU gettext"


def test_the_header_gate_names_the_line(project, tmp_path):
    path = catalog_path(project.locales, "es")
    text = path.read_text("utf-8").replace("plural=(n != 1);", "plural=(n == 1);")
    line = text[: text.index('"Plural-Forms:')].count("\n") + 1
    catalog = read_po(iter(text.encode().splitlines(keepends=True)), locale="es")
    [problem] = header_problems(path, "es", catalog, text)
    assert problem.line == line and "for n = 0 it chooses form 0" in problem.message


def test_init_writes_gettexts_rule_and_says_so(project_copy):
    """Babel 2.19 gives Italian three forms; the new catalog gets gettext's two, and passes."""
    proc = handouts(project_copy, "i18n", "init", "it")
    assert proc.returncode == 0, proc.stderr
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);"' in proc.stdout and "GNU gettext" in proc.stdout
    po = catalog_path(project_copy.locales, "it")
    text = po.read_text("utf-8")
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in text
    assert "msgstr[2]" not in text
    catalog = read_po(po.open("rb"), locale="it")
    assert header_problems(po, "it", catalog, text) == []

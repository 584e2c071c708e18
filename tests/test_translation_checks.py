"""The Translator (one parse, frozen) and the gates added with it: the glossary of safety
terms, numbers written as words, and plural forms that cover a single number. In process,
on the real catalogs (load_translator), each able to fail."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from babel.messages.pofile import read_po

from generator.errors import CatalogError
from generator.gates import added_number_warning, field_problems, number_word_problems
from generator.glossary import glossary_path, load_glossary, missing
from generator.numberwords import NUMBER_WORDS, added_words, words_in
from generator.placeholders import duration
from generator.plurals import single_value_forms
from generator.translation import Translators, available_languages, catalog_path, load_translator

from .conftest import ROOT, po_bytes

LANGUAGES = sorted(available_languages(ROOT / "locales") - {"en"})


def set_translation(project, language: str, msgid: str, msgstr: str | tuple[str, ...]) -> int:
    """Replace one translation in a project copy's catalog; returns the entry's line."""
    path = catalog_path(project.locales, language)
    catalog = read_po(path.open("rb"))
    assert catalog.get(msgid) is not None, msgid
    catalog.get(msgid).string = msgstr
    path.write_bytes(po_bytes(catalog))
    return read_po(io.BytesIO(path.read_bytes())).get(msgid).lineno


@pytest.fixture(scope="module")
def translators(project) -> Translators:
    """Every shipped catalog, loaded once with the content's safety marks."""
    return Translators(project.locales)


# -- the Translator ---------------------------------------------------------------------------


def test_a_loaded_translator_cannot_be_changed(translators):
    es = translators.get("es")
    with pytest.raises(dataclasses.FrozenInstanceError):
        es.problems = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        es.problems["x"] = ()  # type: ignore[index]
    with pytest.raises(TypeError):
        es.strings["Chest pain."] = "changed"  # type: ignore[index]
    assert es.unit("Chest pain.") == "Dolor en el pecho."


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_shipped_catalog_passes_every_gate_without_warnings(translators, language):
    tr = translators.get(language)
    assert dict(tr.problems) == {}
    assert [str(w) for w in tr.warnings] == []


def test_a_plural_entry_missing_a_form_is_found_by_the_one_parse(project_copy):
    path = catalog_path(project_copy.locales, "es")
    text = path.read_text("utf-8").replace('\nmsgstr[1] "%(num)s horas"', "")
    path.write_text(text, "utf-8")
    with pytest.raises(
        CatalogError,
        match=r"messages\.po:\d+: error: this plural entry has 1 forms, the "
        r"catalog's Plural-Forms says 2 \(msgid '%\(num\)s hour'\)",
    ):
        load_translator(project_copy.locales, "es")


# -- the glossary -----------------------------------------------------------------------------

DO_NOT_DRIVE = "Do not drive or use machines until the next day. Wait until you have had a good night's sleep."


@pytest.fixture
def dropped_not(project_copy):
    """The Spanish "Do not drive" unit with its "No" dropped: it now tells the patient to drive."""
    line = set_translation(
        project_copy,
        "es",
        DO_NOT_DRIVE,
        "Maneje o use máquinas hasta el día siguiente. Espere hasta haber dormido bien toda la noche.",
    )
    return project_copy, line


def test_a_dropped_not_in_a_safety_unit_is_an_error_naming_term_and_rendering(dropped_not):
    project, line = dropped_not
    tr = Translators(project.locales).get("es")
    problems = [str(p) for p in tr.problems[DO_NOT_DRIVE]]
    glossary_line = next(
        n
        for n, row in enumerate(glossary_path(project.locales, "es").read_text("utf-8").splitlines(), 1)
        if 'id="do-not"' in row
    )
    assert any(
        re.fullmatch(
            rf".*messages\.po:{line}: error: glossary: the source says 'do not'; the translation must say it as "
            rf"'no' \(the approved rendering, .*locales/es/glossary\.tbx:{glossary_line}\), and has it 0 times "
            r"\(msgid .Do not drive or use machines.*\)",
            p,
        )
        for p in problems
    ), problems


def test_the_glossary_counts_each_time_the_source_says_a_term(project):
    glossary = load_glossary(project.locales, "es")
    assert glossary is not None
    source = "Do not drink alcohol. Do not take medicines for sleep."
    assert missing(glossary, source, "No tome alcohol. No tome medicamentos para dormir.") == []
    [gap] = missing(glossary, source, "No tome alcohol. Tome medicamentos para dormir.")
    assert (gap.term.source[0], gap.in_source, gap.in_translation) == ("do not", 2, 1)
    # a whole word: "noche" is not "no"
    assert missing(glossary, "Do not drive.", "Maneje de noche.")


@pytest.mark.parametrize(
    "language, translation",
    [
        ("ar", "تقُد السيارة بنفسك."),  # لا تقُد ("do not drive") with لا dropped
        ("zh_Hans", "自己开车。"),
        ("ko", "직접 운전하십시오."),
        ("hi", "खुद गाड़ी चलाएं।"),
        ("ru", "Садитесь за руль сами."),
    ],
)
def test_the_glossary_catches_a_dropped_negation_in_other_scripts(project, language, translation):
    glossary = load_glossary(project.locales, language)
    assert glossary is not None
    gaps = missing(glossary, "Plan how you will get home. Do not drive yourself.", translation)
    assert [gap.term.source[0] for gap in gaps] == ["do not"]


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda text: text.replace("</termEntry>", "</termEntr>", 1),
            r"glossary\.tbx:\d+: error: the glossary is not valid TBX",
        ),
        (lambda text: '<?xml version="1.0"?><glossary/>', r"glossary\.tbx:1: error: the glossary is not a TBX file"),
        (
            lambda text: text.replace('<langSet xml:lang="en"><tig><term>call</term></tig></langSet>', "", 1),
            r"glossary\.tbx:\d+: error: a termEntry has no English term",
        ),
    ],
)
def test_a_broken_glossary_stops_its_language_naming_the_line(project_copy, edit, message):
    path = glossary_path(project_copy.locales, "fr")
    before = path.read_text("utf-8")
    path.write_text(edit(before), "utf-8")
    assert path.read_text("utf-8") != before
    with pytest.raises(CatalogError, match=message):
        Translators(project_copy.locales).get("fr")


# -- numbers written as words -----------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_number_words_0_to_12_are_known_in_every_language(language):
    table = NUMBER_WORDS[language]
    assert set(table.words) >= set(range(13))
    for value in range(2, 13):
        word = table.words[value][0]
        assert (word.casefold(), value) in words_in(f"x {word} x", language) or any(
            v == value for _, v in words_in(f"x {word} x", language)
        ), (language, value, word)


@pytest.mark.parametrize(
    "language, source, translation, word",
    [
        ("es", "Staff watch you for at least 2 hours.", "El personal le observa al menos dos horas.", "dos"),
        ("fr", "Wait 12 hours.", "Attendez douze heures.", "douze"),
        ("ru", "Wait 2 hours.", "Подождите два часа.", "два"),
        ("ar", "Wait 3 hours.", "انتظر ثلاث ساعات.", "ثلاث"),
        ("zh_Hans", "Wait 2 hours.", "等待两小时。", "两"),
        ("hi", "Wait 2 hours.", "दो घंटे इंतज़ार करें।", "दो"),
    ],
)
def test_a_digit_written_as_a_word_is_an_error(language, source, translation, word):
    [problem] = number_word_problems(source, translation, language)
    assert problem.startswith(f"the number {re.search(r'[0-9]+', source).group(0)} is written as a word ({word!r})")
    assert (
        number_word_problems(source, translation.replace(word, re.search(r"[0-9]+", source).group(0)), language) == []
    )


@pytest.mark.parametrize(
    "language, translation",
    [
        ("es", "Llame al nueve uno uno."),
        ("vi", "Hãy gọi chín một một."),
        ("ko", "두 시간 후에 전화하십시오."),
        ("zh_Hans", "两小时后请拨打。"),
    ],
)
def test_a_number_word_the_source_does_not_have_is_a_warning(language, translation):
    assert added_number_warning("Call the clinic.", translation, language)
    assert added_number_warning("Call the clinic 2 hours later.", "Llame a la clínica 2 horas después.", "es") == []
    # the source's own number words may be translated as words
    assert added_number_warning("Never take two doses.", "Nunca tome dos dosis.", "es") == []


def test_everyday_words_that_are_also_numbers_are_not_warned(project):
    assert added_words("Nunca tome una dosis de más.", "es") == []  # una: "a"
    assert added_words("Một số loại thuốc; mỗi năm.", "vi") == []  # một: "a", năm: "year"
    assert added_words("第二天之前不要开车。", "zh_Hans") == []  # 第二天: "the next day"


def test_a_translation_writing_the_sources_digit_as_a_word_fails_its_entry(project_copy):
    msgid = (
        "Staff watch you for at least 2 hours after you use the spray. This is a safety rule for this medicine. "
        "They check your blood pressure again before you leave. Your clinic may ask you to stay longer. Staff "
        "tell you when it is safe to go."
    )
    catalog = read_po(catalog_path(project_copy.locales, "es").open("rb"))
    assert catalog.get(msgid) is not None
    msgstr = str(catalog.get(msgid).string)
    assert "2 horas" in msgstr
    line = set_translation(project_copy, "es", msgid, msgstr.replace("2 horas", "dos horas"))
    problems = [str(p) for p in load_translator(project_copy.locales, "es").problems[msgid]]
    assert any(f"messages.po:{line}: error: the number 2 is written as a word ('dos')" in p for p in problems), problems
    assert any("numbers differ: ['2'] in the source, none in the translation" in p for p in problems)


# -- plural forms for a single number ---------------------------------------------------------


def test_forms_for_a_single_number_come_from_the_plural_rule():
    arabic = "n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5"
    assert single_value_forms(6, arabic) == {0, 1, 2}
    assert single_value_forms(2, "(n > 1)") == set()  # French: form 0 is 0 and 1
    assert single_value_forms(1, "0") == set()


def test_a_form_for_one_number_may_leave_the_number_out_and_no_other():
    assert field_problems("%(num)s hours", "ساعتين", may_omit_number=True) == []
    assert field_problems("%(num)s hours", "ساعات") == ["format field missing from the translation: %(num)s"]
    assert field_problems("%(num)s hours", "%(num)s ساعتين %(x)s", may_omit_number=True) == [
        "format field added or renamed in the translation: %(x)s"
    ]


def test_arabic_says_one_hour_and_two_hours_without_the_digit(project):
    ar = load_translator(project.locales, "ar")
    assert [duration(h * 60, ar) for h in (1, 2, 3, 11)] == ["ساعة واحدة", "ساعتين", "3 ساعات", "11 ساعة"]
    assert [duration(m, ar) for m in (1, 2, 30)] == ["دقيقة واحدة", "دقيقتين", "30 دقيقة"]


def test_an_arabic_form_for_many_numbers_must_keep_the_number(project_copy):
    line = set_translation(
        project_copy,
        "ar",
        ("%(num)s hour", "%(num)s hours"),
        ("%(num)s ساعة", "ساعة واحدة", "ساعتين", "ساعات", "%(num)s ساعة", "%(num)s ساعة"),
    )
    problems = [str(p) for p in load_translator(project_copy.locales, "ar").problems["%(num)s hour"]]
    assert any(
        re.search(
            rf"messages\.po:{line}: error: format field missing from the translation: %\(num\)s "
            r"\(msgid '%\(num\)s hour'\)",
            p,
        )
        for p in problems
    ), problems


def test_a_translators_mark_survives_i18n_update(project_copy):
    """`# ignore-same` and `# ignore-number-words` are translator comments, which GNU msgmerge
    keeps (it drops flags it does not know, such as `#, ignore-same`)."""
    from generator import i18n

    i18n.update(project_copy)
    fr = load_translator(project_copy.locales, "fr")
    ko = load_translator(project_copy.locales, "ko")
    assert not any("same as the English" in str(w) for w in fr.warnings)
    assert not any("number word" in str(w) for w in ko.warnings)
    text = catalog_path(project_copy.locales, "fr").read_text("utf-8")
    assert text.count("# ignore-same\n") == 2

"""Numbers written as words, 0 to 12, in English and each catalog language.

Handouts write numbers as digits ("2 hours"), as the source does: a translation that writes
the source's "2" as "dos" is an error (the reader skims for the digit), and a number word
the source does not have ("nueve uno uno" where the source has no number) is a warning for
the reviewer. CLDR's spell-out rules are not in Babel, so the words are listed here; each
value lists its forms (gender, case, the Tagalog linker ``-ng``). ``ambiguous`` words are
also everyday words ("un" is "a", Vietnamese "năm" is "year", Hindi "दो" is "give") and are
never counted as an added number. Chinese and Korean number words count as added only
before a counter (两小时, 두 시간).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field

from .glossary import fold, take


@dataclass(frozen=True)
class NumberWords:
    words: dict[int, tuple[str, ...]]
    ambiguous: frozenset[str] = frozenset()
    spaced: bool = True
    #: for languages without spaces between words: the counters after which a number word
    #: is surely a number (两小时 "two hours")
    counters: tuple[str, ...] = field(default=())

    @functools.cached_property
    def pairs(self) -> dict[str, int]:
        """Each word as it is compared (folded), and its value."""
        return {fold(word): value for value, words in self.words.items() for word in words}


def _table(*rows: str) -> dict[int, tuple[str, ...]]:
    """One row per value 0..12, its forms separated by '|'."""
    return {value: tuple(row.split("|")) for value, row in enumerate(rows)}


def _ordinals(table: dict[int, tuple[str, ...]], prefix: str) -> dict[int, tuple[str, ...]]:
    return {value: (*words, *(prefix + word for word in words)) for value, words in table.items()}


_ORDINALS_ZH = frozenset(
    "第" + word for word in ("零", "一", "二", "两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
)

NUMBER_WORDS: dict[str, NumberWords] = {
    "en": NumberWords(
        _table(
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"
        ),
        frozenset({"one"}),
    ),
    "es": NumberWords(
        _table(
            "cero",
            "uno|una|un",
            "dos",
            "tres",
            "cuatro",
            "cinco",
            "seis",
            "siete",
            "ocho",
            "nueve",
            "diez",
            "once",
            "doce",
        ),
        frozenset({"uno", "una", "un"}),
    ),
    "fr": NumberWords(
        _table(
            "zéro", "un|une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix", "onze", "douze"
        ),
        frozenset({"un", "une", "neuf"}),
    ),
    "pt_BR": NumberWords(
        _table(
            "zero",
            "um|uma",
            "dois|duas",
            "três",
            "quatro",
            "cinco",
            "seis",
            "sete",
            "oito",
            "nove",
            "dez",
            "onze",
            "doze",
        ),
        frozenset({"um", "uma"}),
    ),
    "ht": NumberWords(
        _table("zewo", "en|youn|yon", "de", "twa", "kat", "senk", "sis", "sèt", "uit", "nèf", "dis", "onz", "douz"),
        frozenset({"en", "youn", "yon", "sis"}),
    ),
    "tl": NumberWords(
        _table(
            "sero|wala",
            "isa|isang",
            "dalawa|dalawang",
            "tatlo|tatlong",
            "apat",
            "lima|limang",
            "anim",
            "pito|pitong",
            "walo|walong",
            "siyam",
            "sampu|sampung",
            "labing-isa|labing-isang",
            "labindalawa|labindalawang",
        ),
        frozenset({"wala", "isa", "isang", "apat", "anim"}),
    ),
    "vi": NumberWords(
        _table("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai"),
        frozenset({"không", "một", "ba", "năm"}),
    ),
    "ru": NumberWords(
        _table(
            "ноль",
            "один|одна|одно|одну|одного|одной",
            "два|две|двух",
            "три|трёх|трех",
            "четыре|четырёх|четырех",
            "пять|пяти",
            "шесть|шести",
            "семь|семи",
            "восемь|восьми",
            "девять|девяти",
            "десять|десяти",
            "одиннадцать|одиннадцати",
            "двенадцать|двенадцати",
        ),
        frozenset({"один", "одна", "одно", "одну", "одного", "одной"}),
    ),
    "ar": NumberWords(
        _table(
            "صفر",
            "واحد|واحدة",
            "اثنان|اثنين|اثنتان|اثنتين",
            "ثلاث|ثلاثة",
            "أربع|أربعة",
            "خمس|خمسة",
            "ست|ستة",
            "سبع|سبعة",
            "ثماني|ثمانية|ثمان",
            "تسع|تسعة",
            "عشر|عشرة",
            "أحد عشر|إحدى عشرة",
            "اثنا عشر|اثني عشر|اثنتا عشرة|اثنتي عشرة",
        ),
        frozenset({"واحد", "واحدة", "ست", "عشر"}),
    ),
    "hi": NumberWords(
        _table("शून्य", "एक", "दो", "तीन", "चार", "पाँच|पांच", "छह|छः", "सात", "आठ", "नौ", "दस", "ग्यारह", "बारह"),
        frozenset({"एक", "दो"}),
    ),
    "ko": NumberWords(
        _table(
            "영|공",
            "하나|한|일",
            "둘|두|이",
            "셋|세|삼",
            "넷|네|사",
            "다섯|오",
            "여섯|육",
            "일곱|칠",
            "여덟|팔",
            "아홉|구",
            "열|십",
            "열하나|열한|십일",
            "열둘|열두|십이",
        ),
        frozenset({"한", "일", "이", "세", "삼", "네", "사", "오", "육", "칠", "팔", "구", "열", "십", "공", "영"}),
        counters=("시간", "분", "번", "개", "알", "정", "잔", "명", "일", "주"),
    ),
    # 第二天 is "the next day": an ordinal (第 + number) is never an added number
    "zh_Hans": NumberWords(
        _ordinals(_table("零", "一", "二|两", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二"), "第"),
        frozenset({"一", *_ORDINALS_ZH}),
        spaced=False,
        counters=("个", "小时", "分钟", "次", "天", "周", "片", "剂", "粒", "杯", "位"),
    ),
}


def words_in(text: str, language: str) -> list[tuple[str, int]]:
    """The number words of ``text`` (word, value), longest first so that "doce" is 12, not 2."""
    table = NUMBER_WORDS.get(language)
    if table is None:
        return []
    _, found = take(fold(text), list(table.pairs), table.spaced)
    return [(word, table.pairs[word]) for word in found]


def added_words(text: str, language: str) -> list[tuple[str, int]]:
    """Number words that surely say a number: not an everyday word, and in Chinese and
    Korean followed by a counter."""
    table = NUMBER_WORDS.get(language)
    if table is None:
        return []
    folded = fold(text)
    return [
        (word, value)
        for word, value in words_in(text, language)
        if word not in table.ambiguous and (not table.counters or _before_counter(folded, word, table.counters))
    ]


def _before_counter(text: str, word: str, counters: tuple[str, ...]) -> bool:
    start = text.find(word)
    while start >= 0:
        if text[start + len(word) :].lstrip(" ").startswith(counters):
            return True
        start = text.find(word, start + 1)
    return False


def values_in_english(text: str) -> Counter:
    return Counter(value for _, value in words_in(text, "en"))

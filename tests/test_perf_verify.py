"""verify's searches made cheaper (issue 17) give the same answers as the first versions, kept
here: where a unit's letters line up best in the text read back (`_best_offset`, 60 ms of an
Arabic handout's verification before), and whether a word's letters stand together in any
order (`_anagram_in`)."""

import random
from collections import Counter

from generator.verify import _anagram_in, _best_offset, printed

ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def first_best_offset(wanted: str, text: str) -> int | None:
    where: dict[str, list[int]] = {}
    for j in range(len(wanted) - 1):
        where.setdefault(wanted[j : j + 2], []).append(j)
    votes: Counter = Counter()
    for i in range(len(text) - 1):
        for j in where.get(text[i : i + 2], ()):
            votes[i - j] += 1
    if not votes:
        return None
    return max(votes, key=lambda offset: sum(votes.get(offset + d, 0) for d in range(-2, 3)))


def first_anagram_in(word: str, text: str) -> bool:
    wanted, size = sorted(word), len(word)
    return any(sorted(text[i : i + size]) == wanted for i in range(len(text) - size + 1))


def garble(unit: str, rng: random.Random) -> str:
    """The unit as poppler may read it back: a letter dropped, added or two swapped."""
    letters = list(unit)
    for _ in range(rng.randint(0, 3)):
        i = rng.randrange(len(letters))
        kind = rng.choice("das")
        if kind == "d" and len(letters) > 2:
            del letters[i]
        elif kind == "a":
            letters.insert(i, rng.choice(ARABIC))
        elif i + 1 < len(letters):
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)


def test_best_offset_is_the_first_versions():
    rng = random.Random(17)
    alphabets = (ARABIC, ARABIC[:6], "abcdefghij", "ab")  # a small alphabet: many ties
    for case in range(120):
        alphabet = alphabets[case % len(alphabets)]
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 1500)))
        unit = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        at = rng.randint(0, len(text))
        text = text[:at] + garble(unit, rng) + text[at:]
        for wanted in (unit, unit[: len(unit) // 2], unit[::-1]):
            assert _best_offset(wanted, text) == first_best_offset(wanted, text), (case, wanted)


def test_anagram_in_is_the_first_versions():
    rng = random.Random(12)
    for case in range(500):
        alphabet = ARABIC[: rng.randint(2, len(ARABIC))]
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))
        word = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        if case % 3 == 0:
            at = rng.randint(0, len(text))
            text = text[:at] + "".join(rng.sample(word, len(word))) + text[at:]
        assert _anagram_in(word, text) == first_anagram_in(word, text), (case, word)


def test_a_unit_garbled_beyond_the_allowed_share_is_not_printed():
    """The searches still fail a unit that is not there (so verification can fail)."""
    rng = random.Random(3)
    unit = "اتصل بالعيادة فورا إذا شعرت بألم في الصدر"
    text = "".join(rng.choice(ARABIC) for _ in range(2000))
    assert printed(unit, text[:900] + unit.replace(" ", "") + text[900:])
    assert not printed(unit, text)
    assert not printed(unit, text[:900] + unit.replace(" ", "")[: len(unit) // 2] + text[900:])

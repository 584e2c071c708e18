"""Fonts: which families each language prints in, and every question asked of fontconfig.

WeasyPrint (through Pango) prints each character in the first of the handout's families that
has it, and otherwise in any installed font that fontconfig offers as a fallback; a character
no installed font has prints as an empty box (the build fails the handout). Characters that
are "default ignorable" in Unicode (variation selectors such as U+FE0F, joiners, bidi
controls) are never drawn, so they need no glyph. :func:`printable` gives that verdict for
``handouts check``, from the same fontconfig answers the build uses.
"""

from __future__ import annotations

import bisect
import functools
import re
import subprocess
import unicodedata
from collections.abc import Iterable

#: Fonts by script (Debian's fonts-noto-core and fonts-noto-cjk). Han characters differ by
#: region, so each CJK language names its own face first; Latin text uses Noto Sans.
FONTS_BY_LANGUAGE = {
    "zh": ["Noto Sans", "Noto Sans CJK SC"],
    "ko": ["Noto Sans", "Noto Sans CJK KR"],
    "ja": ["Noto Sans", "Noto Sans CJK JP"],
    "ar": ["Noto Sans Arabic", "Noto Sans"],
    "hi": ["Noto Sans", "Noto Sans Devanagari"],
}
DEFAULT_FONTS = ["Noto Sans", "Noto Sans Arabic", "Noto Sans Devanagari", "Noto Sans CJK SC"]

#: Unicode categories that need no glyph: spaces, line breaks, controls, format characters.
UNPRINTED = {"Zs", "Zl", "Zp", "Cc", "Cf"}
#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): HarfBuzz draws nothing
#: for these unless a font has a glyph, so they never print as an empty box.
DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
#: fontconfig's %{charset}: hexadecimal code points and ranges, "20-7e a0 ..."
CHARSET_RE = re.compile(r"([0-9a-f]+)(?:-([0-9a-f]+))?")


def fonts_for(language: str) -> list[str]:
    """The font families a language's handouts name, in order (a Babel id: ``zh_Hans``)."""
    return FONTS_BY_LANGUAGE.get(language.split("_")[0], DEFAULT_FONTS)


def all_families() -> list[str]:
    """Every family any language names, once each, defaults first."""
    return list(dict.fromkeys([*DEFAULT_FONTS, *(f for fs in FONTS_BY_LANGUAGE.values() for f in fs)]))


def _fc(*args: str) -> str | None:
    """fontconfig's answer; None if fontconfig is missing or fails (``handouts doctor`` says why)."""
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


def font_installed(family: str) -> bool:
    """Whether fontconfig knows a font family by exactly this name."""
    listing = _fc("fc-list", f"{family}:", "family") or ""
    return any(family in line.split(",") for line in listing.splitlines())


def font_files() -> dict[str, list[str]]:
    """Font files by family name (lowercase), from fontconfig, as WeasyPrint finds them;
    ``sans-serif`` is what fontconfig substitutes for it. Empty without fontconfig."""
    listing = _fc("fc-list", "--format", "%{file}\t%{family}\n")
    fallback = _fc("fc-match", "--format", "%{file}", "sans-serif")
    by_family: dict[str, list[str]] = {}
    if listing is None or fallback is None:
        return by_family
    for line in listing.splitlines():
        file, _, families = line.partition("\t")
        for family in families.split(","):
            by_family.setdefault(family.strip().lower(), []).append(file)
    by_family["sans-serif"] = [fallback] if fallback else []
    return by_family


class Coverage:
    """A set of code points kept as sorted, merged ranges (a CJK font has 40,000)."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = [first for first, _ in merged]
        self._lasts = [last for _, last in merged]

    def __contains__(self, code_point: int) -> bool:
        i = bisect.bisect_right(self._firsts, code_point) - 1
        return i >= 0 and code_point <= self._lasts[i]


@functools.cache
def coverage(families: tuple[str, ...]) -> Coverage:
    """Every code point the build can print for a handout naming ``families``: those of the
    fonts fontconfig offers for them and then as fallbacks (``fc-match --sort``, as Pango
    asks), whether or not a family is in :data:`FONTS_BY_LANGUAGE`."""
    pattern = ",".join([*families, "sans-serif"])
    charsets = _fc("fc-match", "--sort", "--format", "%{charset}\n", pattern) or ""
    return Coverage((int(first, 16), int(last or first, 16)) for first, last in CHARSET_RE.findall(charsets))


def needs_glyph(char: str) -> bool:
    """Whether a character is drawn: not a space, control, format character or default ignorable."""
    code_point = ord(char)
    return unicodedata.category(char) not in UNPRINTED and not any(
        first <= code_point <= last for first, last in DEFAULT_IGNORABLE
    )


def printable(char: str, families: tuple[str, ...]) -> bool:
    """Whether the build prints ``char`` as a glyph (or draws nothing), not as an empty box."""
    return not needs_glyph(char) or ord(char) in coverage(families)

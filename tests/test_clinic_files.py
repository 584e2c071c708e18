"""Clinic files cannot be half right: every problem of a file is reported at once, at its
line, saying how to fix it; values copied from the example are warned about; logos are
checked when the clinic is loaded; one broken file does not stop the other clinics. And
`handouts new-clinic` and `handouts doctor`, which help set a clinic up."""

import copy
import importlib.metadata
import io
import json
import re
import shutil
import struct
import subprocess
import tomllib
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfReader

from generator.build import build, load_clinics, plan
from generator.config import ClinicFileError, load_clinic
from generator.content import load_content
from generator.doctor import locked_versions, package_checks, tool_checks
from generator.errors import ConfigError, ContentError, UsageError
from generator.logo import PRINT_PIXELS, LogoError, printable_png
from generator.scaffold import NewClinic, new_clinic
from generator.translation import available_languages

from .conftest import ROOT, handouts, run_cli

EXAMPLE = (ROOT / "content/clinics/example.toml").read_text("utf-8")
KNOWN = available_languages(ROOT / "locales")


@pytest.fixture
def clinics(tmp_path) -> Path:
    """A clinics folder holding the example clinic, as a copy would start."""
    folder = tmp_path / "clinics"
    folder.mkdir()
    for name in ("example.toml", "example-logo.svg", "thameside.toml", "thameside-logo.svg"):
        shutil.copy(ROOT / "content/clinics" / name, folder)
    return folder


def line(text: str, needle: str) -> int:
    return next(n for n, raw in enumerate(text.splitlines(), 1) if needle in raw)


def write(
    folder: Path, edits: list[tuple[str, str]], name: str = "berlin.toml", text: str = EXAMPLE
) -> tuple[Path, str]:
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = folder / name
    path.write_text(text, "utf-8")
    return path, text


def problems(path: Path) -> list[str]:
    """Each problem's ``line: message``, as load_clinic reports them all at once."""
    with pytest.raises(ClinicFileError) as info:
        load_clinic(path, KNOWN)
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)
    return [f"{p.line}: {p.message}" for p in info.value.problems]


# (edits, the line's needle in the edited file or None, the message)
CASES = {
    "unknown key": (
        [("emergency_number =", "emergancy_number =")],
        "emergancy_number",
        "unknown key 'emergancy_number' in [contact]; did you mean 'emergency_number'?",
    ),
    "unknown key in [editions]": (
        [("large_print =", "large_prnt =")],
        "large_prnt",
        "unknown key 'large_prnt' in [editions]; did you mean 'large_print'?",
    ),
    "unknown key bilingal": (
        [("bilingual = [", "bilingal = [")],
        "bilingal",
        "unknown key 'bilingal' in [editions]; did you mean 'bilingual'?",
    ),
    "unknown table": ([("[editions]", "[edition]")], "[edition]", "unknown table [edition]; did you mean 'editions'?"),
    "unknown colour key": (
        [('accent = "#8fc1d4"', 'accent = "#8fc1d4"\non_primery = "#ffffff"')],
        "on_primery",
        "unknown key 'on_primery' in [colors]; did you mean 'on_primary'?",
    ),
    "unknown protocol route": (
        [("[protocol.oral]", "[protocol.orall]")],
        "[protocol.orall]",
        "unknown table [protocol.orall]; did you mean 'oral'?",
    ),
    "unquoted phone number": (
        [('phone = "503-555-0142"', "phone = 5035550142")],
        "phone = 5035550142",
        'contact.phone: must be text, not the number 5035550142: put it in quotes, phone = "5035550142"',
    ),
    "missing key": (
        [('crisis_line = "988"\n', "")],
        "[contact]",
        "contact.crisis_line: missing; [contact] needs phone, after_hours_phone, emergency_number and crisis_line",
    ),
    "region without a country": (
        [('region = "en_US"', 'region = "en"')],
        'region = "en"',
        "region: 'en' is not a locale with a country that Babel knows; write a "
        'language and a country, like "en_GB" or "en_US"',
    ),
    "crisis line language": (
        [('crisis_line_languages = ["en", "es"]', 'crisis_line_languages = ["en", "Spanish"]')],
        "crisis_line_languages =",
        'contact.crisis_line_languages: \'Spanish\' is not a language id; write Babel ids in quotes, like ["en", "es"]',
    ),
    "urgent advice with words": (
        [('emergency_number = "911"\n', 'emergency_number = "911"\nurgent_advice = "NHS 111"\n')],
        "urgent_advice =",
        "contact.urgent_advice: 'NHS 111' is not a phone number; write only the number",
    ),
    "missing protocol": (
        [("[protocol.oral]", "[protocol.ora]")],
        "routes = [",
        "routes: 'oral' is offered but there is no [protocol.oral] table; add one with "
        "session_hours or session_minutes, fasting_hours or fasting_minutes, clear_liquids_hours or clear_liquids_minutes, "
        "stay_hours or stay_minutes and driver_required",
    ),
    "fractional hours": (
        [("fasting_hours = 4", "fasting_hours = 1.5")],
        "fasting_hours = 1.5",
        "protocol.oral.fasting_hours: must be whole hours, not 1.5; write it in minutes instead: fasting_minutes = 90",
    ),
    "zh-CN": (
        [('"zh_Hans", "vi"', '"zh-CN", "vi"')],
        "languages =",
        "languages: no catalog for 'zh-CN', but there is one for 'zh_Hans', the same language: use "
        "'zh_Hans' (one catalog serves every region and spelling of a language)",
    ),
    "fr_CA": (
        [
            ('"fr", "ht"', '"fr_CA", "ht"'),
            ('"fr", "ht", "pt_BR", "hi"]\nbilingual_second', '"ht", "pt_BR", "hi"]\nbilingual_second'),
        ],
        "languages =",
        "languages: no catalog for 'fr_CA', but there is one for 'fr'",
    ),
    "FR": (
        [
            ('"fr", "ht"', '"FR", "ht"'),
            ('"fr", "ht", "pt_BR", "hi"]\nbilingual_second', '"ht", "pt_BR", "hi"]\nbilingual_second'),
        ],
        "languages =",
        "languages: no catalog for 'FR', but there is one for 'fr', the same language: use 'fr'",
    ),
    "a language without a catalog": (
        [('"hi"]\nroutes', '"hi", "de"]\nroutes')],
        "languages =",
        "languages: no catalog for 'de' (have: ar, en, ",
    ),
    "QR pattern with a format": (
        [("{language}/{file}", "{language}/{file:>5000}")],
        "handout_url",
        "online.handout_url: the field {file:>5000} has a format; write plain fields only, like {file}",
    ),
    "QR pattern with an unknown field": (
        [("{language}/{file}", "{lang}/{file}")],
        "handout_url",
        "online.handout_url: unknown field {lang} (known: {file}, {language}, {route}); did you mean {language}?",
    ),
    "QR pattern with an attribute": (
        [("{language}/{file}", "{language.__class__}/{file}")],
        "handout_url",
        "online.handout_url: unknown field {language.__class__}",
    ),
    "QR pattern too long": (
        [("handouts/{language}", "handouts/" + "x" * 180 + "/{language}")],
        "handout_url",
        "online.handout_url: the longest address it makes (256 "
        "characters: https://riverside-clinic.example/handouts/xxx",
    ),
    "placeholder in the name": (
        [('name = "Riverside Ketamine Clinic"', 'name = "Riverside {north}"')],
        "name =",
        "name: '{north}' looks like a placeholder, but a clinic's values are printed as written; remove the braces",
    ),
    "placeholder in a number": (
        [('crisis_line = "988"', 'crisis_line = "{clinic_phone}"')],
        "crisis_line",
        "contact.crisis_line: '{clinic_phone}' looks like a placeholder",
    ),
    "bidi override in the name": (
        [('name = "Riverside', 'name = "\\u202eRiverside')],
        "name =",
        "name: contains the invisible control character U+202E (RIGHT-TO-LEFT "
        "OVERRIDE), which can hide or reorder printed text",
    ),
    "bidi isolate in a number": (
        [('phone = "503-555-0142"', 'phone = "503-555-0142\\u2066"')],
        "phone =",
        "contact.phone: contains the invisible control character U+2066",
    ),
    "C0 control in a number": (
        [('emergency_number = "911"', 'emergency_number = "9\\f11"')],
        "emergency_number",
        "contact.emergency_number: contains the invisible control character U+000C",
    ),
    "C1 control in a language": (
        [('"ht", "pt_BR"', '"ht\\u0085", "pt_BR"')],
        "languages =",
        "languages: contains the invisible control character U+0085",
    ),
    "website that is not https": (
        [('website = "https://riverside', 'website = "http://riverside')],
        "website",
        "contact.website: 'http://riverside-clinic.example' is not a web address like https://clinic.example",
    ),
    "website with a query": (
        [('clinic.example"', 'clinic.example/?a=b c"')],
        "website",
        "contact.website: 'https://riverside-clinic.example/?a=b c' is not a web address",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_problem_names_its_line_and_the_fix(clinics, case):
    edits, needle, message = CASES[case]
    path, text = write(clinics, edits)
    found = problems(path)
    expected_line = line(text, needle)
    assert any(p.startswith(f"{expected_line}: {message}") for p in found), found
    if case in ("fr_CA", "FR"):
        assert "i18n init" not in "\n".join(found)


def test_every_problem_of_a_file_is_reported_at_once(project_copy):
    edits = [
        edits[0]
        for case, (edits, _, _) in CASES.items()
        if case
        in (
            "unknown key",
            "unknown colour key",
            "unquoted phone number",
            "fractional hours",
            "zh-CN",
            "QR pattern with a format",
            "placeholder in the name",
        )
    ]
    path, text = write(project_copy.clinics, [*edits, ("large_print =", "large_prnt =")], "example.toml")
    found = problems(path)
    assert len(found) == 9, found  # the misspelt emergency_number is also missing
    assert [int(p.split(":")[0]) for p in found] == sorted(int(p.split(":")[0]) for p in found)
    # the CLI prints them all, as path:line: error: message, and builds nothing (exit 2)
    proc = handouts(project_copy, "build", "--clinic", "example")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    # (the build's log puts its time and level before the first: 2026-12-01T02:30:00Z ERROR)
    lines = [re.sub(r"^\S+Z ERROR ", "", ln) for ln in proc.stderr.splitlines() if ": error: " in ln]
    assert len(lines) == 9 and all(ln.startswith("content/clinics/example.toml:") for ln in lines), proc.stderr
    assert not (project_copy.root / "handouts").exists()


def test_an_unquoted_phone_number_with_spaces_says_to_quote_it(clinics):
    path, text = write(clinics, [('phone = "503-555-0142"', "phone = +49 30 1234 5678")])
    with pytest.raises(ConfigError) as info:
        load_clinic(path, KNOWN)
    assert info.value.line == line(text, "phone = +49")
    assert str(info.value).endswith('; put the number in quotes: phone = "+49 30 1234 5678"')


def test_a_wrong_language_id_still_says_what_babel_knows(clinics):
    path, _ = write(clinics, [('"hi"]\nroutes', '"hi", "xx"]\nroutes')])
    assert any(
        "languages: 'xx' is not a language id Babel knows (use ids like es, zh_Hans, pt_BR)" in p
        for p in problems(path)
    )


def test_the_country_is_the_regions(clinics):
    path, _ = write(clinics, [('region = "en_US"', 'region = "es_US"')])
    assert load_clinic(path, KNOWN).country == "US"
    path, _ = write(clinics, [('region = "en_US"', '# region = "en_US"')])
    assert load_clinic(path, KNOWN).country is None
    assert load_clinic(clinics / "thameside.toml", KNOWN).country == "GB"


def test_a_blocks_countries_decide_which_clinics_print_it(project_copy):
    rems = load_content(project_copy.content).blocks["intranasal/us-rems"]
    assert rems.prints_for("US") and not rems.prints_for("GB") and not rems.prints_for(None)
    path = project_copy.content / "intranasal/us-rems.md"
    text = path.read_text("utf-8")
    path.write_text(text.replace('countries = ["US"]', 'countries = ["USA"]'), "utf-8")
    with pytest.raises(ContentError, match=r"countries must be a list of two-letter country codes") as info:
        load_content(project_copy.content)
    assert info.value.line == line(text, "countries =")


@pytest.mark.parametrize("name", ["manifest.json.toml", "index.html.toml", ".lock.toml", "..toml", ".hidden.toml"])
def test_a_clinic_id_that_collides_with_the_builds_files_is_refused(clinics, name):
    path, _ = write(clinics, [], name=name)
    found = problems(path)
    assert found[0].startswith("None: the clinic id '") and "(the file's name)" in found[0], found


def test_a_clinic_id_with_other_characters_is_refused(clinics):
    path, _ = write(clinics, [], name="my clinic.toml")
    assert "must be up to 64 letters, digits, - and _" in problems(path)[0]


def test_the_session_length_and_poison_line_are_read_and_required_where_printed(clinics):
    path, text = write(clinics, [])
    clinic = load_clinic(path, KNOWN)
    assert clinic.protocol["iv"].session_minutes == 120 and clinic.protocol["intranasal"].session_minutes == 180
    assert clinic.poison_control == "1-800-222-1222"
    path, text = write(clinics, [("[protocol.im]\nsession_hours = 2", "[protocol.im]\n")])
    assert problems(path) == [
        f"{line(text, '[protocol.im]')}: protocol.im: missing; [protocol.im] needs session_hours or session_minutes"
    ]
    path, text = write(clinics, [('poison_control = "1-800-222-1222"', "")])
    assert problems(path)[0] == (
        f"{line(text, '[contact]')}: contact.poison_control: missing; a clinic "
        "offering oral must give the poison help line (1-800-222-1222 in the US)"
    )


def test_the_website_is_printed_beside_the_clinics_name_whole_and_linked(en_es_iv):
    pdf = en_es_iv / "example/es/iv.pdf"
    first_page = PdfReader(pdf).pages[0]
    assert "Riverside Ketamine Clinic riverside-clinic.example" in re.sub(r"\s+", " ", first_page.extract_text())
    links = [
        annot.get_object()["/A"].get("/URI")
        for annot in first_page.get("/Annots", [])
        if annot.get_object()["/Subtype"] == "/Link"
    ]  # not the form fields' widgets
    assert "https://riverside-clinic.example" in links


# --- a copied example -------------------------------------------------------------------


def test_values_copied_from_the_example_are_warned_about(clinics):
    path, text = write(clinics, [])
    clinic = load_clinic(path, KNOWN)
    shown = f"{path}" if not path.is_relative_to(Path.cwd()) else str(path.relative_to(Path.cwd()))
    assert clinic.warnings == (
        f"{shown}:{line(text, 'logo =')}: warning: logo: example-logo.svg is the example clinic's logo; "
        "put your clinic's own logo beside the file",
        f"{shown}:{line(text, 'phone = ')}: warning: contact.phone: '503-555-0142' is a fictional 555 "
        "number like the example clinic's; put your clinic's real number",
        f"{shown}:{line(text, 'after_hours_phone')}: warning: contact.after_hours_phone: '503-555-0199' "
        "is a fictional 555 number like the example clinic's; put your clinic's real number",
        f"{shown}:{line(text, 'handout_url =')}: warning: online.handout_url: is the example clinic's "
        "address (riverside-clinic.example); put where your clinic publishes its handouts, or remove "
        "[online] for no QR code",
    )
    # the same logo content under another name is still the example's
    shutil.copy(clinics / "example-logo.svg", clinics / "berlin.svg")
    path, _ = write(
        clinics,
        [
            ('"example-logo.svg"', '"berlin.svg"'),
            ("503-555-0142", "030 1234 5678"),
            ("503-555-0199", "030 1234 5679"),
            ("riverside-clinic.example/handouts", "berlin.example/handouts"),
        ],
    )
    assert [w.split(": warning: ")[1][:5] for w in load_clinic(path, KNOWN).warnings] == ["logo:"]
    assert load_clinic(clinics / "example.toml", KNOWN).warnings == ()
    assert load_clinic(clinics / "thameside.toml", KNOWN).warnings == ()


# --- logos ------------------------------------------------------------------------------


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int) -> bytes:
    """A black-and-white PNG of side x side pixels, all white: a few KB on disk."""
    rows = (b"\0" + b"\xff" * (side // 8)) * side
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows, 9))
        + png_chunk(b"IEND", b"")
    )


def png(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 7):  # something to scale: diagonal stripes
        for y in range(0, height, 11):
            image.putpixel((x, y), (x % 256, y % 256, 120))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def with_logo(clinics: Path, name: str, data: bytes) -> tuple[Path, str]:
    (clinics / name).write_bytes(data)
    return write(clinics, [('"example-logo.svg"', f'"{name}"')])


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}</svg>'
NESTED = "<g>" * 100 + "</g>" * 100
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;">]>'
    '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
)


@pytest.mark.parametrize(
    "name,data,message",
    [
        (
            "bomb.png",
            bomb_png(12000),
            "bomb.png cannot be printed: 12000x12000 pixels, more than the 4000x4000 "
            "pixels (16 megapixels) allowed; print needs about 600 pixels high: scale it down",
        ),
        ("cut.png", png(200, 100)[:-200], "cut.png cannot be printed: the PNG cannot be decoded ("),
        ("fake.png", b"\x89PNG\r\n\x1a\nnot really", "fake.png cannot be printed: not a PNG image that can be read"),
        ("laughs.svg", LAUGHS.encode(), "laughs.svg cannot be printed: it has a DOCTYPE"),
        (
            "deep.svg",
            SVG.format(NESTED).encode(),
            "deep.svg cannot be printed: its elements are nested more than 64 deep",
        ),
        (
            "far.svg",
            SVG.format('<image href="https://example.org/x.png"/>').encode(),
            "far.svg cannot be printed: it refers to another file or address (https://example.org/x.png)",
        ),
        (
            "xlink.svg",
            SVG.format('<use xmlns:x="http://www.w3.org/1999/xlink" x:href="other.svg#a"/>').encode(),
            "xlink.svg cannot be printed: it refers to another file or address (other.svg#a)",
        ),
        (
            "styled.svg",
            SVG.format('<style>@import "evil.css";</style>').encode(),
            "styled.svg cannot be printed: its styles @import another file",
        ),
        (
            "pieces.svg",
            SVG.format('<style>@im&#112;ort "evil.css";</style>').encode(),
            "pieces.svg cannot be printed: its styles @import another file",
        ),
        (
            "after.svg",
            SVG.format("<style><g/>rect { fill: url(x.svg#p) }</style>").encode(),
            "after.svg cannot be printed: it refers to another file or address (url(x.svg#p))",
        ),
        (
            "filled.svg",
            SVG.format('<rect style="fill: url(other.svg#p)"/>').encode(),
            "filled.svg cannot be printed: it refers to another file or address (url(other.svg#p))",
        ),
        (
            "huge.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" width="1e9" height="10"/>',
            "huge.svg cannot be printed: its size (1e9 in width, height or viewBox) is beyond 100000",
        ),
        (
            "broken.svg",
            b"<svg><g></svg>",
            "broken.svg cannot be printed: not well-formed SVG (mismatched tag at line 1 of the logo)",
        ),
        ("html.svg", b"<html/>", "html.svg cannot be printed: its root element is <html>, not <svg>"),
    ],
)
def test_a_logo_that_cannot_be_printed_is_an_error_at_the_logo_line(clinics, name, data, message):
    path, text = with_logo(clinics, name, data)
    [found] = problems(path)
    assert found.startswith(f"{line(text, 'logo =')}: logo: {message}"), found


def test_a_truncated_png_is_refused_where_weasyprint_is_loaded():
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES on import (render processes load
    clinics' logos with it set)."""
    from PIL import ImageFile

    import generator.pdf  # noqa: F401  imports WeasyPrint

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    data = png(300, 200)
    for cut in (data[:-200], data[: len(data) // 2], data[:-12]):  # the end of IDAT, its middle, IEND
        with pytest.raises(LogoError, match="the PNG cannot be decoded .*: it is truncated or damaged"):
            printable_png(cut)
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF  # a flipped byte: the chunk's checksum no longer matches
    with pytest.raises(LogoError, match="it is truncated or damaged"):
        printable_png(bytes(damaged))


def test_a_sound_svg_with_inner_references_is_accepted(clinics):
    inner = (
        '<defs><linearGradient id="g"/></defs><rect style="fill: url(#g)"/><use href="#g"/>'
        "<style>rect { fill: url( '#g' ) }</style>"
    )
    path, _ = with_logo(clinics, "fine.svg", SVG.format(inner).encode())
    assert load_clinic(path, KNOWN).logo.name == "fine.svg"


def test_a_large_png_logo_is_printed_scaled_down_the_same_way_every_time(project_copy, tmp_path):
    data = png(2400, 1200)
    small = printable_png(data)
    printable_png.cache_clear()
    assert printable_png(data) == small  # deterministic: the same bytes every build
    with Image.open(io.BytesIO(small)) as image:
        assert image.size == (PRINT_PIXELS, PRINT_PIXELS // 2)
    modest = png(300, 150)
    assert printable_png(modest) == modest  # small enough: embedded as it is

    (project_copy.clinics / "example-logo.png").write_bytes(data)
    toml = project_copy.clinics / "example.toml"
    toml.write_text(toml.read_text().replace('"example-logo.svg"', '"example-logo.png"'))
    [result] = build(
        project_copy, plan(load_clinics(project_copy, ["example"]), ["en"], ["iv"], ["standard"]), tmp_path / "out"
    )
    assert result.ok, result.message
    listing = subprocess.run(["pdfimages", "-list", str(result.path)], capture_output=True, text=True).stdout
    sizes = [row.split()[3:5] for row in listing.splitlines()[2:]]
    assert sizes == [["600", "300"]], listing
    # the PDF holds the scaled-down pixels themselves (WeasyPrint does not read the file again)
    subprocess.run(["pdfimages", "-png", str(result.path), str(tmp_path / "img")], check=True)
    with Image.open(tmp_path / "img-000.png") as embedded, Image.open(io.BytesIO(small)) as expected:
        assert embedded.convert("RGB").tobytes() == expected.convert("RGB").tobytes()


# --- one broken clinic file -------------------------------------------------------------


def test_a_broken_clinic_does_not_stop_the_others_in_process(project_copy):
    toml = project_copy.clinics / "example.toml"
    toml.write_text(toml.read_text().replace("emergency_number =", "emergancy_number ="))
    broken: list[ConfigError] = []
    assert [c.id for c in load_clinics(project_copy, (), broken)] == ["thameside"]
    assert [e.path for e in broken] == [toml] and "emergancy_number" in str(broken[0])
    with pytest.raises(ConfigError, match="emergancy_number"):  # without a list: raised
        load_clinics(project_copy)
    with pytest.raises(ConfigError, match="emergancy_number"):  # nothing else to build: raised
        load_clinics(project_copy, ["example"], [])


def test_a_broken_clinic_fails_alone_with_exit_2_and_check_goes_on(project_copy):
    toml = project_copy.clinics / "example.toml"
    text = toml.read_text().replace("emergency_number =", "emergancy_number =")
    # a copy of the example, still with its 555 numbers, beside it
    write(
        project_copy.clinics,
        [
            ('"zh_Hans", "vi", "ko", "tl", "ru", "ar", "fr", "ht", "pt_BR", "hi"]\nroutes', '"fr"]\nroutes'),
            ("large_print = true", "large_print = false"),
            (
                'bilingual = ["es", "zh_Hans", "vi", "ko", "tl", "ru", "ar", "fr", "ht", "pt_BR", "hi"]',
                "bilingual = []",
            ),
        ],
    )
    toml.write_text(text)
    where = f"content/clinics/example.toml:{line(text, 'emergancy_number')}: error: unknown key 'emergancy_number'"
    copied = f"content/clinics/berlin.toml:{line(EXAMPLE, 'phone = ')}: warning: contact.phone: '503-555-0142'"
    proc = handouts(project_copy, "build", "--language", "fr", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert where in proc.stderr and copied in proc.stderr
    assert "not built: the handouts of example (errors in the clinic's file, above)" in proc.stderr
    assert (project_copy.root / "handouts/thameside/fr/iv.pdf").is_file()
    assert (project_copy.root / "handouts/berlin/fr/iv.pdf").is_file()
    assert not (project_copy.root / "handouts/example").exists()

    proc = handouts(project_copy, "check", "--language", "fr")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert where in proc.stderr and copied in proc.stderr
    assert re.search(r"handouts check: [1-9]\d* error\(s\), \d+ warning\(s\)", proc.stdout), proc.stdout


# --- any value anywhere: a clinic or a ConfigError, never another exception ----------------


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # \uXXXX escapes are TOML's too (a lone surrogate is invalid TOML)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)  # an int, or a float: nan and inf are spelt as in TOML


def toml_text(data: dict, prefix: str = "") -> str:
    """A small TOML writer: a table's plain values, then its tables as [headers]."""
    plain = "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in data.items() if not isinstance(v, dict))
    tables = "".join(
        f"\n[{prefix}{json.dumps(k)}]\n" + toml_text(v, f"{prefix}{json.dumps(k)}.")
        for k, v in data.items()
        if isinstance(v, dict)
    )
    return plain + tables


SCALARS = (
    st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "",
            "es",
            "zh-CN",
            "{file:>9}",
            "https://x.example/{file}",
            "#000000",
            "iv",
            "a4",
            "example-logo.svg",
            "../x.svg",
            "\u202e",
        ]
    )
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
EXAMPLE_DATA = tomllib.loads(EXAMPLE)
KEYS = (
    [(key,) for key in EXAMPLE_DATA]
    + [(table, key) for table, values in EXAMPLE_DATA.items() if isinstance(values, dict) for key in values]
    + [("protocol", "iv", key) for key in EXAMPLE_DATA["protocol"]["iv"]]
    + [("new",), ("contact", "new")]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(where=st.sampled_from(KEYS), value=VALUES | st.none())
def test_any_value_anywhere_loads_or_is_a_config_error(clinics, where, value):
    data = copy.deepcopy(EXAMPLE_DATA)
    node = data
    for part in where[:-1]:
        node = node[part]
    if value is None:
        node.pop(where[-1], None)  # the key left out
    else:
        node[where[-1]] = value
    path = clinics / "berlin.toml"
    path.write_text(toml_text(data), "utf-8")
    try:
        load_clinic(path, KNOWN)
    except ConfigError as exc:
        assert str(exc) and "Traceback" not in str(exc)


# --- handouts new-clinic and handouts doctor ------------------------------------------------

BERLIN = NewClinic(
    id="berlin",
    name="Praxis Berlin Mitte",
    phone="+49 30 1234 5678",
    after_hours_phone="+49 30 1234 5679",
    emergency_number="112",
    crisis_line="0800 111 0 111",
    paper="a4",
    languages=("en", "fr"),
    routes=("iv", "oral"),
)


def test_new_clinic_writes_a_file_that_needs_only_the_protocol(tmp_path):
    folder = tmp_path / "clinics"
    files, todo = new_clinic(folder, BERLIN, KNOWN)
    assert files == [folder / "berlin.toml", folder / "berlin-logo.svg"]
    text = files[0].read_text("utf-8")
    header = line(text, "[protocol.iv]")
    assert [p for p in todo if ": protocol.iv:" in p] == [
        f"{files[0]}:{header}: error: protocol.iv: missing; [protocol.iv] needs {what}"
        for what in (
            "session_hours or session_minutes",
            "fasting_hours or fasting_minutes",
            "clear_liquids_hours or clear_liquids_minutes",
            "stay_hours or stay_minutes",
        )
    ]
    assert len(todo) == 11 and all("protocol." in p or "poison_control" in p for p in todo), todo
    # filled in, it loads as written, with no example values to warn about
    filled = re.sub(
        r"(?m)^# (\w+) = \?", lambda m: f"{m.group(1)} = " + ("true" if m.group(1) == "driver_required" else "3"), text
    )
    filled = filled.replace('# poison_control = "?"', 'poison_control = "030 19240"')
    files[0].write_text(filled, "utf-8")
    clinic = load_clinic(files[0], KNOWN)
    assert (clinic.name, clinic.phone, clinic.crisis_line, clinic.paper, clinic.languages) == (
        "Praxis Berlin Mitte",
        "+49 30 1234 5678",
        "0800 111 0 111",
        "A4",
        ("en", "fr"),
    )
    assert clinic.protocol["oral"].fasting_minutes == 180 and clinic.warnings == ()
    with pytest.raises(UsageError, match="exists already"):
        new_clinic(folder, BERLIN, KNOWN)
    with pytest.raises(UsageError, match="'index.html' is not a clinic id"):
        new_clinic(folder, replace(BERLIN, id="index.html"), KNOWN)


def test_new_clinic_on_the_command_line(project_copy):
    proc = handouts(project_copy, "new-clinic", "berlin", "--name", "Praxis Berlin")
    assert proc.returncode == 2
    assert "error: new-clinic: give --phone (the clinic's phone number)" in proc.stderr
    assert not (project_copy.clinics / "berlin.toml").exists()
    proc = handouts(
        project_copy,
        "new-clinic",
        "berlin",
        "--name",
        "Praxis {Berlin}",
        "--phone",
        "030 1",
        "--after-hours-phone",
        "030 2",
        "--emergency-number",
        "112",
        "--crisis-line",
        "116 123",
        "--paper",
        "a4",
        "--language",
        "fr",
        "--route",
        "iv",
    )
    assert proc.returncode == 0, proc.stderr
    assert "wrote content/clinics/berlin.toml, content/clinics/berlin-logo.svg" in proc.stdout
    assert "content/clinics/berlin.toml:3: error: name: '{Berlin}' looks like a placeholder" in proc.stdout


def test_doctor_compares_packages_with_the_lock(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "jinja2==0.0.1 \\\n    --hash=sha256:00\ncolorama==0.4.6 ; sys_platform == 'win32' \\\n"
        f"babel=={importlib.metadata.version('babel')} \\\n"
    )
    assert locked_versions(lock) == {"jinja2": "0.0.1", "babel": importlib.metadata.version("babel")}
    [check] = package_checks(lock)
    assert not check.ok and check.what == f"jinja2 {importlib.metadata.version('jinja2')}, the lock has 0.0.1"
    assert "make .venv/.installed" in check.fix


def test_doctor_names_the_package_of_each_missing_tool(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no tool is found
    checks = {c.what.split()[0]: c for c in tool_checks()}
    assert not checks["msgfmt"].ok and checks["msgfmt"].fix == "sudo apt-get install gettext"
    assert checks["qpdf"].fix == "sudo apt-get install qpdf"


def test_doctor_on_the_command_line(project):
    proc = run_cli(project, "doctor")
    assert proc.returncode == 0, proc.stdout
    assert "ok   font Noto Sans CJK SC for Simplified Chinese: " in proc.stdout
    assert "ok   every Python package as in requirements.lock" in proc.stdout
    assert proc.stdout.endswith("handouts doctor: all well\n")

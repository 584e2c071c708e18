"""One catalog fault each: the handout is not built, the message names path:line and msgid,
and the previous PDF stays byte-identical."""
import io
import re
import subprocess

import pytest
from babel.messages.pofile import read_po

from generator.gates import entry_problems

from .conftest import pdf_text, po_bytes, run_cli

PO = "locales/es/LC_MESSAGES/messages.po"


def replace_entry(text: str, msgid: str, new_msgstr: str) -> str:
    """The catalog text with one entry's translation replaced (new_msgstr is a PO string)."""
    catalog = read_po(io.BytesIO(text.encode("utf-8")))
    assert catalog.get(msgid) is not None, msgid
    catalog.get(msgid).string = new_msgstr[1:-1].replace('\\"', '"')
    return po_bytes(catalog).decode("utf-8")


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


FAULTS = {
    # name: (route, edit(po_text) -> po_text, expected message regex; {line} is the msgid's line)
    "fuzzy unit": ("iv", lambda t: t.replace('msgid "Chest pain."', '#, fuzzy\nmsgid "Chest pain."'),
                   r"untranslated or fuzzy.*\n.*content/shared/get-help\.md:\d+: 'Chest pain\.'"),
    "fuzzy header": ("iv", lambda t: t.replace('msgid ""\nmsgstr ""\n"Project', '#, fuzzy\nmsgid ""\nmsgstr ""\n"Project', 1),
                     r"messages\.po:\d+: error: the catalog header is marked fuzzy"),
    "missing Plural-Forms": ("iv", lambda t: re.sub(r'"Plural-Forms:[^"]*"\n', "", t),
                             r"messages\.po: error: the header has no Plural-Forms; for 'es' it is"),
    "wrong Plural-Forms count": ("iv", lambda t: t.replace("nplurals=2; plural=(n != 1);", "nplurals=4; plural=(n > 2 ? 3 : n);"),
                                 r"messages\.po:\d+: error: Plural-Forms is wrong for 'es': it says nplurals=4, "
                                 r"but this language has 2 or 3 plural forms"),
    # the right count with a formula that prints "6 hora"
    "wrong Plural-Forms formula": ("iv", lambda t: t.replace("plural=(n != 1);", "plural=(n == 1);"),
                                   r"messages\.po:\d+: error: Plural-Forms is wrong for 'es': for n = 0 it "
                                   r"chooses form 0, but this language uses form 1 \(GNU gettext\)"),
    "plural entry with too many forms": (
        "iv", lambda t: t.replace('msgstr[1] "%(num)s horas"', 'msgstr[1] "%(num)s horas"\nmsgstr[2] "%(num)s horas"'),
        r"messages\.po:\d+: error: cannot parse the catalog: msg has more translations than num_plurals"),
    "plural entry with too few forms": (
        "iv", lambda t: t.replace('\nmsgstr[1] "%(num)s horas"', ''),
        r"messages\.po:\d+: error: this plural entry has 1 forms, the catalog's Plural-Forms says 2"),
    "placeholder missing": ("iv", lambda t: replace_entry(
        t, "Do not eat any food for {fasting_time} before your session.", '"No coma nada antes de su sesión."'),
        r"messages\.po:\d+: error: placeholder missing from the translation: \{fasting_time\} \(msgid 'Do not eat"),
    "placeholder renamed": ("iv", lambda t: replace_entry(
        t, "Do not eat any food for {fasting_time} before your session.", '"No coma nada durante {fasting_hours} antes."'),
        r"placeholder missing from the translation: \{fasting_time\}.*\n.*placeholder added or renamed in the translation: \{fasting_hours\}"),
    "format field renamed": ("iv", lambda t: replace_entry(t, "Page %(page)s of %(pages)s", '"Página %(pagina)s de %(pages)s"'),
                             r"format field missing from the translation: %\(page\)s"),
    "emphasis removed": ("iv", lambda t: replace_entry(
        t, "Most side effects are mild. They often pass within a few hours.\n"
           "**If you feel unwell during your session, tell the staff right away.**",
        '"Los efectos secundarios son leves. Si se siente mal, avise al personal de inmediato."'),
        r"Markdown emphasis changed: \{'strong': 1\} in the source, none in the translation"),
    "list structure added": ("iv", lambda t: replace_entry(t, "Chest pain.", '"- Dolor en el pecho."'),
                             r"Markdown structure changed"),
    "number changed": ("intranasal", lambda t: replace_entry(
        t, "Using a steroid or decongestant nose spray? Use it at least 1 hour before your session.",
        '"¿Usa un aerosol nasal con esteroides o descongestionante? Úselo al menos 10 horas antes de su sesión."'),
        r"numbers differ: \['1'\] in the source, \['10'\] in the translation"),
    "raw HTML": ("iv", lambda t: replace_entry(t, "Chest pain.", '"<b>Dolor</b> en el pecho."'),
                 r"raw HTML in the translation"),
    "msgfmt --check (duplicate entry)": ("iv", lambda t: t + '\nmsgid "Chest pain."\nmsgstr "Dolor."\n',
                                         r"messages\.po:\d+: error: msgfmt: duplicate message definition"),
}


@pytest.fixture
def good_build(project_copy):
    """Build two handouts with the shipped catalog, to see that a fault leaves them untouched."""
    out = project_copy.root / "handouts"
    for route in ("iv", "intranasal"):
        assert run_cli(project_copy, "build", "--language", "es", "--route", route).returncode == 0
    return project_copy, out


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_stops_the_handout_names_the_place_and_keeps_the_previous_pdf(good_build, fault):
    project, out = good_build
    route, edit, expected = FAULTS[fault]
    po = project.root / PO
    po.write_text(edit(po.read_text("utf-8")), "utf-8")
    before = (out / f"example/es/{route}.pdf").read_bytes()
    proc = run_cli(project, "build", "--language", "es", "--route", route)
    assert proc.returncode == 1, proc.stderr
    assert re.search(expected, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / f"example/es/{route}.pdf").read_bytes() == before
    check = run_cli(project, "check")
    assert check.returncode == 1 and re.search(expected, check.stderr), check.stderr


def test_error_names_the_exact_line_of_the_broken_entry(good_build):
    project, _ = good_build
    po = project.root / PO
    text = replace_entry(po.read_text("utf-8"), "Chest pain.", '"<i>Dolor</i> en el pecho."')
    po.write_text(text, "utf-8")
    proc = run_cli(project, "build", "--language", "es", "--route", "iv")
    line = line_of(text, 'msgid "Chest pain."')
    assert f"{PO}:{line}: error: raw HTML" in proc.stderr, proc.stderr


def test_glyph_without_a_font_fails_the_handout_naming_language_and_code_point(good_build):
    project, out = good_build
    po = project.root / PO
    po.write_text(replace_entry(po.read_text("utf-8"), "Chest pain.", '"Dolor en el pecho \ue000."'), "utf-8")
    before = (out / "example/es/iv.pdf").read_bytes()
    proc = run_cli(project, "build", "--language", "es", "--route", "iv")
    assert proc.returncode == 1
    assert re.search(r"example/es/iv.*\n.*no font covers U\+E000 in this 'es' handout", proc.stderr), proc.stderr
    assert (out / "example/es/iv.pdf").read_bytes() == before
    check = run_cli(project, "check")
    assert check.returncode == 1
    assert re.search(r"messages\.po:\d+: error: no font covers U\+E000 .* in 'es' \(msgid 'Chest pain\.'\)",
                     check.stderr), check.stderr


def test_a_stale_mo_is_never_used(good_build):
    project, out = good_build
    po = project.root / PO
    catalog = read_po(po.open("rb"))
    catalog.get("Chest pain.").string = "TEXTO VIEJO DEL MO"
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), "-"], check=True,
                   input=po_bytes(catalog))
    assert run_cli(project, "build", "--language", "es", "--route", "iv").returncode == 0
    text = pdf_text(out / "example/es/iv.pdf")
    assert "TEXTO VIEJO" not in text and "Dolor en el pecho" in text


@pytest.mark.parametrize("source,translation,problem", [
    ("See [the guide](https://example.org/a).", "Vea [la guía](https://example.org/b).", "links changed"),
    ("See [the guide](https://example.org/a).", "Vea la guía.", "links changed"),
    ("Take 5 minutes.", "Tome 50 minutos.", "numbers differ"),
    ("Take 5 minutes.", "Tome 5 minutos.", None),
    ("Call {clinic_phone}.", "Llame al {clinic_phone}.", None),
    ("*Rest* now.", "Descanse ahora.", "emphasis changed"),
])
def test_entry_checks(source, translation, problem):
    found = entry_problems(source, translation)
    if problem is None:
        assert found == []
    else:
        assert any(problem in f for f in found), found

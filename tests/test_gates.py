"""One catalog fault each: the handout is not built, the message names path:line and msgid,
and the previous PDF stays byte-identical."""

import io
import re
import shutil
import subprocess

import pytest
from babel.messages.pofile import read_po

from generator.build import BuildOptions, build, load_clinics, plan
from generator.check import check
from generator.gates import entry_problems, format_string_problems

from .conftest import handouts, pdf_text, po_bytes

PO = "locales/es/LC_MESSAGES/messages.po"


def replace_entry(text: str, msgid: str, new_msgstr: str) -> str:
    """The catalog text with one entry's translation replaced (new_msgstr is a PO string)."""
    catalog = read_po(io.BytesIO(text.encode("utf-8")))
    assert catalog.get(msgid) is not None, msgid
    catalog.get(msgid).string = new_msgstr[1:-1].replace('\\"', '"')
    return po_bytes(catalog).decode("utf-8")


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


FAULTS = {
    # name: (route, edit(po_text) -> po_text, expected message regex; {line} is the msgid's line)
    "fuzzy unit": (
        "iv",
        lambda t: t.replace('msgid "Chest pain."', '#, fuzzy\nmsgid "Chest pain."'),
        r"untranslated or fuzzy.*\n.*content/shared/get-help\.md:\d+: 'Chest pain\.'",
    ),
    "fuzzy header": (
        "iv",
        lambda t: t.replace('msgid ""\nmsgstr ""\n"Project', '#, fuzzy\nmsgid ""\nmsgstr ""\n"Project', 1),
        r"messages\.po:\d+: error: the catalog header is marked fuzzy",
    ),
    "missing Plural-Forms": (
        "iv",
        lambda t: re.sub(r'"Plural-Forms:[^"]*"\n', "", t),
        r"messages\.po: error: the header has no Plural-Forms; for 'es' it is",
    ),
    "wrong Plural-Forms count": (
        "iv",
        lambda t: t.replace("nplurals=2; plural=(n != 1);", "nplurals=4; plural=(n > 2 ? 3 : n);"),
        r"messages\.po:\d+: error: Plural-Forms is wrong for 'es': it says nplurals=4, "
        r"but this language has 2 or 3 plural forms",
    ),
    # the right count with a formula that prints "6 hora"
    "wrong Plural-Forms formula": (
        "iv",
        lambda t: t.replace("plural=(n != 1);", "plural=(n == 1);"),
        r"messages\.po:\d+: error: Plural-Forms is wrong for 'es': for n = 0 it "
        r"chooses form 0, but this language uses form 1 \(GNU gettext\)",
    ),
    "plural entry with too many forms": (
        "iv",
        lambda t: t.replace('msgstr[1] "%(num)s horas"', 'msgstr[1] "%(num)s horas"\nmsgstr[2] "%(num)s horas"'),
        r"messages\.po:\d+: error: cannot parse the catalog: msg has more translations than num_plurals",
    ),
    "plural entry with too few forms": (
        "iv",
        lambda t: t.replace('\nmsgstr[1] "%(num)s horas"', ""),
        r"messages\.po:\d+: error: this plural entry has 1 forms, the catalog's Plural-Forms says 2",
    ),
    "placeholder missing": (
        "iv",
        lambda t: replace_entry(
            t, "Do not eat any food for {fasting_time} before your session.", '"No coma nada antes de su sesión."'
        ),
        r"messages\.po:\d+: error: placeholder missing from the translation: \{fasting_time\} \(msgid 'Do not eat",
    ),
    "placeholder renamed": (
        "iv",
        lambda t: replace_entry(
            t,
            "Do not eat any food for {fasting_time} before your session.",
            '"No coma nada durante {fasting_hours} antes."',
        ),
        r"placeholder missing from the translation: \{fasting_time\}.*\n.*placeholder added or renamed in the translation: \{fasting_hours\}",
    ),
    "format field renamed": (
        "iv",
        lambda t: replace_entry(t, "Page %(page)s of %(pages)s", '"Página %(pagina)s de %(pages)s"'),
        r"format field missing from the translation: %\(page\)s",
    ),
    "emphasis removed": (
        "iv",
        lambda t: replace_entry(
            t,
            "Most side effects are mild. They often pass within a few hours.\n"
            "**If you feel unwell during your session, tell the staff right away.**",
            '"Los efectos secundarios son leves. Si se siente mal, avise al personal de inmediato."',
        ),
        r"Markdown emphasis changed: \{'strong': 1\} in the source, none in the translation",
    ),
    "list structure added": (
        "iv",
        lambda t: replace_entry(t, "Chest pain.", '"- Dolor en el pecho."'),
        r"Markdown structure changed",
    ),
    "number changed": (
        "intranasal",
        lambda t: replace_entry(
            t,
            "Using a steroid or decongestant nose spray? Use it at least 1 hour before your session.",
            '"¿Usa un aerosol nasal con esteroides o descongestionante? Úselo al menos 10 horas antes de su sesión."',
        ),
        r"numbers differ: \['1'\] in the source, \['10'\] in the translation",
    ),
    "raw HTML": (
        "iv",
        lambda t: replace_entry(t, "Chest pain.", '"<b>Dolor</b> en el pecho."'),
        r"raw HTML in the translation",
    ),
    "msgfmt --check (duplicate entry)": (
        "iv",
        lambda t: t + '\nmsgid "Chest pain."\nmsgstr "Dolor."\n',
        r"messages\.po:\d+: error: msgfmt: duplicate message definition",
    ),
}


@pytest.fixture
def previous(project_copy, built_dir, monkeypatch):
    """A project copy whose handouts/ holds the standard handouts built once per session (so
    that a fault can be seen to leave them untouched), run from its folder as the command is."""
    shutil.copytree(built_dir, project_copy.root / "handouts")
    monkeypatch.chdir(project_copy.root)
    return project_copy, project_copy.root / "handouts"


def build_es(project, out, route: str, force: bool = False):
    """The Spanish handout of one route, built in this process as `handouts build` does."""
    [result] = build(
        project, plan(load_clinics(project, ["example"]), ["es"], [route], ["standard"]), out, BuildOptions(force=force)
    )
    return result


def reported(project) -> str:
    """What `handouts check --language es` prints on stderr (its errors and warnings): the
    broken catalog and every handout printed in it; fails if no error."""
    findings = check(project, languages=["es"])
    assert any(f.severity == "error" for f in findings), [f.text for f in findings]
    return "\n".join(f.text for f in findings if f.severity != "note")


def break_catalog(project, fault: str) -> tuple[str, str]:
    route, edit, expected = FAULTS[fault]
    po = project.root / PO
    po.write_text(edit(po.read_text("utf-8")), "utf-8")
    return route, expected


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_stops_the_handout_names_the_place_and_keeps_the_previous_pdf(previous, fault):
    project, out = previous
    route, expected = break_catalog(project, fault)
    before = (out / f"example/es/{route}.pdf").read_bytes()
    result = build_es(project, out, route)
    assert (result.ok, result.status) == (False, "failed"), result
    assert re.search(expected, result.message), result.message
    assert "Traceback" not in result.message
    assert (out / f"example/es/{route}.pdf").read_bytes() == before
    stderr = reported(project)
    assert re.search(expected, stderr), stderr


#: one fault of each kind through the command itself: a missing translation, a catalog that
#: cannot be used at all, and one altered entry (the rest are asserted in process above)
CLI_FAULTS = ["fuzzy unit", "wrong Plural-Forms formula", "placeholder renamed"]


@pytest.mark.parametrize("fault", CLI_FAULTS)
def test_the_command_exits_1_with_the_fault_and_keeps_the_previous_pdf(previous, fault):
    project, out = previous
    route, expected = break_catalog(project, fault)
    before = (out / f"example/es/{route}.pdf").read_bytes()
    proc = handouts(project, "build", "--language", "es", "--route", route, "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 1, proc.stderr
    assert re.search(expected, proc.stderr), proc.stderr
    assert "Traceback" not in proc.stderr
    assert (out / f"example/es/{route}.pdf").read_bytes() == before
    check_proc = handouts(project, "check", "--language", "es")
    assert check_proc.returncode == 1 and re.search(expected, check_proc.stderr), check_proc.stderr


def test_error_names_the_exact_line_of_the_broken_entry(previous):
    project, out = previous
    po = project.root / PO
    text = replace_entry(po.read_text("utf-8"), "Chest pain.", '"<i>Dolor</i> en el pecho."')
    po.write_text(text, "utf-8")
    result = build_es(project, out, "iv")
    line = line_of(text, 'msgid "Chest pain."')
    assert f"{PO}:{line}: error: raw HTML" in result.message, result.message


def test_glyph_without_a_font_fails_the_handout_naming_language_and_code_point(previous):
    """Found only once the handout is rendered: through the command, end to end."""
    project, out = previous
    po = project.root / PO
    po.write_text(replace_entry(po.read_text("utf-8"), "Chest pain.", '"Dolor en el pecho \ue000."'), "utf-8")
    before = (out / "example/es/iv.pdf").read_bytes()
    proc = handouts(project, "build", "--language", "es", "--route", "iv", "--edition", "standard", "--jobs", "1")
    assert proc.returncode == 1
    assert re.search(r"example/es/iv.*no font covers U\+E000 in this 'es' handout", proc.stderr), proc.stderr
    assert (out / "example/es/iv.pdf").read_bytes() == before
    # narrowed to the catalog at fault (the whole project would compose 164 handouts)
    check_proc = handouts(project, "check", "--language", "es")
    assert check_proc.returncode == 1
    assert re.search(
        r"messages\.po:\d+: error: no font covers U\+E000 .* in 'es' \(msgid 'Chest pain\.'\)", check_proc.stderr
    ), check_proc.stderr


def test_a_stale_mo_is_never_used(previous):
    """A .mo beside the catalog, compiled from other translations (a content unit and a
    template string), changes nothing: the handout, rendered again, prints the .po's."""
    project, out = previous
    po = project.root / PO
    catalog = read_po(po.open("rb"))
    catalog.get("Chest pain.").string = "TEXTO VIEJO DEL MO"
    catalog.get("Your next appointment").string = "CITA VIEJA DEL MO"
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), "-"], check=True, input=po_bytes(catalog))
    result = build_es(project, out, "iv", force=True)
    assert (result.ok, result.status) == (True, "built"), result.message  # rendered now, with the .mo there
    text = pdf_text(out / "example/es/iv.pdf")
    assert "VIEJ" not in text
    assert "Dolor en el pecho" in text and "Su próxima cita" in text


@pytest.mark.parametrize(
    "source,translation,problem",
    [
        ("See [the guide](https://example.org/a).", "Vea [la guía](https://example.org/b).", "links changed"),
        ("See [the guide](https://example.org/a).", "Vea la guía.", "links changed"),
        ("Take 5 minutes.", "Tome 50 minutos.", "numbers differ"),
        ("Take 5 minutes.", "Tome 5 minutos.", None),
        ("Call {clinic_phone}.", "Llame al {clinic_phone}.", None),
        ("*Rest* now.", "Descanse ahora.", "emphasis changed"),
    ],
)
def test_entry_checks(source, translation, problem):
    found = entry_problems(source, translation)
    if problem is None:
        assert found == []
    else:
        assert any(problem in f for f in found), found


# Faults a careless or hostile translation brings: characters that change or hide what is
# printed, and strings that cannot be filled in. Each is an error naming the code point.
@pytest.mark.parametrize(
    "translation, problem",
    [
        ("Llame al \u202e{clinic_phone}\u202c.", "bidirectional control character U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("Llame al \u202a{clinic_phone}.", "bidirectional control character U+202A LEFT-TO-RIGHT EMBEDDING"),
        ("Llame al \u2066{clinic_phone}.", "unbalanced bidirectional isolate: 1 opened"),
        ("Llame al {clinic_phone}\u2069.", "unbalanced bidirectional isolate: U+2069 POP DIRECTIONAL ISOLATE"),
        ("Llame al\u200b {clinic_phone}.", "invisible format character U+200B ZERO WIDTH SPACE"),
        ("Llame al\u00ad {clinic_phone}.", "invisible format character U+00AD SOFT HYPHEN"),
        ("Llame al\x07 {clinic_phone}.", "invisible control character U+0007"),
        ("Llame al\x85 {clinic_phone}.", "invisible control character U+0085"),
        ("Llame al {clinic_phone} 5\u0338.", "combining mark U+0338 COMBINING LONG SOLIDUS OVERLAY on the digit '5'"),
        ("Llame al {clinic\u0301_phone}.", "combining mark U+0301 COMBINING ACUTE ACCENT inside the placeholder"),
        ("Llame al {رقم_العيادة}.", "'{رقم_العيادة}' is not a placeholder"),
        ("Llame al \u2066{clinic_phone}\u2069 5.", None),  # a balanced isolate is harmless
        ("फ़ोन करें {clinic_phone}\u200d 5.", None),  # a joiner some scripts need
        ("اتصل بالرقم {clinic_phone} 5.", None),
    ],
)
def test_character_gates(translation, problem):
    found = entry_problems("Call {clinic_phone} 5.", translation)
    if problem is None:
        assert found == []
    else:
        assert any(problem in f for f in found), found


@pytest.mark.parametrize(
    "translation, problem",
    [
        ("Versión 100% %(version)s", "'% %' is not a format field here"),
        ("Versión %(version)s %", "'%' is not a format field here"),
        ("Versión %(version)r", "'%(version)r' is not a format field here"),
        ("{% raw %}Versión %(version)s", "'% r' is not a format field here"),
        ("Versión %(versión)s", "cannot be filled in (KeyError"),
        ("Versión %(version)s (%%)", None),
    ],
)
def test_template_strings_must_survive_formatting(translation, problem):
    found = entry_problems("Version %(version)s", translation, formatted=True)
    if problem is None:
        assert found == []
    else:
        assert any(problem in f for f in found), found
    # content units are never %-formatted: a percent sign is fine there
    assert (
        format_string_problems("Stay calm.", translation.replace("%(version)s", "")) != []
        or problem is None
        or "KeyError" in problem
    )
    assert entry_problems("Stay calm.", "Mantenga la calma %.") == []


def _edit_catalog(project, msgid: str, msgstr: str) -> int:
    """Set one es translation in a project copy; returns the entry's line."""
    po = project.root / PO
    text = replace_entry(po.read_text("utf-8"), msgid, '"' + msgstr.replace('"', '\\"') + '"')
    po.write_text(text, "utf-8")
    return read_po(io.BytesIO(text.encode("utf-8"))).get(msgid).lineno


def test_an_override_in_a_translation_fails_its_handouts_naming_line_msgid_and_code_point(project_copy):
    from generator.build import compose_job, load_clinics, plan
    from generator.content import load_content
    from generator.errors import BrokenTranslation
    from generator.translation import Translators

    msgid = "You can also call {emergency_number}."
    line = _edit_catalog(project_copy, msgid, "También puede llamar al \u202e{emergency_number}\u202c.")
    translators = Translators(project_copy.locales)
    problems = [str(p) for p in translators.get("es").problems[msgid]]
    assert any(
        re.search(
            rf"messages\.po:{line}: error: bidirectional control character U\+202E "
            rf"RIGHT-TO-LEFT OVERRIDE .*\(msgid 'You can also call \{{emergency_number\}}\.'\)",
            p,
        )
        for p in problems
    ), problems
    job = plan(load_clinics(project_copy, ["example"]), ["es"], ["iv"], ["standard"])[0]
    with pytest.raises(BrokenTranslation, match="U\\+202E"):
        compose_job(job, load_content(project_copy.content), translators, project_copy.templates)


def test_a_blank_translation_counts_as_untranslated(project_copy):
    from generator import i18n
    from generator.build import compose_job, load_clinics, plan
    from generator.content import load_content
    from generator.errors import CatalogError
    from generator.translation import Translators

    before = {row.language: row for row in i18n.stats(project_copy)}["es"]
    _edit_catalog(project_copy, "Chest pain.", "\u00a0\u200b")
    after = {row.language: row for row in i18n.stats(project_copy)}["es"]
    assert (after.translated, after.untranslated) == (before.translated - 1, before.untranslated + 1)
    job = plan(load_clinics(project_copy, ["example"]), ["es"], ["iv"], ["standard"])[0]
    content, translators = load_content(project_copy.content), Translators(project_copy.locales)
    with pytest.raises(CatalogError, match=r"untranslated or fuzzy.*\n.*get-help\.md:\d+: 'Chest pain\.'"):
        compose_job(job, content, translators, project_copy.templates)
    doc = compose_job(job, content, translators, project_copy.templates, allow_incomplete=True)
    assert '<mark class="untranslated" lang="en">Chest pain.</mark>' in doc.html


def test_a_placeholder_in_arabic_script_is_an_error_not_a_crash(project_copy):
    """msgfmt quotes the broken name byte by byte; its output is read leniently."""
    from generator.gates import msgfmt_problems
    from generator.translation import Translators

    msgid = "Call {clinic_phone}. At night and on weekends, call {after_hours_phone}. Call if you have:"
    line = _edit_catalog(
        project_copy, msgid, "Llame al {رقم_العيادة}. De noche, llame al {after_hours_phone}. Llame si tiene:"
    )
    found = msgfmt_problems(project_copy.root / PO)
    assert any("msgfmt --check" in p.message and p.line for p in found), found
    problems = [str(p) for p in Translators(project_copy.locales).get("es").problems[msgid]]
    assert any(
        re.search(rf"messages\.po:{line}: error: '\{{رقم_العيادة\}}' is not a placeholder", p) for p in problems
    ), problems


def test_a_lone_percent_in_a_template_string_fails_only_that_language(project_copy):
    line = _edit_catalog(project_copy, "Clinic", "Clínica 100%")
    proc = handouts(
        project_copy,
        "build",
        "--language",
        "es",
        "--language",
        "fr",
        "--route",
        "iv",
        "--edition",
        "standard",
        "--jobs",
        "1",
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(rf"messages\.po:{line}: error: '%' is not a format field here.*\(msgid 'Clinic'\)", proc.stderr), (
        proc.stderr
    )
    assert (project_copy.root / "handouts/example/fr/iv.pdf").is_file()
    assert not (project_copy.root / "handouts/example/es/iv.pdf").exists()


def test_a_translation_identical_to_english_is_a_warning_unless_flagged(project_copy):
    from generator.gates import entry_warnings

    po = project_copy.root / PO
    _edit_catalog(project_copy, "Chest pain.", "Chest pain.")
    catalog = read_po(po.open("rb"))
    line = catalog.get("Chest pain.").lineno
    warnings = [str(w) for w in entry_warnings(po, catalog)]
    assert any(
        re.search(
            rf"messages\.po:{line}: warning: the translation is the same as the English "
            r"source.*\(msgid 'Chest pain\.'\)",
            w,
        )
        for w in warnings
    ), warnings
    po.write_text(po.read_text("utf-8").replace('msgid "Chest pain."', '# ignore-same\nmsgid "Chest pain."'), "utf-8")
    assert not any("Chest pain." in str(w) for w in entry_warnings(po, read_po(po.open("rb"))))


@pytest.mark.parametrize(
    "translation, warned",
    [
        ("De noche llame al {after_hours_phone}. De día, al {clinic_phone}.", True),
        ("Llame al {clinic_phone}. De noche, al {after_hours_phone}.", False),
    ],
)
def test_placeholders_of_one_kind_in_another_order_are_a_warning(translation, warned):
    from generator.gates import reordered_warning

    found = reordered_warning("Call {clinic_phone}. At night, call {after_hours_phone}.", translation)
    assert bool(found) == warned
    if warned:
        assert "phone number placeholders are in another order" in found[0]


def test_check_narrowed_to_a_language_reports_that_catalog_only(project_copy):
    """`handouts check --language fr` checks the French catalog and handouts, not the Spanish."""
    _edit_catalog(project_copy, "Chest pain.", "<b>Dolor</b> en el pecho.")
    proc = handouts(project_copy, "check", "--language", "fr")
    assert proc.returncode == 0 and "raw HTML" not in proc.stderr, proc.stderr
    assert "handouts check: 0 error(s)" in proc.stdout
    proc = handouts(project_copy, "check", "--language", "fr", "--language", "es")
    assert proc.returncode == 1 and re.search(r"messages\.po:\d+: error: raw HTML", proc.stderr), proc.stderr
    proc = handouts(project_copy, "check", "--language", "xx")
    assert proc.returncode == 2 and "no catalog for language xx" in proc.stderr, proc.stderr

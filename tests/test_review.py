"""The medical translator's review (issue 16): per-unit approvals, the review packet, XLIFF.

Everything runs in process on a copy of the real project: real catalogs, real approvals
files, the real HTML of the handouts and one real (small) packet PDF read back by poppler.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from babel.messages.pofile import read_po, write_po

from generator import cli
from generator.approvals import approvals_path, read_approvals
from generator.build import compose_job, load_clinics, plan
from generator.content import load_content
from generator.errors import CatalogError
from generator.html import DRAFT_NOTICE
from generator.index import collect_entries
from generator.review import approve, build_packet, progress, write_packet
from generator.translation import Translators, available_languages, catalog_path, read_catalog
from generator.xliff import FORMATS, export, import_file

REVIEWER = "A. Translator, CMI"
DAY = dt.date(2026, 12, 1)
#: printed only in the oral handout (content/oral/after.md), safety-critical
ORAL_ONLY = "If you miss a dose, call {clinic_phone}. **Never take two doses to make up for one.**"
#: printed only in the IV handout (content/iv/expect.md), not safety-critical
IV_ONLY = (
    "In this treatment, ketamine drips slowly into a vein. It goes through a small tube called an IV "
    "line. You get it at the clinic, and staff stay with you. The whole visit takes about {session_time}."
)


def _retranslate(project, language: str, msgid: str, new: str | None = None) -> str:
    """Change one translation in the catalog (a few words), as a translator would; returns it."""
    path = catalog_path(project.locales, language)
    with path.open("rb") as fp:
        catalog = read_po(fp, locale=language)
    message = catalog[msgid]
    message.string = new if new is not None else message.string.replace(".", " ;", 1)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76)
    path.write_bytes(buffer.getvalue())
    return str(message.string)


def _draft(project, language: str, route: str) -> bool:
    """Whether the composed handout (the HTML the PDF is made from) carries the draft notice."""
    job = plan(load_clinics(project, ["example"]), [language], [route], ["standard"])[0]
    doc = compose_job(job, load_content(project.content), Translators(project.locales), project.templates)
    return DRAFT_NOTICE in doc.html


@pytest.fixture
def approved_es(project_copy):
    """Every Spanish unit approved unit by unit (review.toml stays a draft)."""
    assert IV_ONLY in (project_copy.content / "iv/expect.md").read_text()
    result = approve(project_copy, "es", REVIEWER, None, DAY)
    assert len(result.approved) > 100 and not result.changed
    return project_copy


def test_a_unit_changed_after_approval_makes_exactly_the_handouts_that_print_it_drafts(approved_es, en_es_iv):
    project = approved_es
    assert not _draft(project, "es", "iv") and not _draft(project, "es", "oral")
    assert all(left == 0 for _, left in progress(project, "es").values())

    _retranslate(project, "es", ORAL_ONLY)
    assert _draft(project, "es", "oral") and not _draft(project, "es", "iv")
    assert {route: left for route, (_, left) in progress(project, "es").items()} == {
        "iv": 0,
        "intranasal": 0,
        "im": 0,
        "oral": 1,
    }

    # the staff index says the same of the IV handout, then of it as a draft
    out = project.root / "handouts"
    shutil.copytree(en_es_iv, out)
    jobs = plan(load_clinics(project, ["example"]), ["es"], ["iv"], ["standard"])
    content = load_content(project.content)
    [entry] = collect_entries(jobs, content, Translators(project.locales), out)
    assert entry.status == "approved"
    _retranslate(project, "es", IV_ONLY)
    [entry] = collect_entries(jobs, content, Translators(project.locales), out)
    assert entry.status == "draft" and _draft(project, "es", "iv")


def test_approvals_survive_rewrapping_and_reordering(approved_es):
    path = catalog_path(approved_es.locales, "es")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="es")
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=50, sort_output=True)  # every line moves
    assert buffer.getvalue() != path.read_bytes()
    path.write_bytes(buffer.getvalue())
    assert not _draft(approved_es, "es", "iv")


def test_i18n_update_keeps_approvals_and_a_changed_source_is_a_draft_with_its_old_text(approved_es):
    project = approved_es
    block = project.content / "iv/expect.md"
    block.write_text(block.read_text().replace(IV_ONLY, IV_ONLY.replace("drips slowly", "drips")))
    assert cli.main(["--project", str(project.root), "i18n", "extract"]) == 0
    assert cli.main(["--project", str(project.root), "i18n", "update"]) == 0
    assert progress(project, "es")["iv"][1] == 1 and progress(project, "es")["oral"][1] == 0
    [unit] = build_packet(project, "es").units
    assert unit.old_source == IV_ONLY and unit.state.previous is not None and unit.state.message.fuzzy


def test_approving_from_an_outdated_packet_approves_nothing_that_changed(project_copy, capsys):
    project = project_copy
    _, [html] = write_packet(project, "es", project.root / "review", pdf=False)
    changed = _retranslate(project, "es", ORAL_ONLY)
    code = cli.main(
        ["--project", str(project.root), "i18n", "approve", "es", "--reviewer", REVIEWER, "--from-packet", str(html)]
    )
    out = capsys.readouterr().out
    assert code == 1 and "changed since the packet was written, not approved" in out, out
    records = read_approvals(approvals_path(project.locales, "es"))
    assert ORAL_ONLY not in {r.msgid for r in records.values()} and len(records) > 100
    assert _draft(project, "es", "oral") and not _draft(project, "es", "iv")
    # a new packet shows the unit as it is now; approving from it records that text
    packet, [html] = write_packet(project, "es", project.root / "review", pdf=False)
    assert [u.state.msgid for u in packet.units] == [ORAL_ONLY] and packet.units[0].translation == changed
    assert (
        cli.main(
            [
                "--project",
                str(project.root),
                "i18n",
                "approve",
                "es",
                "--reviewer",
                REVIEWER,
                "--from-packet",
                str(html),
            ]
        )
        == 0
    )
    assert not _draft(project, "es", "oral")


def test_the_packet_lists_safety_units_first_and_shows_the_previous_approved_text(approved_es):
    project = approved_es
    before = read_approvals(approvals_path(project.locales, "es"))
    _retranslate(project, "es", IV_ONLY)  # earlier in the catalog, not safety-critical
    _retranslate(project, "es", ORAL_ONLY)  # safety-critical
    packet, (html, pdf) = write_packet(project, "es", project.root / "review")
    assert [(u.state.msgid, u.safety) for u in packet.units] == [(ORAL_ONLY, True), (IV_ONLY, False)]
    previous = next(r.text for r in before.values() if r.msgid == ORAL_ONLY)
    text = " ".join(
        subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True)
        .stdout.decode()
        .split()
    )
    assert (
        text.index("SAFETY")
        < text.index("Safety-critical units")
        < text.index("If you miss a dose")
        < text.index("In this treatment, ketamine drips")
    )
    assert "Approved before" in text and " ".join(previous.split()) in text
    assert "oral: 1" not in text and re.search(r"oral \d+ 1\b", text), text[:600]
    assert "<del>" in html.read_text() and "<ins>" in html.read_text()


@pytest.mark.parametrize("format", FORMATS)
def test_xliff_import_takes_an_edit_and_refuses_a_gate_failure(project_copy, tmp_path, format):
    project = project_copy
    po = catalog_path(project.locales, "es")
    original = po.read_bytes()
    xlf = tmp_path / "es.xlf"
    assert export(project, "es", xlf, format) > 100
    text = xlf.read_text("utf-8")
    assert "SAFETY-CRITICAL" in text and "is a time phrase" in text  # safety marks, placeholder notes
    assert "Glossary: never = nunca" in text  # the TBX glossary's terms the unit holds
    assert import_file(project, "es", xlf) == 0 and po.read_bytes() == original  # as it was: nothing to take

    target = re.search(r"<target[^>]*>(Si se le olvida una dosis[^<]*)</target>", text)
    assert target is not None and "Nunca" in target.group(1)
    for name, old, new, error in [
        ("placeholder", "{clinic_phone}", "{telefono}", "placeholder missing from the translation: {clinic_phone}"),
        ("glyph", "dosis", "dosis \ue000", "no font covers U\\+E000"),  # private use: no font prints it
        ("glossary", "Nunca", "Jamás", "glossary: the source says 'never'"),  # a gate of the build only
    ]:
        broken = tmp_path / f"{name}.xlf"
        broken.write_text(text.replace(target.group(1), target.group(1).replace(old, new)), "utf-8")
        with pytest.raises(CatalogError, match=error):
            import_file(project, "es", broken)
        assert po.read_bytes() == original, name

    edited = tmp_path / "edited.xlf"
    edited.write_text(text.replace(target.group(1), target.group(1).replace("reponer", "compensar")), "utf-8")
    assert import_file(project, "es", edited) == 1
    changed = [line for line in po.read_text().splitlines() if line not in original.decode().splitlines()]
    assert changed and all("compensar" in line or "dosis" in line for line in changed), changed


#: every msgstr (and msgstr[N]) with its continuation lines
MSGSTR_RE = re.compile(r'(?m)^(msgstr(?:\[\d+\])?) ".*"\n(?:".*"\n)*')


def test_xliff_round_trip_is_byte_identical_for_every_catalog_in_both_formats(project_copy, tmp_path):
    """Export, empty every translation of the catalog, import: the catalog is back byte for
    byte (each entry written as msgmerge writes it), for all 11 catalogs, in both formats."""
    languages = sorted(available_languages(project_copy.locales) - {"en"})
    assert len(languages) == 11
    for language in languages:
        po = catalog_path(project_copy.locales, language)
        original = po.read_bytes()
        header, body = original.decode("utf-8").split("\n\n", 1)
        emptied = header + "\n\n" + MSGSTR_RE.sub(lambda m: f'{m.group(1)} ""\n', body)
        for format in FORMATS:
            xlf = tmp_path / f"{language}.{format}.xlf"
            count = export(project_copy, language, xlf, format)
            po.write_text(emptied, "utf-8")
            assert import_file(project_copy, language, xlf) == count > 100, (language, format)
            assert po.read_bytes() == original, (language, format)


@pytest.mark.parametrize("format", FORMATS)
def test_a_fuzzy_translation_stays_fuzzy_until_a_translator_confirms_it(project_copy, tmp_path, format):
    po = catalog_path(project_copy.locales, "es")
    entry = 'msgid "Trouble breathing."\nmsgstr "Dificultad para respirar."\n'
    fuzzy = po.read_text("utf-8").replace(entry, "#, fuzzy\n" + entry, 1)
    assert fuzzy.count("#, fuzzy") == 1
    po.write_text(fuzzy, "utf-8")
    xlf = tmp_path / "es.xlf"
    export(project_copy, "es", xlf, format)
    text = xlf.read_text("utf-8")
    assert import_file(project_copy, "es", xlf) == 0 and po.read_text("utf-8") == fuzzy
    po.write_text(fuzzy.replace('msgstr "Dificultad para respirar."', 'msgstr ""', 1), "utf-8")
    assert import_file(project_copy, "es", xlf) == 1 and po.read_text("utf-8") == fuzzy  # back, still fuzzy

    # the translator confirms it in the CAT tool: the entry is no longer fuzzy, nothing else moves
    old, new = (
        ('<segment state="initial">', '<segment state="translated">')
        if format == "xliff2"
        else ('<target state="needs-translation">Dificultad', '<target state="translated">Dificultad')
    )
    at = text.index("<source>Trouble breathing.</source>")
    start = text.rindex("<unit" if format == "xliff2" else "<trans-unit", 0, at)
    assert text.count(old, start, at + 200) == 1
    confirmed = tmp_path / "confirmed.xlf"
    confirmed.write_text(text[:start] + text[start:].replace(old, new, 1), "utf-8")
    assert import_file(project_copy, "es", confirmed) == 1
    assert po.read_text("utf-8") == fuzzy.replace("#, fuzzy\n" + entry, entry)


@pytest.mark.parametrize("format", FORMATS)
def test_xliff_import_fills_every_plural_form_in_its_place(project_copy, tmp_path, format):
    """Arabic has six plural forms, and a form for one number may say it in words (no
    %(num)s): an emptied plural entry is filled again from the export, form by form."""
    po = catalog_path(project_copy.locales, "ar")
    xlf = tmp_path / "ar.xlf"
    export(project_copy, "ar", xlf, format)
    before = read_catalog(po, "ar")
    plural = next(m for m in before if m.pluralizable and m.id)
    assert len(plural.string) == 6 and "%(num)s" not in plural.string[1], plural.string
    emptied = po.read_text("utf-8")
    for form in plural.string:
        emptied = emptied.replace(f'"{form}"', '""', 1)
    po.write_text(emptied, "utf-8")
    assert import_file(project_copy, "ar", xlf) == 1
    assert read_catalog(po, "ar")[plural.id].string == plural.string
    if format == "xliff2":  # each form says which numbers use it, and shows the English that fits
        text = xlf.read_text("utf-8")
        assert "Plural form 1 of 6: used for n = 0</note>" in text and "Plural form 2 of 6: used for n = 1<" in text
        assert (
            f'used for n = 1</note>\n        </notes>\n        <segment state="translated">\n          <source>{plural.id[0]}<'
            in text
        )


def test_the_default_export_is_xliff_1_2(project_copy, tmp_path):
    """The structure the XLIFF 1.2 schema asks for (no schema file is packaged here)."""
    xlf = tmp_path / "es.xlf"
    export(project_copy, "es", xlf)
    root = ET.parse(xlf).getroot()
    ns = "{urn:oasis:names:tc:xliff:document:1.2}"
    assert root.tag == f"{ns}xliff" and root.get("version") == "1.2"
    assert not [e.tag for e in root.iter() if not e.tag.startswith(ns)]  # one namespace, no 1.1 left
    [file] = root
    assert file.tag == f"{ns}file" and {"original", "source-language", "datatype"} <= set(file.attrib)
    assert [child.tag for child in file] == [f"{ns}body"]
    units = list(root.iter(f"{ns}trans-unit"))
    assert len(units) > 100 and all(u.get("id") and u.find(f"{ns}source") is not None for u in units)
    assert all(u.get("approved") is None for u in units)  # awaiting review: not "approved" in XLIFF's sense
    assert len({u.get("id") for u in units}) == len(units)
    states = {t.get("state") for t in root.iter(f"{ns}target")}
    assert states <= {"new", "needs-translation", "needs-review-translation", "translated", "signed-off", "final"}
    assert {n.get("from") for n in root.iter(f"{ns}note")} == {"developer", "po-translator"}
    for unit in units:  # source, target, then notes and contexts
        assert [c.tag for c in unit][:2] == [f"{ns}source", f"{ns}target"]
    _assert_xliff12_groups(root, ns)


def _assert_xliff12_groups(root: ET.Element, ns: str) -> None:
    """There are groups, without the "approved" of a trans-unit, each with its notes and contexts first."""
    groups = list(root.iter(f"{ns}group"))
    assert groups and all(g.get("approved") is None for g in groups)  # not a group attribute in 1.2
    for group in groups:  # notes and contexts first, then the trans-units
        tags = [c.tag.removeprefix(ns) for c in group]
        assert tags == sorted(tags, key=lambda t: t == "trans-unit"), tags


def test_xliff2_has_notes_states_and_the_approval_keys_as_ids(approved_es, tmp_path, capsys):
    project = approved_es
    _retranslate(project, "es", IV_ONLY)  # changed after approval: "translated"
    _retranslate(project, "es", ORAL_ONLY, "")  # untranslated: "initial"
    xlf = tmp_path / "es.xlf"
    args = ["--project", str(project.root), "i18n", "export", "es", "--format", "xliff2", "--output", str(xlf)]
    assert cli.main(args) == 0 and "2 unit(s) needing work" in capsys.readouterr().out
    # the default namespace, whatever other libraries registered with ElementTree (WeasyPrint does)
    assert '<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0"' in xlf.read_text("utf-8")
    root = ET.parse(xlf).getroot()
    ns = "{urn:oasis:names:tc:xliff:document:2.0}"
    assert root.tag == f"{ns}xliff" and root.get("version") == "2.0"
    assert (root.get("srcLang"), root.get("trgLang")) == ("en", "es")
    [file] = root
    assert file.get("id") and file.get("original") == "locales/es/LC_MESSAGES/messages.po"
    records = {r.msgid: key for key, r in read_approvals(approvals_path(project.locales, "es")).items()}
    by_id = {u.get("id"): u for u in file.iter(f"{ns}unit")}
    assert list(by_id) == [records[ORAL_ONLY], records[IV_ONLY]]  # safety-critical first
    oral, iv = by_id.values()
    _assert_xliff2_notes(oral, iv, ns)
    assert [s.get("state") for s in root.iter(f"{ns}segment")] == ["initial", "translated"]
    assert oral.find(f"{ns}segment/{ns}target") is None
    assert cli.main(["--project", str(project.root), "i18n", "import", "es", str(xlf)]) == 0
    assert "imported 0 changed translation(s)" in capsys.readouterr().out


def _assert_xliff2_notes(oral: ET.Element, iv: ET.Element, ns: str) -> None:
    """Notes first; both units' give the text approved before, the oral one's also safety, glossary, placeholders."""
    for unit in (oral, iv):
        assert [child.tag for child in unit] == [f"{ns}notes", f"{ns}segment"]  # notes first, as 2.0 asks
    categories = {n.get("category"): n.text for n in oral.iter(f"{ns}note")}
    assert {"safety", "glossary", "placeholders", "approved-before"} <= set(categories), categories
    assert categories["approved-before"].startswith("Approved before: Si se le olvida una dosis")
    assert "approved-before" in {n.get("category") for n in iv.iter(f"{ns}note")}


def test_a_damaged_approvals_file_names_its_line_and_stops_only_that_language(approved_es, capsys):
    path = approvals_path(approved_es.locales, "es")
    path.write_text(path.read_text().replace("approved_on = 2026-12-01", 'approved_on = "yesterday"', 1))
    translators = Translators(approved_es.locales)
    with pytest.raises(CatalogError) as caught:
        translators.get("es")
    assert re.match(
        r".*approvals\.toml:\d+: error: \[unit\.[0-9a-f]{16}\] approved_on: missing or not a date", str(caught.value)
    ), caught.value
    assert translators.get("fr").approved_units == frozenset()
    assert cli.main(["--project", str(approved_es.root), "i18n", "review", "es", "--no-pdf"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_the_diff_marks_words_and_single_han_characters():
    from generator.review import word_diff

    assert word_diff("llame al número", "llame pronto al número") == "llame<ins> pronto</ins> al número"
    assert word_diff("在药效消退期间。", "在药效消退期间，您") == "在药效消退期间<del>。</del><ins>，您</ins>"
    assert word_diff("अगर खुराक छूट", "अगर कोई खुराक छूट") == "अगर<ins> कोई</ins> खुराक छूट"

"""Stage 6: every rendered PDF is read back and checked against what its HTML meant.

The failure cases are ones the gates cannot see: the HTML is right, but a stylesheet or
template change hides or garbles what reaches paper.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

import pytest

from generator.build import build, compose_job, load_clinics, plan
from generator.content import load_content
from generator.errors import ContentError
from generator.html import HandoutDocument
from generator.pdf import render_pdf
from generator.translation import Translators
from generator.verify import (
    VerificationError,
    check_pdf,
    letters,
    printed,
    safety_units,
    verify,
    without_furniture,
    without_running_lines,
)

from .conftest import handouts


@pytest.fixture(scope="module")
def docs(project) -> dict[str, HandoutDocument]:
    content, translators = load_content(project.content), Translators(project.locales)
    jobs = {
        "thameside/ar": plan(load_clinics(project, ["thameside"]), ["ar"], ["iv"], ["standard"])[0],
        "example/es": plan(load_clinics(project, ["example"]), ["es"], ["iv"], ["standard"])[0],
        # a wrapped Arabic list item whose first word (with a vowel mark) poppler reads
        # back far from its line
        "example/ar": plan(load_clinics(project, ["example"]), ["ar"], ["intranasal"], ["standard"])[0],
    }
    return {name: compose_job(job, content, translators, project.templates) for name, job in jobs.items()}


def _with_style(doc: HandoutDocument, css: str) -> bytes:
    """The handout rendered with ``css`` added to it and to each layout the renderer may take."""

    def styled(html: str) -> str:
        return html.replace("</head>", f"<style>{css}</style></head>")

    return render_pdf(
        dataclasses.replace(doc, html=styled(doc.html), alternatives=tuple(map(styled, doc.alternatives)))
    ).data


def test_the_real_handouts_print_what_was_meant(docs):
    for name, doc in docs.items():
        assert verify(render_pdf(doc).data, doc.expected) == [], name


def test_a_hidden_numbers_box_fails(docs):
    doc = docs["thameside/ar"]
    problems = verify(_with_style(doc, ".help-box .numbers { display: none }"), doc.expected)
    assert any(
        re.match(
            r"the number 020 7946 0321 should be printed \d time\(s\) as configured; "
            r"found \d \(page 1: \d(, page \d: \d)+\)$",
            p,
        )
        for p in problems
    ), problems
    assert any(
        re.match(r"the number 020 7946 0877 should be printed (\d) time\(s\) as configured; found (\d) ", p)
        for p in problems
    ), problems


def test_numbers_missing_from_page_one_fail(docs):
    doc = docs["example/es"]
    hidden = ".masthead-phone .urgent, .key-points li.key-call { visibility: hidden }"
    problems = verify(_with_style(doc, hidden), doc.expected)
    assert "page 1: expected the emergency number 911; it is not printed there" in problems
    assert "page 1: expected the crisis line 988; it is not printed there" in problems


def test_each_help_box_prints_its_number_on_its_page(docs):
    """The crisis box's heading and the crisis line on one page: with the box's numbers
    hidden (and the body's mentions of it), verify names the page and the box."""
    doc = docs["example/es"]
    assert [fields for _, fields in doc.expected.help_boxes] == [
        ("emergency_number",),
        ("crisis_line",),
        ("clinic_phone",),
    ]
    problems = verify(_with_style(doc, "#shared-crisis .tel { visibility: hidden }"), doc.expected)
    heading = doc.expected.help_boxes[1][0]
    assert any(
        re.fullmatch(
            rf"page [2-4] \(the page of {re.escape(repr(heading))}\): expected the crisis line 988; it is not printed there",
            p,
        )
        for p in problems
    ), problems


def test_a_hidden_safety_list_fails(docs):
    doc = docs["example/es"]
    expected = dataclasses.replace(doc.expected, safety=(("Un dolor de cabeza muy fuerte.", "get-help.md:30"),))
    assert verify(render_pdf(doc).data, expected) == []
    problems = verify(_with_style(doc, "#shared-get-help ul { display: none }"), expected)
    assert any(
        re.match(
            r"the safety-critical unit 'Un dolor de cabeza muy fuerte\.' \(get-help\.md:\d+\) "
            r"is not printed in full",
            p,
        )
        for p in problems
    ), problems


def test_a_hidden_arabic_safety_list_fails(docs):
    doc = docs["example/ar"]
    assert any(source.startswith("tell-us.md") for _, source in doc.expected.safety)
    problems = verify(_with_style(doc, "#shared-tell-us ul { display: none }"), doc.expected)
    assert any(
        re.match(r"the safety-critical unit '.*' \(tell-us\.md:\d+\) is not printed in full", p) for p in problems
    ), problems


def test_reversed_numbers_fail(docs):
    """What point 1 fixes is caught here if it comes back: without the isolates, Arabic
    text reverses the clinic's numbers."""
    doc = docs["thameside/ar"]
    bare = re.sub(r'<bdi dir="ltr" class="[^"]*">([^<]*)</bdi>', r"<span>\1</span>", doc.html)
    problems = verify(render_pdf(dataclasses.replace(doc, html=bare, alternatives=())).data, doc.expected)
    assert "page 1: the number 020 7946 0321 is printed with its digit groups reversed: '0321 7946 020'" in problems
    with pytest.raises(VerificationError, match=r"thameside/ar/iv: the PDF does not print what was meant"):
        check_pdf(
            render_pdf(dataclasses.replace(doc, html=bare, alternatives=())).data, doc.expected, "thameside/ar/iv"
        )


LEFTOVERS = [
    ("{clinic_phone}", "placeholder syntax"),
    ("{رقم_العيادة}", "placeholder syntax"),
    ("%(num)s", "a format field"),
    ("&amp;amp;", "an HTML entity"),
    ("\ufffd", r"U\+FFFD"),
    ('<mark class="untranslated" lang="en">Chest pain.</mark>', r"untranslated text \(\[EN\]\)"),
]


def test_leftover_syntax_fails(docs):
    doc = docs["example/es"]
    # at the end of the body's text, before the questions area (which is laid out over what follows it)
    html = doc.html.replace(
        '<div class="notes-place"',
        "".join(f"<p>Llame {text} hoy</p>" for text, _ in LEFTOVERS) + '<div class="notes-place"',
    )
    problems = verify(render_pdf(dataclasses.replace(doc, html=html, alternatives=())).data, doc.expected)
    for _text, what in LEFTOVERS:
        assert any(re.match(rf"page \d: {what}", p) for p in problems), (what, problems)
    assert sum("placeholder syntax" in p for p in problems) == 2  # the Latin and the Arabic one
    assert any("Llame %(num)s hoy" in p for p in problems) and any("&amp;" in p for p in problems)


def test_untranslated_text_is_allowed_with_allow_incomplete(docs):
    doc = docs["example/es"]
    html = doc.html.replace(
        '<section class="fill-in">',
        '<p><mark class="untranslated" lang="en">Chest pain.</mark></p><section class="fill-in">',
    )
    expected = dataclasses.replace(doc.expected, allow_incomplete=True)
    assert verify(render_pdf(dataclasses.replace(doc, html=html, alternatives=())).data, expected) == []


def test_safety_marks_cover_a_headings_section(project):
    block = load_content(project.content).blocks["shared/side-effects"]
    block = dataclasses.replace(block, safety=("Rare side effects",))
    marked = safety_units(block)
    assert {"Rare side effects", "Panic.", "Trouble breathing.", "Confusion that does not go away."} <= marked
    assert "Headache." not in marked and "Common side effects" not in marked


def test_a_safety_mark_must_name_a_unit(project_copy):
    path = project_copy.content / "shared/after.md"
    text = re.sub(r"(?m)^safety = .*\n", "", path.read_text())
    path.write_text(text.replace('id = "shared/after"\n', 'id = "shared/after"\nsafety = ["Do not driv"]\n', 1))
    with pytest.raises(ContentError, match=r"after\.md:\d+: error: safety: 'Do not driv' is not a unit"):
        load_content(project_copy.content)


def test_reading_back_tolerates_extraction_quirks_but_not_a_missing_unit():
    page = letters("• सीनिे में ददर्स ।\n• बहुत ज़्यादा उक्लिझनि या भ्रम।\n본인이나 함께 있는 사람이 즉\n시 전화하십시오")
    assert printed("सीने में दर्द।", page)
    assert printed("본인이나 함께 있는 사람이 즉시 전화하십시오", page)
    assert not printed("Trouble breathing.", page)
    assert not printed("साँस लेने में तकलीफ़।", page)
    # poppler's Hindi drops nukta consonants and adds letters: read back as it really does
    assert printed("अपनी अगली विज़िट का इंतज़ार न करें।", "कसतह911अपनअगकलवटकइतरनकरसशनकबद")
    assert not printed("अपनी अगली विज़िट का इंतज़ार न करें।", "कसतह911अपनकरसशनकबद")
    # the same words elsewhere (side effects) do not hide where the unit really is
    decoy = letters("साँस क्लिेनिे में तकक्लिीफ़। उक्लिझनि या भ्रम, जो ठीक न हो। ")
    filler = letters("मूत्राशय की समस्याएं। नींद न आना। याददाश्त की समस्याएं। " * 4)
    assert printed("बहुत ज़्यादा उलझन या भ्रम।", decoy + filler + letters("बहुत ज़्यादा उक्लिझनि या भ्रम।"))
    assert not printed("बहुत ज़्यादा उलझन या भ्रम।", decoy)
    # a unit cut by a page break, with the page's footer and header in between
    furniture = (
        "Ketamine IV infusion Version 1.0.0 Reviewed November 21, 2026",
        "Page %(page)s of %(pages)s",
        "Draft translation, not yet checked by a medical translator",
    )
    split = letters(
        "Call right away if you or someone\nKetamine IV infusion · Version 1.0.0 · Reviewed "
        "November 21, 2026\nPage 1 of 2\nDraft translation, not yet checked by a medical "
        "translator\nwith you notices:"
    )
    assert without_furniture(split, furniture) == letters("Call right away if you or someone with you notices:")


def test_a_build_whose_pdf_fails_verification_keeps_the_previous_pdf(project_copy, tmp_path):
    out = tmp_path / "out"
    jobs = plan(load_clinics(project_copy, ["thameside"]), ["ar"], ["iv"], ["standard"])
    [first] = build(project_copy, jobs, out)
    assert first.ok, first.message
    before = hashlib.sha256(first.path.read_bytes()).hexdigest()
    css = project_copy.templates / "handout.css"
    css.write_text(css.read_text() + "\n.help-box .numbers { display: none }\n")
    [second] = build(project_copy, jobs, out)
    assert not second.ok and second.status == "failed"
    assert "thameside/ar/iv: the PDF does not print what was meant" in second.message
    assert "the number 020 7946 0877 should be printed 2 time(s)" in second.message
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == before
    # handouts verify reads the PDF on disk: the previous one is still as meant
    proc = handouts(project_copy, "verify", str(first.path))
    assert proc.returncode == 0 and "1 as meant, 0 not" in proc.stdout, proc.stderr


def test_handouts_verify_names_the_pdf_and_what_is_wrong(project_copy, tmp_path, docs):
    doc = docs["thameside/ar"]
    bad = tmp_path / "handouts" / "thameside" / "ar" / "iv.pdf"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(_with_style(doc, ".masthead-phone, .key-points li.key-call { visibility: hidden }"))
    proc = handouts(project_copy, "verify", str(bad))
    assert proc.returncode == 1, proc.stderr
    assert f"{bad}: error: does not print what was meant" in proc.stderr
    assert "page 1: expected the clinic phone 020 7946 0321; it is not printed there" in proc.stderr
    assert "0 as meant, 1 not" in proc.stdout
    proc = handouts(project_copy, "verify", str(tmp_path / "iv.pdf"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_a_hindi_unit_cut_by_the_page_end_reads_whole_without_the_running_lines():
    """hi/oral large print, as poppler read it: the footer (its letters unlike the source, so
    the furniture cannot be matched) between the two lines of the last item on page 2."""
    footer = "मुँह से क्लिी जानिे वाक्लिी केटामाइनि\nव र्ज़नि 1.3.0 · जाँच की तारीख: 1 दसंबर 2026\n"
    pages = [
        f"• बहुत तेज़ सिरदर्द।\n• जब भी आपको क्लिगे क आपको इमरजेंसी इक्लिाज की\n\n{footer}\nरूरत है।\n\nपेज 2 / 13\n",
        f"• 988 पर फ़ोनि करें।\n\n{footer}\nपेज 3 / 13\n",
    ]
    unit = "जब भी आपको लगे कि आपको इमरजेंसी इलाज की ज़रूरत है।"
    assert not printed(unit, letters("\n".join(pages)))
    kept = without_running_lines(pages)
    assert printed(unit, letters("\n".join(kept)))
    assert "988" in kept[1] and "पेज" not in "".join(kept) and "केटामाइनि" not in "".join(kept)


def test_a_unit_whose_last_line_is_on_every_page_is_not_taken_for_a_running_line():
    # a new language's draft ("DE " + English), no hyphenation: "cannot leave alone." ended a
    # line on each of the 3 pages (key points, checklist, after your session) and was removed
    # with the footer, so the unit read as not printed in full
    unit = "DE An adult must take you home. You cannot leave alone."
    pages = [
        f"DE An adult must take you home. You\ncannot leave alone.\nbody {n}\nDE Page {n} of 3\n" for n in (1, 2, 3)
    ]
    assert not printed(unit, letters("\n".join(without_running_lines(pages))))
    kept = without_running_lines(pages, [letters(unit)])
    assert printed(unit, letters("\n".join(kept))) and "Page" not in "".join(kept)


def test_a_number_is_found_as_poppler_reads_it():
    from generator.verify import number_pattern

    line = ")503( 555-0142+44 20 7946 0321 · 1911 · 911."
    assert number_pattern("+44 20 7946 0321").findall(line) == ["+44 20 7946 0321"]
    assert number_pattern("(503) 555-0142").findall(line) == [")503( 555-0142"]
    assert number_pattern("911").findall(line) == ["911"]

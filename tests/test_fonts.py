"""`handouts check` and the build give the same verdict on what prints (generator/fonts.py)."""

import pytest

from generator import fonts
from generator.build import load_clinics, plan
from generator.check import uncovered
from generator.content import load_content
from generator.errors import RenderError
from generator.html import compose
from generator.pdf import render_pdf
from generator.translation import Translators, catalog_path, read_catalog

from .conftest import po_bytes

#: U+26A0 with the emoji variation selector U+FE0F (drawn as nothing), Ethiopic (a script no
#: language here names a font for, printed by fontconfig's fallback) and an unassigned code
#: point (no font has it: an empty box)
TEXT = "Dolor en el pecho \u26a0\ufe0f \u1230\u120b\u121d \u0378."


def test_check_and_build_agree_on_variation_selectors_fallback_scripts_and_missing_glyphs(project_copy):
    path = catalog_path(project_copy.locales, "es")
    catalog = read_catalog(path, "es")
    catalog.get("Chest pain.").string = TEXT
    path.write_bytes(po_bytes(catalog))
    translator = Translators(project_copy.locales).get("es")

    assert uncovered(translator, fonts.fonts_for("es")) == {"\u0378": "Chest pain."}

    [job] = plan(load_clinics(project_copy, ["example"]), ["es"], ["iv"], ["standard"])
    doc = compose(job.clinic, load_content(project_copy.content).routes["iv"], translator, project_copy.templates)
    assert TEXT in doc.html
    with pytest.raises(RenderError, match=r"no font covers U\+0378 in this 'es' handout"):
        render_pdf(doc, time_limit=None)


@pytest.mark.parametrize(
    ("char", "printable"),
    [
        ("a", True),
        (" ", True),
        ("\u200d", True),
        ("\ufe0f", True),
        ("\U000e0100", True),
        ("\u1230", True),
        ("\u4e2d", True),
        ("\u0378", False),
        ("\ue000", False),
    ],
)
def test_printable(char, printable):
    assert fonts.printable(char, tuple(fonts.fonts_for("es"))) is printable


def test_coverage_merges_ranges():
    coverage = fonts.Coverage([(10, 20), (21, 30), (5, 12), (40, 40)])
    assert [n for n in range(50) if n in coverage] == [*range(5, 31), 40]

"""Extraction: every unit once, with file:line references, through plain pybabel too."""

import subprocess

from babel.messages.pofile import read_po

from generator import i18n
from generator.content import load_content
from generator.segments import units

from .conftest import BIN


def read_pot(path):
    with path.open("rb") as fp:
        return read_po(fp)


def test_each_unit_is_extracted_once_with_its_source_references(project_copy):
    i18n.extract(project_copy)
    catalog = read_pot(project_copy.pot)
    content = load_content(project_copy.content)
    ids = [m.id for m in catalog if m.id]
    assert len(ids) == len(set(ids))
    for block in content.blocks.values():
        relative = block.path.relative_to(project_copy.root).as_posix()
        for unit in units(block.body, block.body_line):
            message = catalog.get(unit.text)
            assert message is not None, f"{relative}:{unit.line} not extracted"
            assert (relative, unit.line) in message.locations
        if block.title:
            assert (relative, block.title_line) in catalog.get(block.title).locations
    for route in content.routes.values():
        assert catalog.get(route.title) is not None and catalog.get(route.subtitle) is not None


def test_placeholders_get_translator_comments(project_copy):
    i18n.extract(project_copy)
    message = read_pot(project_copy.pot).get("Do not eat any food for {fasting_time} before your session.")
    assert any("{fasting_time} is a time phrase" in c for c in message.auto_comments)


def test_template_and_code_strings_are_extracted_with_plural_forms(project_copy):
    i18n.extract(project_copy)
    catalog = read_pot(project_copy.pot)
    assert catalog.get("Page %(page)s of %(pages)s") is not None
    assert catalog.get("Crisis line") is not None
    assert catalog.get(("%(num)s hour", "%(num)s hours")) is not None


def test_plain_pybabel_extract_with_the_project_mapping(project_copy):
    out = project_copy.root / "plain.pot"
    subprocess.run(
        [str(BIN / "pybabel"), "-q", "extract", "-F", "babel.cfg", "-o", str(out), "."],
        cwd=project_copy.root,
        check=True,
    )
    i18n.extract(project_copy)
    plain = {m.id if isinstance(m.id, str) else m.id[0] for m in read_pot(out) if m.id}
    wrapped = {m.id if isinstance(m.id, str) else m.id[0] for m in read_pot(project_copy.pot) if m.id}
    assert plain == wrapped and len(plain) > 100


def test_shipped_template_is_up_to_date(project, project_copy):
    i18n.extract(project_copy)
    fresh = {m.id for m in read_pot(project_copy.pot) if m.id}
    shipped = {m.id for m in read_pot(project.pot) if m.id}
    assert fresh == shipped, "run 'handouts i18n extract' and 'handouts i18n update'"


def test_shipped_catalogs_pass_msgfmt_check(project):
    for po in project.locales.glob("*/LC_MESSAGES/messages.po"):
        subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], check=True)

"""The command line: exit codes and messages a user can act on."""

import re
import shutil

import pytest

from .conftest import handouts, one_handout, pdf_text


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            'primary = "#1d5b79"',
            'primary = "blue"',
            r"example\.toml:\d+: error: colors\.primary: 'blue' is not a colour",
        ),
        ('logo = "example-logo.svg"', 'logo = "missing.svg"', r"example\.toml:\d+: error: logo: file not found"),
        (
            'routes = ["iv", "intranasal", "im", "oral"]',
            'routes = ["iv", "rectal"]',
            r"example\.toml:\d+: error: routes: unknown route 'rectal'",
        ),
        (
            'languages = ["en", "es", ',
            'languages = ["en", "xx", ',
            r"example\.toml:\d+: error: languages: 'xx' is not a language id",
        ),
        (
            'languages = ["en", "es", ',
            'languages = ["en", "de", ',
            r"example\.toml:\d+: error: languages: no catalog for 'de'",
        ),
        ('crisis_line = "988"\n', "", r"example\.toml:\d+: error: contact\.crisis_line: missing; \[contact\] needs"),
        (
            "stay_hours = 2 ",
            "stay_hours = 1 ",
            r"example\.toml:\d+: error: protocol\.intranasal\.stay_hours: must be at least 120",
        ),
        ('name = "Riverside', "name = Riverside", r"example\.toml:\d+: error: invalid TOML"),
    ],
)
def test_broken_clinic_file_names_file_and_key_and_exits_2(project_copy, old, new, expected):
    """The clinic's build fails with exit 2; check reports it with the rest (exit 1, and its
    summary; narrowed to English, as the clinic's file is read whatever the language). That
    the other clinics still build is in test_clinic_files.py."""
    edit(project_copy.clinics / "example.toml", old, new)
    for command, code in ((["build", "--clinic", "example"], 2), (["check", "--language", "en"], 1)):
        proc = handouts(project_copy, *command)
        assert proc.returncode == code, proc.stderr
        assert re.search(expected, proc.stderr), proc.stderr
        assert "Traceback" not in proc.stderr
    assert re.search(r"handouts check: [1-9]\d* error\(s\)", proc.stdout), proc.stdout
    assert not (project_copy.root / "handouts").exists()


def test_bad_front_matter_names_file_and_line(project_copy):
    edit(project_copy.content / "shared" / "disclaimer.md", 'version = "1.0.0"', "version = 1.0.0")
    proc = handouts(project_copy, "build")
    assert proc.returncode == 2
    assert re.search(r"content/shared/disclaimer\.md:\d+: error: bad front matter", proc.stderr), proc.stderr


def test_unknown_placeholder_in_content_names_file_and_line(project_copy):
    edit(project_copy.content / "shared" / "disclaimer.md", "ask {clinic_name}", "ask {clinic_fax}")
    proc = handouts(project_copy, "check", "--language", "en")
    assert proc.returncode == 1
    assert re.search(r"content/shared/disclaimer\.md:10: error: unknown placeholder \{clinic_fax\}", proc.stderr), (
        proc.stderr
    )


def test_untranslated_unit_fails_that_handout_keeps_its_old_pdf_and_builds_the_rest(project_copy, built_dir):
    """Over the standard handouts built once per run (conftest): only what changed renders."""
    out = project_copy.root / "handouts"
    shutil.copytree(built_dir, out)
    old_es = (out / "example/es/iv.pdf").read_bytes()
    po = project_copy.locales / "es/LC_MESSAGES/messages.po"
    text = po.read_text()
    match = re.search(r'msgid "Chest pain\."\nmsgstr "[^"]+"', text)
    po.write_text(text.replace(match.group(0), 'msgid "Chest pain."\nmsgstr ""'))
    (out / "example/en/iv.pdf").unlink()
    iv = ("build", "--clinic", "example", "--route", "iv", "--edition", "standard", "--jobs", "1")
    proc = handouts(project_copy, *iv)
    assert proc.returncode == 1
    assert re.search(r"content/shared/get-help\.md:\d+: 'Chest pain\.'", proc.stderr), proc.stderr
    assert (out / "example/es/iv.pdf").read_bytes() == old_es
    assert (out / "example/en/iv.pdf").exists()
    assert "handouts: 1 built, 1 failed, 0 incomplete, 10 unchanged" in proc.stdout  # only en rebuilt
    # --allow-incomplete is part of every handout's input hash: narrowed to the language it
    # is about, or the route's 11 other handouts would render again too
    proc = handouts(project_copy, *iv, "--language", "es", "--allow-incomplete")
    assert proc.returncode == 0, proc.stderr
    assert "handouts: 1 built, 0 failed, 1 incomplete, 0 unchanged" in proc.stdout
    assert re.search(
        r"example/es/iv: built with English.*\n.*content/shared/get-help\.md:\d+: printed in English: "
        r"'Chest pain\.'",
        proc.stderr,
    ), proc.stderr
    text = pdf_text(out / "example/es/iv.pdf")
    assert "[EN] Chest pain." in text  # visibly marked on the page


def test_filters_narrow_the_build(project_copy):
    proc = handouts(
        project_copy,
        "build",
        *one_handout("en", "oral", None),
        "--route",
        "im",
        "--edition",
        "standard",
        "--edition",
        "large",
    )
    assert proc.returncode == 0, proc.stderr
    built = sorted(p.relative_to(project_copy.root).as_posix() for p in (project_copy.root / "handouts").rglob("*.pdf"))
    assert built == [
        "handouts/example/en/im.large.pdf",
        "handouts/example/en/im.pdf",
        "handouts/example/en/oral.large.pdf",
        "handouts/example/en/oral.pdf",
    ]


def test_unknown_filter_value_is_a_usage_error(project_copy):
    proc = handouts(project_copy, "build", "--language", "de")
    assert proc.returncode == 2 and "no clinic offers language de" in proc.stderr
    proc = handouts(project_copy, "build", "--clinic", "nowhere")
    assert proc.returncode == 2 and "unknown clinic nowhere" in proc.stderr


def test_check_passes_on_the_project_and_reports_reading_grades(project_copy):
    proc = handouts(project_copy, "check")
    assert proc.returncode == 0, proc.stderr
    assert "0 error(s)" in proc.stdout
    assert re.search(r"^content/iv/expect\.md: note: block 'iv/expect' reads at grade \d+\.\d$", proc.stdout, re.M)
    hard = (
        "Pharmacological antagonism of N-methyl-D-aspartate receptors notwithstanding, "
        "comprehensive psychopharmacological evaluation necessitates interdisciplinary deliberation."
    )
    edit(project_copy.content / "shared" / "disclaimer.md", "This handout gives general facts.", hard)
    proc = handouts(project_copy, "check", "--language", "en")  # the English source's grade: no catalog needed
    assert re.search(
        r"content/shared/disclaimer\.md: warning: block 'shared/disclaimer' reads at "
        r"grade \d+\.\d, above 8",
        proc.stderr,
    ), proc.stderr

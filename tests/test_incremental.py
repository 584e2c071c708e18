"""Scheduled builds: incremental, parallel, keep-last-good, locked, reproducible, sharded."""

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from fnmatch import fnmatch
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.approvals import (
    Approval,
    approvals_path,
    format_approvals,
    key_of,
    read_approvals,
    source_hash,
    translation_hash,
    translation_text,
    unit_key,
)
from generator.build import BuildOptions, build, load_clinics, output_key, plan, shard
from generator.content import load_content
from generator.manifest import MANIFEST_NAME, Inputs, Manifest
from generator.output import locked
from generator.review import approve
from generator.translation import catalog_path, read_catalog

from .conftest import BIN, handouts, one_handout, pdf_text, run_cli

IV_UNIT = "A nurse puts the IV line into a vein in your arm."
IV_UNIT_NEW = "A nurse puts the IV line into a vein in your arm or hand."
IV_UNIT_ES = "Un enfermero le pone la vía IV en una vena del brazo."
ES_PO = Path("locales/es/LC_MESSAGES/messages.po")
#: printed only in the oral handout (content/oral/after.md)
ORAL_UNIT = "If you miss a dose, call {clinic_phone}. **Never take two doses to make up for one.**"
DAY = dt.date(2026, 12, 1)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), "utf-8")


def redate(po: Path) -> None:
    text = po.read_text("utf-8")
    new = re.sub(r"(POT-Creation-Date|PO-Revision-Date): [^\\]+", r"\1: 2030-01-01 09:00+0000", text)
    assert new.count("2030-01-01 09:00") == 2
    po.write_text(new, "utf-8")


def change_iv_unit(project, catalogs=("es",)) -> None:
    """Edit one English unit used only by the IV route, and its msgid in the catalogs (as
    ``i18n update`` and a translator would)."""
    edit(project.content / "iv" / "expect.md", IV_UNIT, IV_UNIT_NEW)
    for language in catalogs:
        edit(project.locales / language / "LC_MESSAGES" / "messages.po", f'msgid "{IV_UNIT}"', f'msgid "{IV_UNIT_NEW}"')


def approve_one(project, language: str, msgid: str | None) -> None:
    """Record one unit's approval in ``approvals.toml``, as ``i18n approve`` writes it; None:
    an obsolete record (of an English no catalog entry has), as a reviewer's old file has."""
    catalog = read_catalog(catalog_path(project.locales, language), language)
    path = approvals_path(project.locales, language)
    records = read_approvals(path)
    if msgid is None:
        record = Approval(unit_key("An old sentence."), "An old sentence.", "0" * 16, "1" * 16, "Viejo.", "A. T.", DAY)
    else:
        message = catalog[msgid]
        text = translation_text(message)
        record = Approval(key_of(message), msgid, source_hash(message), translation_hash(message), text, "A. T.", DAY)
    records[record.key] = record
    path.write_text(format_approvals(records.values()), "utf-8")


def jobs_for(project, languages=("en", "es"), routes=("iv", "oral"), editions=("standard",)):
    return plan(load_clinics(project, ["example"]), languages, routes, editions)


def statuses(results) -> dict[str, str]:
    return {r.job.name: r.status for r in results}


def pdfs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.pdf"))}


# Which handouts each kind of change reaches, as (language, route) patterns ("*": any; a
# bilingual edition is reached through either of its languages), from the input hashes alone.
EDITS = {
    "English unit of one route": (lambda p: change_iv_unit(p, catalogs=()), {"*/iv"}),
    "English unit shared by every route": (
        lambda p: edit(
            p.content / "shared" / "disclaimer.md",
            "This handout gives general facts.",
            "This handout gives general facts only.",
        ),
        {"*/*"},
    ),
    "translation of a unit of one route": (
        lambda p: edit(p.root / ES_PO, IV_UNIT_ES, "Una enfermera le pone la vía IV en una vena del brazo."),
        {"es/iv"},
    ),
    "a second entry for a unit of one route (msgfmt refuses it)": (
        lambda p: (p.root / ES_PO).write_text(
            (p.root / ES_PO).read_text("utf-8") + f'\n#: content/iv/expect.md:16\nmsgid "{IV_UNIT}"\nmsgstr "Otro."\n',
            "utf-8",
        ),
        {"es/iv"},
    ),
    "Plural-Forms removed from the header": (
        lambda p: edit(p.root / ES_PO, '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n', ""),
        {"es/*"},
    ),
    "translation of a template string": (
        lambda p: edit(
            p.locales / "ko" / "LC_MESSAGES" / "messages.po",
            'msgid "Clinic"\nmsgstr "클리닉"',
            'msgid "Clinic"\nmsgstr "병원"',
        ),
        {"ko/*"},
    ),
    "review status": (
        lambda p: edit(
            p.locales / "es" / "review.toml",
            'status = "draft"',
            'status = "approved"\napproved_by = "A. Translator"\napproved_on = 2026-12-01',
        ),
        {"es/*"},
    ),
    "per-unit approvals (approvals.toml)": (lambda p: approve(p, "es", "A. Translator", None), {"es/*"}),
    "approval of one unit only the oral route prints": (lambda p: approve_one(p, "es", ORAL_UNIT), {"es/oral"}),
    "approval of a unit no handout prints any more": (lambda p: approve_one(p, "es", None), set()),
    "glossary (the gates read it)": (
        lambda p: edit(p.locales / "es" / "glossary.tbx", "<term>nunca</term>", "<term>jamás</term>"),
        {"es/*"},
    ),
    "catalog dates only (i18n update, a translator's save)": (lambda p: redate(p.root / ES_PO), set()),
    "stylesheet": (lambda p: edit(p.templates / "handout.css", "font-size: 12pt;", "font-size: 12.5pt;"), {"*/*"}),
    "clinic's file": (lambda p: edit(p.clinics / "example.toml", "503-555-0142", "503-555-0143"), {"*/*"}),
    "clinic's logo": (
        lambda p: (p.clinics / "example-logo.svg").write_text(
            (p.clinics / "example-logo.svg").read_text().replace("</svg>", "<!-- new --></svg>")
        ),
        {"*/*"},
    ),
}


@pytest.mark.parametrize("change", EDITS)
def test_each_input_changes_the_hash_of_exactly_the_handouts_that_use_it(project_copy, change):
    edit_project, reached = EDITS[change]
    jobs = jobs_for(project_copy, languages=(), routes=(), editions=())  # every edition
    assert {j.edition for j in jobs} == {"standard", "large", "bilingual"}
    inputs = Inputs(project_copy, load_content(project_copy.content))
    before = {j.name: inputs.of(j) for j in jobs}
    edit_project(project_copy)
    inputs = Inputs(project_copy, load_content(project_copy.content))
    changed = {j.name for j in jobs if inputs.of(j) != before[j.name]}
    expected = {
        j.name
        for j in jobs
        for pattern in reached
        if any(fnmatch(f"{lang}/{j.route}", pattern) for lang in (j.language, j.second) if lang)
    }
    assert changed == expected and (changed or not reached)


def test_no_change_renders_nothing_and_one_unit_renders_only_its_handouts(project_copy, built_dir, tmp_path):
    """Over the standard handouts built once per run (conftest), by a build of the project
    itself: the copy's inputs are the same, so nothing renders."""
    out = tmp_path / "out"
    shutil.copytree(built_dir, out)
    jobs = jobs_for(project_copy)
    assert set(statuses(build(project_copy, jobs, out)).values()) == {"unchanged"}

    change_iv_unit(project_copy)
    oral_before = (out / "example/es/oral.pdf").read_bytes()
    results = build(project_copy, jobs_for(project_copy), out, BuildOptions(workers=2))
    assert statuses(results) == {
        "example/en/iv": "built",
        "example/es/iv": "built",
        "example/en/oral": "unchanged",
        "example/es/oral": "unchanged",
    }
    assert IV_UNIT_NEW in pdf_text(out / "example/en/iv.pdf")
    assert (out / "example/es/oral.pdf").read_bytes() == oral_before

    # an output deleted or edited by hand is noticed and built again
    (out / "example/en/oral.pdf").unlink()
    with open(out / "example/es/iv.pdf", "ab") as pdf:
        pdf.write(b"% edited\n")
    results = build(project_copy, jobs_for(project_copy), out)
    assert statuses(results) == {
        "example/en/iv": "unchanged",
        "example/es/iv": "built",
        "example/en/oral": "built",
        "example/es/oral": "unchanged",
    }
    manifest = Manifest.load(out / MANIFEST_NAME)
    for key, entry in manifest.entries.items():
        assert entry.sha256 == hashlib.sha256((out / key).read_bytes()).hexdigest()


def test_approving_a_unit_only_the_oral_route_prints_leaves_the_iv_handout_as_it_is(project_copy, en_es_iv, tmp_path):
    """Approvals used to be hashed whole: any approval rendered every handout of the language."""
    out = tmp_path / "out"
    shutil.copytree(en_es_iv, out)
    jobs = jobs_for(project_copy, ["es"], ["iv"])
    approve_one(project_copy, "es", ORAL_UNIT)
    assert statuses(build(project_copy, jobs, out)) == {"example/es/iv": "unchanged"}


def test_a_changed_glossary_runs_the_gates_again(project_copy, en_es_iv, tmp_path):
    """The glossary changes whether a handout passes its gates, not its bytes; the gates run
    during a build, so a glossary that now refuses a unit fails the handout (its previous
    PDF kept) instead of calling it unchanged."""
    out = tmp_path / "out"
    shutil.copytree(en_es_iv, out)
    jobs = jobs_for(project_copy, ["es"], ["iv"])
    assert statuses(build(project_copy, jobs, out)) == {"example/es/iv": "unchanged"}
    before = (out / "example/es/iv.pdf").read_bytes()
    edit(project_copy.locales / "es" / "glossary.tbx", "<term>no</term>", "<term>jamás</term>")  # "do not"
    [result] = build(project_copy, jobs, out)
    assert result.status == "failed" and "glossary: the source says 'do not'" in result.message, result.message
    assert (out / "example/es/iv.pdf").read_bytes() == before


def test_failing_handout_keeps_its_pdf_and_manifest_entry_and_is_reported(project_copy, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    args = (
        "build",
        *one_handout("es", "iv", None),
        "--route",
        "oral",
        "--edition",
        "standard",
        "--output",
        str(out),
    )
    assert handouts(project_copy, *args).returncode == 0
    old_pdf = (out / "example/es/iv.pdf").read_bytes()
    old_entry = Manifest.load(out / MANIFEST_NAME).entries["example/es/iv.pdf"]
    edit(project_copy.root / ES_PO, IV_UNIT_ES, "Un enfermero le pone la vía <b>IV</b> en una vena del brazo.")
    for _ in range(2):  # still failing: tried again, never counted as up to date
        proc = handouts(project_copy, *args, "--report", str(report))
        assert proc.returncode == 1, proc.stderr
        assert "0 built, 1 failed, 0 incomplete, 1 unchanged" in proc.stdout
        assert (out / "example/es/iv.pdf").read_bytes() == old_pdf
        assert Manifest.load(out / MANIFEST_NAME).entries["example/es/iv.pdf"] == old_entry
        data = json.loads(report.read_text())
        assert data["exit_code"] == 1 and data["counts"] == {
            "built": 0,
            "unchanged": 1,
            "failed": 1,
            "incomplete": 0,
            "drafts": 0,
        }
        [failed] = data["failed"]
        assert failed["output"] == "example/es/iv.pdf"
        assert "raw HTML in the translation" in failed["reason"]
        assert [u["output"] for u in data["unchanged"]] == ["example/es/oral.pdf"]


def test_killed_build_leaves_no_partial_pdf_and_the_next_build_cleans_up(project_copy, tmp_path):
    out = tmp_path / "out"
    args = [
        str(BIN / "handouts"),
        "--project",
        str(project_copy.root),
        "build",
        "--clinic",
        "example",
        "--language",
        "en",
        "--language",
        "es",
        "--route",
        "iv",
        "--route",
        "oral",
        "--edition",
        "standard",
        "--output",
        str(out),
        "--jobs",
        "2",
    ]
    assert subprocess.run(args, capture_output=True).returncode == 0
    before = pdfs(out)
    # a temporary file as a build killed while writing leaves it
    stray = out / "example/es/.iv.pdf.k9x2m4q1.tmp"
    stray.write_bytes(before["example/es/iv.pdf"][:1000])
    proc = subprocess.Popen(
        [*args, "--force"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    inodes = {name: (out / name).stat().st_ino for name in before}
    deadline = time.monotonic() + 300
    while (
        time.monotonic() < deadline
        and proc.poll() is None
        and all((out / name).stat().st_ino == inode for name, inode in inodes.items())
    ):
        time.sleep(0.02)  # until it has replaced one PDF
    os.killpg(proc.pid, signal.SIGKILL)  # the build and its render processes
    assert proc.wait() == -signal.SIGKILL  # killed mid-run, not after it finished
    for name in pdfs(out):  # every PDF in place is whole
        assert len(PdfReader(out / name).pages) >= 1, name
    proc = subprocess.run(args, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr  # the dead build's lock does not block
    assert not list(out.rglob("*.tmp"))
    assert set(pdfs(out)) == set(before)
    for name in pdfs(out):
        assert len(PdfReader(out / name).pages) >= 1, name


def test_a_second_build_at_the_same_time_is_refused(project_copy, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    with locked(out):  # as a running build holds it
        start = time.monotonic()
        proc = run_cli(
            project_copy,
            "build",
            *one_handout("en"),
            "--output",
            str(out),
            "--report",
            str(report),
        )
        assert proc.returncode == 3, proc.stderr
        assert "another build is writing into this output folder" in proc.stderr
        assert time.monotonic() - start < 30  # at once: it does not wait for the lock
        assert not list(out.rglob("*.pdf")) and not (out / MANIFEST_NAME).exists()
        assert json.loads(report.read_text())["exit_code"] == 3
    proc = run_cli(
        project_copy,
        "build",
        *one_handout("en"),
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr


def test_two_forced_builds_give_identical_bytes(project, built_dir, site, tmp_path, monkeypatch):
    """The first build is the run's (conftest): the Chinese and Arabic standard IV handouts
    of the shared build (two render processes, each making 24 handouts in a row) and the
    index site's Arabic large-print and bilingual ones. Forced again here, in fresh render
    processes, replaced after each handout (as after 50 in long runs): the same bytes."""
    site_dir, _ = site
    jobs = [
        job
        for job in jobs_for(project, ("zh_Hans", "ar"), ("iv",), editions=())  # standard, large, bilingual
        if job.language == "ar" or job.edition == "standard"
    ]
    first = {
        key: ((site_dir if (site_dir / key).is_file() else built_dir) / key).read_bytes()
        for key in map(output_key, jobs)
    }
    assert {j.edition for j in jobs} == {"standard", "large", "bilingual"} and len(first) == 4
    monkeypatch.setattr("generator.build.TASKS_PER_WORKER", 1)
    results = build(project, jobs, tmp_path / "a", BuildOptions(force=True, workers=2))
    assert set(statuses(results).values()) == {"built"}
    assert pdfs(tmp_path / "a") == first


def test_shard_splits_the_plan_without_overlap(project):
    jobs = jobs_for(project, (), ())
    parts = [shard(jobs, k, 5) for k in range(1, 6)]
    names = [j.name for part in parts for j in part]
    assert sorted(names) == sorted(j.name for j in jobs)  # every job once
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    assert [j.name for j in shard(list(reversed(jobs)), 2, 5)] == [j.name for j in parts[1]]


def test_merged_shards_equal_a_single_build(project_copy, en_es_iv, tmp_path, monkeypatch):
    """The single build is the run's English and Spanish IV handouts (conftest); the two
    shards of the same plan are built here, one handout each."""
    common = ("build", "--clinic", "example", "--language", "en", "--language", "es", "--route", "iv")
    common += ("--edition", "standard", "--jobs", "1")
    shutil.copytree(en_es_iv, tmp_path / "single")
    # the index lists each PDF's build date: the shards are dated the single build's day, also
    # when the run passes midnight between them (noon UTC of that local date)
    day = dt.date.fromtimestamp((tmp_path / "single" / "example" / "en" / "iv.pdf").stat().st_mtime)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime.combine(day, dt.time(12), dt.UTC).timestamp())))
    for k in (1, 2):
        proc = handouts(project_copy, *common, "--shard", f"{k}/2", "--output", str(tmp_path / f"s{k}"))
        assert proc.returncode == 0, proc.stderr
        assert "1 built, 0 failed, 0 incomplete, 0 unchanged" in proc.stdout
        assert len(pdfs(tmp_path / f"s{k}")) == 1
    proc = handouts(
        project_copy, "merge", str(tmp_path / "s1"), str(tmp_path / "s2"), "--output", str(tmp_path / "merged")
    )
    assert proc.returncode == 0, proc.stderr
    single, merged = pdfs(tmp_path / "single"), pdfs(tmp_path / "merged")
    assert len(single) == 2 and merged == single
    for name in (MANIFEST_NAME, "index.html"):
        assert (tmp_path / "merged" / name).read_bytes() == (tmp_path / "single" / name).read_bytes()
    # a merged tree is a build like any other: nothing to do
    proc = handouts(project_copy, *common, "--output", str(tmp_path / "merged"))
    assert "0 built, 0 failed, 0 incomplete, 2 unchanged" in proc.stdout
    assert f"[2/2] unchanged {tmp_path / 'merged' / 'example/es/iv.pdf'}" in proc.stderr  # no terminal: log lines


def test_merge_refuses_a_pdf_that_is_not_as_built(project_copy, tmp_path):
    jobs = jobs_for(project_copy, ("en",), ("iv",))
    build(project_copy, jobs, tmp_path / "s1")
    with open(tmp_path / "s1" / output_key(jobs[0]), "ab") as pdf:
        pdf.write(b"% edited\n")
    proc = handouts(project_copy, "merge", str(tmp_path / "s1"), "--output", str(tmp_path / "merged"))
    assert proc.returncode == 2
    assert "example/en/iv.pdf is missing or not as built" in proc.stderr

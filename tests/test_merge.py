"""`handouts merge` trusts no shard: only outputs this project's build plan makes, read from
regular files inside the shard without following a link, hashing as recorded and passing the
checks a built PDF passes; every shard is checked before anything is written, and any problem
is a usage error (exit 2) naming the shard. The staff index page is always written anew.

The shard is built once per session (English and Spanish, IV route, standard edition);
each case breaks a copy of it in a different way.
"""

import hashlib
import io
import json
import os
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

from generator.build import build, load_clinics, merge, plan
from generator.errors import UsageError
from generator.manifest import MANIFEST_NAME, Manifest
from generator.pdfsafety import pdf_problems

from .conftest import handouts

ES = "example/es/iv.pdf"
EN = "example/en/iv.pdf"


@pytest.fixture(scope="session")
def built_shard(en_es_iv) -> Path:
    return en_es_iv


@pytest.fixture
def shard(built_shard, tmp_path) -> Path:
    copy = tmp_path / "shard"
    shutil.copytree(built_shard, copy, symlinks=True)
    return copy


def files(folder: Path) -> dict[str, bytes]:
    return (
        {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()
        }
        if folder.exists()
        else {}
    )


def set_entry(shard: Path, key: str, data: bytes | None = None, **fields) -> None:
    """Change the shard's manifest entry for ``key`` (its hash follows ``data`` if given)."""
    manifest = json.loads((shard / MANIFEST_NAME).read_text())
    entry = manifest["outputs"].setdefault(key, dict(manifest["outputs"][ES]))
    if data is not None:
        entry["sha256"] = hashlib.sha256(data).hexdigest()
    entry.update(fields)
    (shard / MANIFEST_NAME).write_text(json.dumps(manifest))


def refused(project, shard: Path, out: Path, message: str, sources=None) -> None:
    """merge refuses with a usage error naming the shard and writes nothing at all."""
    before = files(out)
    with pytest.raises(UsageError, match=message) as caught:
        merge(project, sources or [shard], out)
    assert caught.value.path == shard
    assert files(out) == before


def with_action(data: bytes, action: dict[str, str]) -> bytes:
    """The PDF with a link annotation on its first page carrying ``action``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    act = DictionaryObject(
        {NameObject(k): NameObject(v) if v.startswith("/") else TextStringObject(v) for k, v in action.items()}
    )
    annot = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/A"): act,
        }
    )
    page = writer.pages[0]
    if "/Annots" not in page:
        page[NameObject("/Annots")] = ArrayObject()
    page["/Annots"].append(writer._add_object(annot))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def with_attachment(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.add_attachment("notes.txt", b"anything")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_a_good_shard_is_merged_and_the_index_is_written_anew(project, shard, tmp_path):
    (shard / "index.html").write_text("<p>a page the shard made up</p>")
    out = tmp_path / "out"
    assert merge(project, [shard], out) == 2
    assert files(out)[ES] == (shard / ES).read_bytes() and files(out)[EN] == (shard / EN).read_bytes()
    index = (out / "index.html").read_text("utf-8")
    assert "made up" not in index and "example/es/iv.pdf" in index
    # an index page already in the output folder is replaced too, even if nothing changed
    (out / "index.html").write_text("<p>stale</p>")
    merge(project, [shard], out)
    assert "stale" not in (out / "index.html").read_text("utf-8")


def test_a_key_leaving_the_folder_through_a_link_writes_nothing_anywhere(project, shard, tmp_path):
    """The attack of the issue: a '..' key and a symbolic link in the shard."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (shard / "example" / "up").symlink_to(target)
    data = (shard / ES).read_bytes()
    (target / "evil.pdf").write_bytes(data)
    set_entry(shard, "example/up/../../../evil.pdf", data, job="example/es/iv")
    refused(project, shard, tmp_path / "out", "is not a handout this project builds")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "shard"]
    assert [p.name for p in target.iterdir()] == ["evil.pdf"]


@pytest.mark.parametrize(
    "key",
    [
        "index.html",
        "manifest.json",
        "unknown/es/iv.pdf",
        "example/xx/iv.pdf",
        "example/es/iv.es+ru.pdf",
        "example/es/notes.pdf",
        "/etc/passwd",
    ],
)
def test_only_outputs_the_build_plan_makes_are_accepted(project, shard, tmp_path, key):
    """An unknown clinic, language or edition (no bilingual Spanish-Russian edition), or one
    of the build's own files."""
    set_entry(shard, key, (shard / ES).read_bytes())
    refused(project, shard, tmp_path / "out", "is not a handout this project builds")


def test_an_entry_naming_another_job_is_refused(project, shard, tmp_path):
    set_entry(shard, ES, job="example/en/iv")
    refused(project, shard, tmp_path / "out", "is not a handout this project builds")


@pytest.mark.parametrize("kind", ["file link", "folder link", "fifo", "folder"])
def test_links_and_anything_but_a_regular_file_are_refused(project, shard, tmp_path, kind):
    pdf = shard / ES
    data = pdf.read_bytes()
    pdf.unlink()
    if kind == "file link":  # to a file with the right bytes: still refused
        (tmp_path / "real.pdf").write_bytes(data)
        pdf.symlink_to(tmp_path / "real.pdf")
    elif kind == "folder link":
        (tmp_path / "real").mkdir()
        (tmp_path / "real" / "iv.pdf").write_bytes(data)
        for item in pdf.parent.iterdir():
            item.unlink()
        pdf.parent.rmdir()
        pdf.parent.symlink_to(tmp_path / "real")
    elif kind == "fifo":  # reading it would block for ever
        os.mkfifo(pdf)
    else:
        pdf.mkdir()
    refused(project, shard, tmp_path / "out", f"{ES} cannot be read: .*(symbolic link|not a regular file)")


@pytest.mark.parametrize("change", ["attachment", "javascript", "launch", "file link", "not a pdf"])
def test_pdfs_that_a_build_would_refuse_are_refused_even_with_a_matching_hash(project, shard, tmp_path, change):
    data = (shard / ES).read_bytes()
    bad = {
        "attachment": lambda: with_attachment(data),
        "javascript": lambda: with_action(data, {"/S": "/JavaScript", "/JS": "app.alert(1)"}),
        "launch": lambda: with_action(data, {"/S": "/Launch", "/F": "calc.exe"}),
        "file link": lambda: with_action(data, {"/S": "/URI", "/URI": "file:///etc/passwd"}),
        "not a pdf": lambda: b"<html>not a handout</html>",
    }[change]()
    assert pdf_problems(data) == [] and pdf_problems(bad)
    (shard / ES).write_bytes(bad)
    set_entry(shard, ES, bad)
    refused(project, shard, tmp_path / "out", f"{ES} is refused: ")


def test_every_shard_is_checked_before_anything_is_written(project, shard, built_shard, tmp_path):
    """The first shard is good, the second is not: nothing of the first is written."""
    out = tmp_path / "out"
    merge(project, [built_shard], out)  # a merged folder, as a previous run left it
    (shard / ES).write_bytes(b"%PDF-1.7 edited")
    refused(project, shard, out, "is missing or not as built", sources=[built_shard, shard])


@pytest.mark.parametrize(
    "manifest",
    [
        b"{not json",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"format": 3, "outputs": {"example/es/iv.pdf": {"job": 1}}}',
        b'{"format": 3, "outputs": []}',
        None,
    ],
)
def test_a_shard_manifest_that_cannot_be_used_is_an_error(project, shard, tmp_path, manifest):
    (shard / MANIFEST_NAME).unlink()
    if manifest is None:
        (shard / MANIFEST_NAME).symlink_to("/dev/zero")  # would never end
    else:
        (shard / MANIFEST_NAME).write_bytes(manifest)
    refused(project, shard, tmp_path / "out", f"{MANIFEST_NAME} cannot be used")


def test_merge_on_the_command_line_names_the_shard_and_exits_2(project, shard, tmp_path):
    (shard / MANIFEST_NAME).write_bytes(b"\xff\xfe garbage")
    proc = handouts(project, "merge", str(shard), "--output", str(tmp_path / "out"))
    assert proc.returncode == 2, proc.stderr
    assert f"{shard}: error: {MANIFEST_NAME} cannot be used" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_merged_entries_are_sealed_so_the_next_build_trusts_them(project, shard, tmp_path):
    out = tmp_path / "out"
    merge(project, [shard], out)
    jobs = plan(load_clinics(project, ["example"]), ["en", "es"], ["iv"], ["standard"])
    results = build(project, jobs, out)
    assert [r.status for r in results] == ["unchanged", "unchanged"]
    assert (
        Manifest.load(out / MANIFEST_NAME).entries[ES].sha256 == hashlib.sha256((shard / ES).read_bytes()).hexdigest()
    )


def test_a_pdf_that_does_not_print_what_its_sources_mean_is_refused(project, shard, tmp_path):
    """A safe PDF with a matching hash, but another handout's: the English IV handout in the
    Spanish one's place prints none of the Spanish safety units."""
    data = (shard / EN).read_bytes()
    (shard / ES).write_bytes(data)
    set_entry(shard, ES, data)
    refused(project, shard, tmp_path / "out", r"(?s)example/es/iv\.pdf is refused: .*safety-critical unit")

"""Content, translations and clinic files cannot read files into a PDF, reach the network,
embed attachments, link anywhere but https:, mailto: and tel:, or hang the build.

Each attack is tried where it can be written: in a content block's Markdown, in a catalog's
msgstr and in a clinic's file; and on the fetcher itself, one URL kind at a time.
"""

import os
import re
import signal
from pathlib import Path

import pytest
from pypdf import PdfReader

from generator.build import BuildOptions, build, load_clinics, plan
from generator.config import MAX_IMAGE_BYTES, load_clinic
from generator.content import load_content
from generator.errors import BrokenTranslation, ConfigError, ContentError, RenderError
from generator.html import HandoutDocument, compose
from generator.pdf import AssetFetcher, render_pdf
from generator.translation import (
    Translator,
    available_languages,
    catalog_path,
    load_translator,
    make_translator,
    read_catalog,
)

from .conftest import handouts, pdf_text, po_bytes

CONTENT_BLOCK = "shared/disclaimer.md"
FIRST_SENTENCE = "This handout gives general facts."
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


def render(project, language="en", route="iv", time_limit=20, translator=None):
    """One handout, composed and rendered as the build does (a time limit so nothing hangs)."""
    clinic = load_clinics(project, ["example"])[0]
    content = load_content(project.content)
    tr = translator or load_translator(project.locales, language)
    return render_pdf(compose(clinic, content.routes[route], tr, project.templates), time_limit)


#: the example clinic's website, printed (and linked) beside its name on page 1
WEBSITE = "https://riverside-clinic.example"


def link_targets(reader: PdfReader) -> set[str]:
    return {
        annot.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annot in page.get("/Annots") or ()
        if annot.get_object()["/Subtype"] == "/Link"
    }  # not the form fields' widgets


def write_content(project, markdown: str) -> None:
    path = project.content / CONTENT_BLOCK
    text = path.read_text()
    path.write_text(text.replace(FIRST_SENTENCE, f"{FIRST_SENTENCE}\n\n{markdown}\n\n", 1))


def assert_nothing_embedded(data: bytes, tmp_path: Path) -> PdfReader:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    reader = PdfReader(path)
    assert reader.attachments == {}
    assert "/Names" not in reader.trailer["/Root"] or "/EmbeddedFiles" not in reader.trailer["/Root"]["/Names"]
    for page in reader.pages:
        for annotation in page.get("/Annots") or ():
            assert annotation.get_object()["/Subtype"] != "/FileAttachment"
    return reader


@pytest.fixture
def traps(project_copy, tmp_path):
    """Things an attacker might point at, placed in the templates folder (an asset root)."""
    templates = project_copy.templates
    (templates / "passwd.png").symlink_to("/etc/passwd")
    (templates / "zero.png").symlink_to("/dev/zero")
    os.mkfifo(templates / "fifo.png")
    (templates / "big.png").write_bytes(PNG_HEADER + b"\0" * MAX_IMAGE_BYTES)
    return project_copy


# --- the fetcher, one URL kind at a time -------------------------------------------------


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "assets"
    (root / "sub").mkdir(parents=True)
    (root / "style.css").write_text("p { color: red }")
    (root / "sub" / "inside.css").symlink_to(root / "style.css")
    (root / "out.css").symlink_to("/etc/passwd")
    (root / "up").symlink_to(tmp_path)
    (tmp_path / "secret.txt").write_text("secret")
    (root / "loop.css").symlink_to(root / "loop.css")
    os.mkfifo(root / "fifo.css")
    (root / "big.png").write_bytes(b"\0" * (MAX_IMAGE_BYTES + 1))
    return root


@pytest.mark.parametrize(
    "url,refusal",
    [
        ("file:///etc/passwd", "outside the handout's asset folders"),
        ("{root}/../secret.txt", "outside"),
        ("{root}/sub/../../secret.txt", "outside"),
        ("{root}/%2e%2e/secret.txt", "outside"),
        ("{root}/out.css", "outside"),  # a symlink pointing out
        ("{root}/up/secret.txt", "outside"),  # a folder symlink pointing out
        ("file:///dev/zero", "outside"),
        ("{root}/fifo.css", "not a regular file"),  # must not wait for a writer
        ("{root}/sub", "not a regular file"),
        ("{root}/loop.css", "refused"),
        ("{root}/missing.css", "cannot read"),
        ("{root}/big.png", f"larger than {MAX_IMAGE_BYTES // 1024} KiB"),
        ("{root}/style.css%00.png", "refused"),
        ("http://169.254.169.254/latest/meta-data/", "no network"),
        ("https://example.org/logo.png", "no network"),
        ("ftp://example.org/x", "no network"),
        ("file://169.254.169.254/etc/passwd", "no network"),
        ("data:image/png;base64,iVBORw0KGgo=", "no data: URLs"),
        ("data:text/css,@import url(file:///etc/passwd);", "no data: URLs"),
    ],
)
def test_fetcher_refuses(root, url, refusal):
    fetcher = AssetFetcher((root,))
    url = url.format(root=root.as_uri())
    with pytest.raises(ValueError, match=re.escape(refusal)):
        fetcher.fetch(url)
    assert len(fetcher.refused) == 1


def test_fetcher_refuses_a_device_even_inside_a_root():
    with pytest.raises(ValueError, match="not a regular file"):
        AssetFetcher((Path("/dev"),)).fetch("file:///dev/zero")


def test_fetcher_reads_files_inside_its_roots(root):
    fetcher = AssetFetcher((root,))
    for url in (
        (root / "style.css").as_uri(),
        (root / "sub" / "inside.css").as_uri(),
        root.as_uri() + "/sub/../style.css?query#fragment",
    ):
        response = fetcher.fetch(url)
        assert response.read() == b"p { color: red }"
        assert response.content_type == "text/css"
    assert fetcher.refused == []
    # a single file can be a root: that file and nothing beside it
    only = AssetFetcher((root / "style.css",))
    assert only.fetch((root / "style.css").as_uri()).read() == b"p { color: red }"
    with pytest.raises(ValueError, match="outside"):
        only.fetch((root / "big.png").as_uri())


# --- in content ----------------------------------------------------------------------

RAW_HTML = [
    '<img src="file:///etc/passwd">',
    "<style>@import url(file:///etc/passwd);</style>",
    '<p style="background: url(file:///etc/hostname)">styled</p>',
    '<link rel="attachment" href="handout.css">',
    '<a rel="attachment" href="handout.css">notes</a>',
    '<a href="http://169.254.169.254/">metadata</a>',
]


def test_raw_html_in_content_is_printed_as_text_and_fetches_nothing(project_copy, tmp_path):
    write_content(project_copy, "\n\n".join(RAW_HTML))
    pdf = render(project_copy)
    reader = assert_nothing_embedded(pdf.data, tmp_path)
    text = "".join(pdf_text(tmp_path / "out.pdf").split())
    for raw in RAW_HTML:
        assert "".join(raw.split()) in text  # escaped: the reader sees the markup as text
    assert link_targets(reader) == {WEBSITE}  # no link but the clinic's own website
    assert "passwd" not in " ".join(pdf.warnings) and "root:" not in text


@pytest.mark.parametrize(
    "markdown,refusal",
    [
        ("![x](/etc/passwd)", "refused to fetch file:///etc/passwd: it is outside"),
        ("![x](../../../../../../../../etc/passwd)", "refused to fetch file:///etc/passwd: it is outside"),
        ("![x](passwd.png)", "passwd.png: it is outside"),  # symlink pointing out
        ("![x](/dev/zero)", "refused to fetch file:///dev/zero"),
        ("![x](zero.png)", "zero.png: it is outside"),
        ("![x](fifo.png)", "fifo.png: not a regular file"),
        ("![x](big.png)", "big.png: larger than"),
        ("![x](http://169.254.169.254/latest/meta-data/)", "refused to fetch http://169.254.169.254/"),
        ("![x](data:image/png;base64,iVBORw0KGgo=)", "refused to fetch data:image/png"),
    ],
)
def test_image_in_content_that_leaves_the_asset_folders_fails_the_handout(traps, markdown, refusal):
    write_content(traps, markdown)
    with pytest.raises(RenderError, match=re.escape(refusal)):
        render(traps)


def test_file_url_image_in_content_is_neutralised_by_markdown(project_copy, tmp_path):
    write_content(project_copy, "![x](file:///etc/passwd)")
    pdf = render(project_copy)
    assert_nothing_embedded(pdf.data, tmp_path)
    assert "![x](file:///etc/passwd)" in pdf_text(tmp_path / "out.pdf")  # printed as text


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,hello",
        "handout.css",
        "../../etc/passwd",
        "ftp://example.org/",
    ],
)
def test_link_in_content_to_anything_but_https_mailto_tel_names_file_and_line(project_copy, target):
    write_content(project_copy, f"Read [this]({target}).")
    with pytest.raises(ContentError, match=r"links may only use https:, mailto:, tel:") as info:
        load_content(project_copy.content)
    assert info.value.path.name == "disclaimer.md" and info.value.line == 12
    assert target in info.value.message


def test_allowed_links_in_content_become_pdf_links(project_copy, tmp_path):
    write_content(
        project_copy, "[Guide](https://example.org/guide), [mail](mailto:care@example.org), [call](tel:+15035550142)."
    )
    reader = assert_nothing_embedded(render(project_copy).data, tmp_path)
    assert link_targets(reader) == {"https://example.org/guide", "mailto:care@example.org", "tel:+15035550142", WEBSITE}


# --- in a translation --------------------------------------------------------------------


def set_translation(project, msgid: str, msgstr: str, language="es") -> int:
    """Put a msgstr into a catalog file; returns the entry's line."""
    path = catalog_path(project.locales, language)
    catalog = read_catalog(path, language)
    catalog.get(msgid).string = msgstr
    path.write_bytes(po_bytes(catalog))
    return read_catalog(path, language).get(msgid).lineno


@pytest.mark.parametrize(
    "msgstr,problem",
    [
        ('Dolor <img src="file:///etc/passwd">', "raw HTML in the translation"),
        ("<style>@import url(file:///etc/passwd);</style>", "raw HTML in the translation"),
        ('<p style="background: url(/etc/passwd)">Dolor</p>', "raw HTML in the translation"),
        ('<link rel="attachment" href="/etc/passwd">', "raw HTML in the translation"),
        ('<a rel="attachment" href="/etc/passwd">Dolor</a>', "raw HTML in the translation"),
        ("Dolor ![x](../../../../etc/passwd)", "Markdown emphasis changed"),
        ("Dolor ![x](/dev/zero)", "Markdown emphasis changed"),
        ("Dolor ![x](data:image/png;base64,iVBORw0KGgo=)", "links changed"),
        ("[Dolor](http://169.254.169.254/)", "link targets ['http://169.254.169.254/'] are not allowed"),
        ("[Dolor](javascript:alert(1))", "are not allowed; links may only use https:, mailto:, tel:"),
    ],
)
def test_attack_in_a_translation_is_refused_with_path_and_line(project_copy, msgstr, problem):
    line = set_translation(project_copy, "Chest pain.", msgstr)
    with pytest.raises(BrokenTranslation) as info:
        render(project_copy, "es")
    assert f"messages.po:{line}: error: " in info.value.message
    assert problem in info.value.message


def translator_without_gates(project, language: str, **msgstrs: str) -> Translator:
    """A real catalog with some translations replaced, its gates switched off: to show that
    the renderer is safe even when a check misses something."""
    path = catalog_path(project.locales, language)
    catalog = read_catalog(path, language)
    for msgid, msgstr in msgstrs.items():
        catalog.get(msgid).string = msgstr
    return make_translator(language, catalog, path, checks=False)


def test_raw_html_in_a_unit_reaches_the_page_as_text_even_past_the_gates(project_copy, tmp_path):
    tr = translator_without_gates(
        project_copy,
        "es",
        **{"Chest pain.": '<b>Dolor</b> <img src="file:///etc/passwd"> <a rel="attachment" href="x">x</a>'},
    )
    pdf = render(project_copy, "es", translator=tr)
    assert_nothing_embedded(pdf.data, tmp_path)
    # the column may wrap the tags anywhere: compare without the spaces
    assert '<b>Dolor</b><imgsrc="file:///etc/passwd">' in pdf_text(tmp_path / "out.pdf").replace(" ", "")


def test_image_in_a_unit_is_still_refused_by_the_fetcher_past_the_gates(project_copy):
    tr = translator_without_gates(project_copy, "es", **{"Chest pain.": "Dolor ![x](/etc/passwd)"})
    with pytest.raises(RenderError, match="refused to fetch file:///etc/passwd"):
        render(project_copy, "es", translator=tr)


def test_translated_template_strings_are_escaped(project_copy, tmp_path):
    """Jinja's newstyle gettext marks a translation safe; ours are escaped before that."""
    tr = translator_without_gates(
        project_copy,
        "es",
        **{
            "Clinic": '<b>Clínica</b> <img src="file:///etc/passwd">',
            "Version %(version)s": "Versión <i>%(version)s</i> & más",
        },
    )
    clinic = load_clinics(project_copy, ["example"])[0]
    doc = compose(clinic, load_content(project_copy.content).routes["iv"], tr, project_copy.templates)
    assert "&lt;b&gt;Clínica&lt;/b&gt; &lt;img src=" in doc.html
    assert "<b>Clínica" not in doc.html and "<i>" not in doc.html
    assert re.search(
        r'"Versi\\0000F3 n \\00003C i\\00003E [\d.]+\\00003C /i\\00003E  \\000026  m\\0000E1 s"', doc.html
    )  # the footer's CSS
    pdf = render_pdf(doc)
    assert_nothing_embedded(pdf.data, tmp_path)
    text = pdf_text(tmp_path / "out.pdf")
    assert '<b>Clínica</b> <img src="file:///etc/passwd">' in text
    assert re.search(r"Versión <i>[\d.]+</i> & más", text) and "&amp;" not in text


# --- in a clinic's file ------------------------------------------------------------------


def clinic_with(project, **values) -> Path:
    path = project.clinics / "example.toml"
    text = path.read_text()
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert count == 1, key
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "logo,make,problem",
    [
        ('"../../../etc/passwd"', None, "logo: must be an SVG or PNG file"),
        ('"/etc/passwd.svg"', None, "logo: file not found"),
        ('"http://169.254.169.254/logo.svg"', None, "logo: file not found"),
        (
            '"../../outside.svg"',
            lambda c: (c.parents[1] / "outside.svg").write_text("<svg/>"),
            "is outside the clinic's folder",
        ),
        ('"evil.svg"', lambda c: (c / "evil.svg").symlink_to("/etc/passwd"), "is outside the clinic's folder"),
        ('"zero.png"', lambda c: (c / "zero.png").symlink_to("/dev/zero"), "is outside the clinic's folder"),
        ('"fifo.svg"', lambda c: os.mkfifo(c / "fifo.svg"), "is not a regular file"),
        (
            '"huge.png"',
            lambda c: (c / "huge.png").write_bytes(PNG_HEADER + bytes(MAX_IMAGE_BYTES)),
            f"huge.png is 2048 KiB, more than the {MAX_IMAGE_BYTES // 1024} KiB allowed",
        ),
    ],
)
def test_logo_outside_the_clinic_folder_special_or_too_big_is_refused(project_copy, logo, make, problem):
    if make:
        make(project_copy.clinics)
    path = clinic_with(project_copy, logo=logo)
    with pytest.raises(ConfigError, match=re.escape(problem)) as info:
        load_clinic(path, available_languages(project_copy.locales))
    assert info.value.path == path and info.value.line == 4


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">{}</svg>'


@pytest.mark.parametrize(
    "inner,refusal",
    [
        ('<image href="file:///etc/passwd" width="5" height="5"/>', "file:///etc/passwd: it is outside"),
        ('<image href="http://169.254.169.254/x.png" width="5" height="5"/>', "http://169.254.169.254/x.png"),
        ('<image href="data:image/png;base64,iVBORw0KGgo=" width="5" height="5"/>', "data:image/png"),
        ('<image href="example.toml" width="5" height="5"/>', "example.toml: it is outside"),  # beside the logo
    ],
)
def test_logo_that_fetches_something_is_refused_at_load_and_by_the_fetcher(project_copy, inner, refusal):
    clinic = load_clinics(project_copy, ["example"])[0]  # loaded while its logo is sound
    (project_copy.clinics / "example-logo.svg").write_text(SVG.format(inner))
    with pytest.raises(
        ConfigError, match="logo: example-logo.svg cannot be printed: it refers to another file or address"
    ) as info:
        load_clinics(project_copy, ["example"])
    assert info.value.line == 4
    # swapped in after the clinic was loaded, the logo still fetches nothing
    content = load_content(project_copy.content)
    doc = compose(clinic, content.routes["iv"], load_translator(project_copy.locales, "en"), project_copy.templates)
    with pytest.raises(RenderError, match=re.escape(refusal)):
        render_pdf(doc, 20)


@pytest.mark.parametrize(
    "old,new,key",
    [
        (
            'primary = "#1d5b79"',
            'primary = "#fff; } @import url(file:///etc/passwd); :root { --x: #000"',
            "colors.primary",
        ),
        ('primary = "#1d5b79"', 'primary = "red"', "colors.primary"),
        ('accent = "#8fc1d4"', 'accent = "#1d5b79ff"', "colors.accent"),
        (
            'accent = "#8fc1d4"',
            'accent = "#8fc1d4"\non_primary = "white; background: url(/etc/passwd)"',
            "colors.on_primary",
        ),
        ('paper = "letter"', 'paper = "99999in 99999in"', "paper"),
        ('paper = "letter"', 'paper = "letter; } @page { size: 1mm"', "paper"),
        ('paper = "letter"', 'paper = "letter"\nfont = "Noto Sans\\"; } @import url(file:///etc/passwd); x {"', "font"),
        ("standard = 4", "standard = 100000", "page_budget.standard"),
        ("standard = 4", "standard = -1", "page_budget.standard"),
    ],
)
def test_absurd_css_values_in_a_clinic_file_are_refused(project_copy, old, new, key):
    """Every value from a clinic's file that reaches the stylesheet or the layout is checked."""
    path = project_copy.clinics / "example.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError, match=re.escape(key)) as info:
        load_clinic(path, available_languages(project_copy.locales))
    assert info.value.line is not None


def test_a_refused_fetch_fails_one_handout_and_the_batch_goes_on(project_copy):
    """WeasyPrint's fatal fetch error is a BaseException: it must not end the build. (Such a
    logo is refused when the clinic is loaded; here it is swapped in after loading.)"""
    clinics = project_copy.clinics
    (clinics / "bad-logo.svg").write_text(SVG.format(""))
    (clinics / "bad.toml").write_text(
        (clinics / "example.toml").read_text().replace('"example-logo.svg"', '"bad-logo.svg"')
    )
    jobs = plan(load_clinics(project_copy, ["bad", "example"]), ["en"], ["iv"], ["standard"])
    (clinics / "bad-logo.svg").write_text(SVG.format('<image href="file:///etc/passwd"/>'))
    out = project_copy.root / "handouts"
    results = {r.job.name: r for r in build(project_copy, jobs, out)}
    assert not results["bad/en/iv"].ok
    assert "refused to fetch file:///etc/passwd" in results["bad/en/iv"].message
    assert results["example/en/iv"].ok and (out / "example/en/iv.pdf").is_file()
    assert not (project_copy.root / "handouts/bad/en/iv.pdf").exists()


# --- the time limit ------------------------------------------------------------------------


# The alarm may go off while Python runs a destructor, which reports and ignores it; the alarm
# repeats every 0.1 s until the render stops, so that is expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_render_over_the_time_limit_fails_cleanly_and_restores_the_alarm(project_copy):
    path = project_copy.content / CONTENT_BLOCK
    path.write_text(path.read_text() + "\n\nThis handout gives general facts. " * 400)
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(RenderError, match=r"took longer than the time limit of 0\.3 s"):
        render(project_copy, time_limit=0.3)
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_handout_over_the_time_limit_is_reported_with_the_limit_as_given(project_copy, tmp_path):
    """The build composes a handout, then renders it in what is left of the limit: the
    message names the limit given (2 s here), not what was left of it for rendering."""
    path = project_copy.content / CONTENT_BLOCK  # composed in well under 2 s, rendered in far more
    path.write_text(path.read_text() + "\n\nThis handout gives general facts. " * 400)
    jobs = plan(load_clinics(project_copy, ["example"]), ["en"], ["iv"], ["standard"])
    [result] = build(project_copy, jobs, tmp_path / "out", BuildOptions(workers=1, time_limit=2))
    assert result.status == "failed"
    assert "rendering took longer than the time limit of 2 s; shorten the text" in result.message


def test_time_limit_option(project_copy):
    proc = handouts(
        project_copy,
        "build",
        "--clinic",
        "example",
        "--language",
        "en",
        "--language",
        "es",
        "--route",
        "iv",
        "--edition",
        "standard",
        "--jobs",
        "1",
        "--time-limit",
        "0.01",
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("took longer than the time limit of 0.01 s") == 2  # each reported, none ends the batch
    assert "Traceback" not in proc.stderr
    assert not list((project_copy.root / "handouts").rglob("*.pdf"))
    proc = handouts(project_copy, "build", "--time-limit", "soon")
    assert proc.returncode == 2 and "'soon' is not a number of seconds" in proc.stderr


# --- in the HTML itself (a template is the only place that could write these) -------------


@pytest.mark.parametrize(
    "body,refusal",
    [
        ('<link rel="attachment" href="handout.css">', 'embed a file as a PDF attachment (<link rel="attachment">)'),
        ('<a rel="attachment" href="handout.css">notes</a>', 'handout.css as a PDF attachment (<a rel="attachment">)'),
        ('<a href="file:///etc/passwd">x</a>', "link to file:///etc/passwd refused"),
        ('<a href="http://169.254.169.254/">x</a>', "link to http://169.254.169.254/ refused"),
        ('<link rel="stylesheet" href="file:///etc/passwd">', "refused to fetch file:///etc/passwd"),
    ],
)
def test_the_renderer_embeds_no_attachment_and_links_only_https_mailto_tel(project, body, refusal):
    doc = HandoutDocument(
        html=f"<!DOCTYPE html><html><body><p>Hello</p>{body}</body></html>",
        language="en",
        base_url=project.templates,
        asset_roots=(project.templates,),
    )
    with pytest.raises(RenderError, match=re.escape(refusal)):
        render_pdf(doc)

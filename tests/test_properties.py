"""Properties over many generated inputs (hypothesis): Markdown survives segmenting and
putting back, the translation checks never crash, and the fetcher never leaves its roots."""
from pathlib import Path
from urllib.parse import urlsplit, unquote

from babel.messages.catalog import Catalog
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
import pytest

from generator.errors import CatalogError
from generator.gates import blank, entry_problems
from generator.pdf import AssetFetcher
from generator.segments import render, units
from generator.translation import Translator, catalog_path, load_translator

from .conftest import po_bytes

QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INLINE = st.sampled_from([
    "word", "two words", "**bold**", "*em*", "_em_", "`code`", "[link](https://example.org/a)",
    "[ref]", "[ref][]", "![img](pic.png)", "{clinic_name}", "<b>html</b>", "&amp;", "&copy;",
    "\\*", "*", "**", "_", "[", "]", "(", ")", "<", ">", "!", "#", "|", "\\", "  \n", "\n",
    "https://example.org", "<https://example.org>", "1.", "-", "+", "~~x~~", "Ünïcødé", "中文",
])
LINE = st.builds(
    lambda prefix, parts: prefix + " ".join(parts),
    st.sampled_from(["", "", "# ", "## ", "- ", "* ", "1. ", "> ", "    ", "| ", "  - "]),
    st.lists(INLINE, max_size=6))
BLOCK_EXTRAS = st.sampled_from([
    "", "---", "| a | b |\n| --- | --- |\n| x **y** | [z](https://example.org) |",
    "```\ncode *not em*\n```", "[ref]: https://example.org/ref", "Title\n=====", "<div>raw</div>",
])
MARKDOWN = st.one_of(
    st.lists(st.one_of(LINE, BLOCK_EXTRAS), max_size=12).map("\n".join),
    st.text(alphabet="ab *_[]()<>!#|`\\-+.1\n:/{}&;", max_size=120),
    st.text(max_size=60),
)


@QUICK
@given(MARKDOWN)
@example("See [the guide][ref].\n\n[ref]: https://example.org/ref")  # a reference defined elsewhere
def test_identity_translation_gives_the_same_html(markdown):
    """Every unit put back as its own translation renders exactly as the untranslated text:
    the units hold all of the inline Markdown, and nothing is lost or added on the way."""
    seen = []

    def identity(unit):
        seen.append(unit.text)
        return unit.text

    assert render(markdown, identity) == render(markdown)
    assert seen == [unit.text for unit in units(markdown)]


#: Text heavy in what a careless or hostile translation brings: bidi controls and isolates,
#: format and control characters, combining marks, digits, braces and percent signs.
TRICKY = st.text(st.one_of(
    st.characters(),
    st.sampled_from("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200d\u00ad"
                    "\x00\x07\x85\u0301\u0338{}%()sdr5 _\u0631\u0642\u0645")))


@QUICK
@given(st.text(min_size=1), st.text())
def test_entry_checks_never_crash(msgid, msgstr):
    problems = entry_problems(msgid, msgstr)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)


@QUICK
@given(TRICKY, TRICKY, st.booleans())
def test_entry_checks_never_crash_on_bidi_format_and_percent_characters(msgid, msgstr, formatted):
    problems = entry_problems(msgid or "x", msgstr, formatted=formatted)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    if any(0x202A <= ord(c) <= 0x202E for c in msgstr):
        assert any("bidirectional control character" in p for p in problems)


@QUICK
@given(st.text(min_size=1), st.text(min_size=1))
def test_a_catalog_with_any_entry_compiles_and_is_checked_without_crashing(msgid, msgstr):
    catalog = Catalog(locale="es")
    catalog.add(msgid, msgstr, locations=[("content/x.md", 1)])
    tr = Translator("es", catalog)
    # a translation of spaces or invisible characters only counts as untranslated
    assert tr.unit(msgid) == (None if blank(msgstr) else msgstr)
    assert all(problem.msgid == msgid for problem in tr.problems.get(msgid, []))


@pytest.fixture(scope="module")
def locales(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("locales")


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_a_catalog_file_with_any_entry_loads_or_fails_cleanly(locales, msgid, msgstr):
    """The whole path a catalog takes (Babel, msgfmt, header and entry checks): a
    CatalogError at worst, never another exception."""
    catalog = Catalog(locale="es", fuzzy=False)
    catalog.add(msgid, msgstr, locations=[("content/x.md", 1)])
    path = catalog_path(locales, "es")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(po_bytes(catalog))
    try:
        load_translator(locales, "es")
    except CatalogError:
        pass


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """root/ holds files, a folder, links that stay inside and links that point out."""
    base = tmp_path_factory.mktemp("tree")
    root = base / "root"
    (root / "sub").mkdir(parents=True)
    (root / "in.css").write_text("inside")
    (root / "sub" / "deep.css").write_text("inside")
    (root / "sub" / "link.css").symlink_to(root / "in.css")
    (root / "sub" / "up").symlink_to(root)
    (root / "out").symlink_to(base)
    (root / "passwd").symlink_to("/etc/passwd")
    (base / "secret.css").write_text("outside")
    (base / "root2").mkdir()
    (base / "root2" / "in.css").write_text("outside")  # a sibling whose name starts like the root
    return root


FOLDER = st.sampled_from(["..", ".", "", "sub", "up", "out", "root", "root2", "%2e%2e", "..%2f"])
FILE = st.sampled_from(["in.css", "deep.css", "link.css", "secret.css", "passwd", "in.css%00",
                        "in.css?x", "sub", ""])
PREFIX = st.sampled_from(["{root}/", "{root}/", "{root}/", "{root}/", "file://localhost{root}/",
                          "{base}/", "file:///", "file://host/", "http://127.0.0.1/", "data:,"])


@QUICK
@given(PREFIX, st.lists(FOLDER, max_size=5), FILE)
@example("{root}/", ["out"], "secret.css")              # a folder link pointing out
@example("{root}/", ["sub", "up", "out"], "secret.css")  # ... reached through a link inside
@example("{root}/", [".."], "secret.css")
@example("{root}/", ["..", "root2"], "in.css")           # a sibling whose name starts like the root
@example("{root}/", [], "passwd")                        # a file link pointing out
def test_the_fetcher_never_reads_outside_its_roots(tree, prefix, folders, file):
    url = prefix.format(root=tree.as_uri(), base=tree.parent.as_uri()) + "/".join([*folders, file])
    fetcher = AssetFetcher((tree,))
    try:
        response = fetcher.fetch(url)
    except ValueError:
        assert fetcher.refused
        return
    path = Path(unquote(urlsplit(response.url).path))
    assert path == path.resolve() and path.is_relative_to(tree.resolve()), url
    assert response.read() == b"inside", url

"""Properties over many generated inputs (hypothesis): Markdown survives segmenting and
putting back, the translation checks never crash, the fetcher never leaves its roots, no
string ends a CSS string, and no manifest key leaves the output folder."""

import contextlib
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import tinycss2
from babel.messages.catalog import Catalog
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.errors import CatalogError
from generator.gates import blank, entry_problems
from generator.html import css_string, page_label_css
from generator.output import OutputError, UnsafePath, read_inside, write_inside
from generator.pdf import AssetFetcher
from generator.segments import render, units
from generator.translation import catalog_path, load_translator, make_translator

from .conftest import po_bytes

QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

INLINE = st.sampled_from(
    [
        "word",
        "two words",
        "**bold**",
        "*em*",
        "_em_",
        "`code`",
        "[link](https://example.org/a)",
        "[ref]",
        "[ref][]",
        "![img](pic.png)",
        "{clinic_name}",
        "<b>html</b>",
        "&amp;",
        "&copy;",
        "\\*",
        "*",
        "**",
        "_",
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "!",
        "#",
        "|",
        "\\",
        "  \n",
        "\n",
        "https://example.org",
        "<https://example.org>",
        "1.",
        "-",
        "+",
        "~~x~~",
        "Ünïcødé",
        "中文",
    ]
)
LINE = st.builds(
    lambda prefix, parts: prefix + " ".join(parts),
    st.sampled_from(["", "", "# ", "## ", "- ", "* ", "1. ", "> ", "    ", "| ", "  - "]),
    st.lists(INLINE, max_size=6),
)
BLOCK_EXTRAS = st.sampled_from(
    [
        "",
        "---",
        "| a | b |\n| --- | --- |\n| x **y** | [z](https://example.org) |",
        "```\ncode *not em*\n```",
        "[ref]: https://example.org/ref",
        "Title\n=====",
        "<div>raw</div>",
    ]
)
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
#: (A list of characters, not st.text(alphabet=...): that merges the sample into characters()
#: and then almost never draws from it.)
TRICKY = st.lists(
    st.one_of(
        st.sampled_from(
            "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200d\u00ad"
            "\x00\x07\x85\u0301\u0338{}%()sdr5 _\u0631\u0642\u0645"
        ),
        st.characters(),
    )
).map("".join)

#: what entry_problems says when a translation differs from its source (not its characters)
COMPARISONS = (
    "missing from the translation",
    "added or renamed in the translation",
    "structure changed",
    "emphasis changed",
    "links changed",
    "numbers differ",
)


@QUICK
@given(st.text(min_size=1), st.text())
def test_entry_checks_never_crash(msgid, msgstr):
    problems = entry_problems(msgid, msgstr)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    # a text compared with itself differs in nothing (only its own characters can be wrong)
    assert not [p for p in entry_problems(msgid, msgid) if any(c in p for c in COMPARISONS)]
    # one number more in the translation is always seen: with it or without it, the numbers differ
    more = entry_problems(msgid, msgstr + " 7")
    assert any("numbers differ" in p for p in [*problems, *more]), (problems, more)


def unpaired_isolates(text: str) -> str:
    """The isolate characters of ``text`` left when innermost pairs are removed until none is left."""
    isolates = "".join(c for c in text if 0x2066 <= ord(c) <= 0x2069)
    while re.search("[\u2066-\u2068]\u2069", isolates):
        isolates = re.sub("[\u2066-\u2068]\u2069", "", isolates)
    return isolates


@QUICK
@given(TRICKY, TRICKY, st.booleans())
def test_entry_checks_never_crash_on_bidi_format_and_percent_characters(msgid, msgstr, formatted):
    problems = entry_problems(msgid or "x", msgstr, formatted=formatted)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
    # an embedding or override is named by its code point, and nothing else is called one
    overrides = [c for c in msgstr if 0x202A <= ord(c) <= 0x202E]
    for char in overrides:
        assert any(f"bidirectional control character U+{ord(char):04X}" in p for p in problems), problems
    assert bool(overrides) == any("bidirectional control character" in p for p in problems), problems
    # isolates: an error exactly when they do not pair up
    assert bool(unpaired_isolates(msgstr)) == any("unbalanced bidirectional isolate" in p for p in problems), problems
    # every control character but tab and newline is named
    for char in {c for c in msgstr if unicodedata.category(c) == "Cc" and c not in "\t\n"}:
        assert any(f"invisible control character U+{ord(char):04X}" in p for p in problems), problems


@QUICK
@given(st.text(min_size=1), st.text(min_size=1))
def test_a_catalog_with_any_entry_compiles_and_is_checked_without_crashing(msgid, msgstr):
    catalog = Catalog(locale="es")
    catalog.add(msgid, msgstr, locations=[("content/x.md", 1)])
    tr = make_translator("es", catalog)
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
        tr = load_translator(locales, "es")
    except CatalogError as exc:  # a message naming the catalog, as path:line: error: ...
        assert re.match(rf"{re.escape(str(path))}(:\d+)?: error: ", str(exc)), str(exc)
        return
    # loaded: the entry is there, and whatever is wrong with it is said about it, in this catalog
    assert tr.catalog is not None and tr.catalog.get(msgid) is not None
    assert tr.unit(msgid) in (msgstr, None)
    assert all(p.path == path and p.msgid == msgid for ps in tr.problems.values() for p in ps), tr.problems


@settings(max_examples=25, deadline=None)
@given(
    st.text(alphabet="abcdefghij KLMNOP,.?", min_size=1, max_size=30).filter(str.strip),
    st.text(alphabet="abcdefghij KLMNOPñáé,.?", min_size=1, max_size=30).filter(str.strip),
)
def test_a_catalog_file_with_a_plain_entry_loads_and_gives_its_translation(locales, msgid, msgstr):
    """Letters, spaces and punctuation only: the catalog loads and the unit is translated."""
    catalog = Catalog(locale="es", fuzzy=False)
    catalog.add(msgid, msgstr, locations=[("content/x.md", 1)])
    path = catalog_path(locales, "es")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(po_bytes(catalog))
    tr = load_translator(locales, "es")
    assert tr.unit(msgid) == msgstr and tr.problems == {}


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
FILE = st.sampled_from(["in.css", "deep.css", "link.css", "secret.css", "passwd", "in.css%00", "in.css?x", "sub", ""])
PREFIX = st.sampled_from(
    [
        "{root}/",
        "{root}/",
        "{root}/",
        "{root}/",
        "file://localhost{root}/",
        "{base}/",
        "file:///",
        "file://host/",
        "http://127.0.0.1/",
        "data:,",
    ]
)


@QUICK
@given(PREFIX, st.lists(FOLDER, max_size=5), FILE)
@example("{root}/", ["out"], "secret.css")  # a folder link pointing out
@example("{root}/", ["sub", "up", "out"], "secret.css")  # ... reached through a link inside
@example("{root}/", [".."], "secret.css")
@example("{root}/", ["..", "root2"], "in.css")  # a sibling whose name starts like the root
@example("{root}/", [], "passwd")  # a file link pointing out
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


@QUICK
@given(st.text())
@example("\f}body{display:none}")  # the form feed of the issue
@example('"; } @page { content: "x')
@example("a\\\r\n*/</style><script>")
@example("\x00\x85\u2028")
def test_no_string_ends_a_css_string(text):
    """Whatever a translation says, it reaches the stylesheet as one string token holding
    exactly that text (read with tinycss2, the parser WeasyPrint uses), inside a style
    element that nothing can close."""
    css = str(css_string(text))
    assert "</" not in css.lower() and "*/" not in css and "\n" not in css and "\f" not in css
    rules = tinycss2.parse_declaration_list(f"content: {css}; color: red", skip_whitespace=True)
    assert [(d.type, d.name) for d in rules] == [("declaration", "content"), ("declaration", "color")]
    tokens = [t for t in rules[0].value if t.type != "whitespace"]
    assert [t.type for t in tokens] == ["string"]
    assert tokens[0].value == text.replace("\x00", "\ufffd")


@QUICK
@given(st.text())
@example("%(page)s")
def test_a_page_label_is_strings_and_counters_only(label):
    css = page_label_css(label + " %(page)s / %(pages)s")
    tokens = [t for t in tinycss2.parse_component_value_list(css) if t.type != "whitespace"]
    assert all(t.type == "string" or (t.type == "function" and t.name == "counter") for t in tokens)
    printed = re.sub(r"%\((?:page|pages)\)s", "", label + " ").replace("\x00", "\ufffd") + " / "
    assert "".join(t.value for t in tokens if t.type == "string") == printed


@pytest.fixture(scope="module")
def output_tree(tmp_path_factory) -> Path:
    """out/ with a folder, a link to a folder outside it, a file link out, and a sibling."""
    base = tmp_path_factory.mktemp("output")
    out = base / "out"
    (out / "example" / "es").mkdir(parents=True)
    (base / "outside").mkdir()
    (out / "away").symlink_to(base / "outside")
    (out / "example" / "up").symlink_to(base)
    (out / "example" / "es" / "iv.pdf").symlink_to(base / "outside" / "target.pdf")
    (base / "out2").mkdir()
    return out


def _outside(base: Path, out: Path) -> list[Path]:
    return sorted(p for p in base.rglob("*") if not p.is_relative_to(out))


KEY_PART = st.sampled_from(
    [
        "example",
        "es",
        "iv.pdf",
        "..",
        ".",
        "",
        "away",
        "up",
        "out2",
        "..%2f",
        "a\\b",
        "/",
        "manifest.json",
        "x\x00y",
        "~",
        "outside",
    ]
)


@QUICK
@given(st.lists(KEY_PART, min_size=1, max_size=6).map("/".join) | st.text(max_size=30))
@example("example/up/outside/evil.pdf")
@example("away/evil.pdf")
@example("example/es/iv.pdf")  # a link in place of the file itself
@example("../out2/evil.pdf")
@example("/tmp/evil.pdf")
def test_no_manifest_key_writes_or_reads_outside_the_output_folder(output_tree, key):
    """Whatever a manifest's key says, a file is written (and read) inside the output folder,
    after resolving every link, or the key is refused."""
    base = output_tree.parent
    before = _outside(base, output_tree)
    try:
        path = write_inside(output_tree, key, b"data")
    except OutputError:  # refused, or a file where a folder would go (earlier examples')
        pass
    else:
        assert path.resolve().is_relative_to(output_tree.resolve()), key
        assert not path.is_symlink() and path.read_bytes() == b"data"
        assert read_inside(output_tree, key, 100) == b"data"
    assert _outside(base, output_tree) == before, key
    with contextlib.suppress(UnsafePath, OSError):
        read_inside(output_tree, key, 100)

"""The PDF gate's fast path (issue 17): a PDF laid out exactly as pydyf, WeasyPrint's writer,
lays out a compressed one is read by pdfsafety's own reader instead of pypdf. It must refuse
everything the pypdf walk refuses, and leave to pypdf every file not exactly in that layout.

The PDFs here are written by pydyf itself (no rendering): a one-page document, with one fault
put into its objects before it is written.
"""

import io
import zlib

import pydyf
import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject

from generator import pdfsafety
from generator.pdfsafety import _NotPydyf, _pydyf_objects, _pypdf_problems, pdf_problems


def written(change=None, compress: bool = True) -> bytes:
    """A one-page PDF written by pydyf; ``change(pdf, page)`` adds a fault before it is written."""
    pdf = pydyf.PDF()
    content = pydyf.Stream([b"BT /F1 12 Tf 10 10 Td (Call \\(911\\)) Tj ET"], compress=True)
    pdf.add_object(content)
    page = pydyf.Dictionary(
        {
            "Type": "/Page",
            "Parent": pdf.pages.reference,
            "MediaBox": pydyf.Array([0, 0, 200, 200]),
            "Contents": content.reference,
        }
    )
    pdf.add_object(page)
    pdf.pages["Kids"].append(page.reference)
    pdf.pages["Count"] = 1
    pdf.info["Title"] = pydyf.String("Handout (draft)")
    if change:
        change(pdf, page)
    out = io.BytesIO()
    pdf.write(out, b"1.7", True, compress)
    return out.getvalue()


def action(pdf, page, action_dict: dict, key: str = "A") -> None:
    """An annotation on the page whose ``key`` is the given action (an indirect object)."""
    act = pydyf.Dictionary(action_dict)
    pdf.add_object(act)
    annot = pydyf.Dictionary(
        {"Type": "/Annot", "Subtype": "/Link", "Rect": pydyf.Array([0, 0, 9, 9]), key: act.reference}
    )
    pdf.add_object(annot)
    page["Annots"] = pydyf.Array([annot.reference])


def embedded(pdf, page) -> None:
    spec = pydyf.Dictionary({"Type": "/Filespec", "F": pydyf.String("notes.txt")})
    pdf.add_object(spec)
    names = pydyf.Dictionary(
        {"EmbeddedFiles": pydyf.Dictionary({"Names": pydyf.Array([pydyf.String("n"), spec.reference])})}
    )
    pdf.catalog["Names"] = names


FAULTS = {
    "javascript": (lambda pdf, page: action(pdf, page, {"S": "/JavaScript", "JS": pydyf.String("app.alert(1)")}), "JavaScript"),
    "launch": (lambda pdf, page: action(pdf, page, {"S": "/Launch", "F": pydyf.String("calc.exe")}), "Launch action"),
    "file link": (lambda pdf, page: action(pdf, page, {"S": "/URI", "URI": pydyf.String("file:///etc/passwd")}), "file:///etc/passwd"),
    "hex link": (lambda pdf, page: action(pdf, page, {"S": "/URI", "URI": b"<6a617661736372697074>"}), "javascript"),
    "escaped link": (lambda pdf, page: action(pdf, page, {"S": "/URI", "URI": b"(file:\\/\\/x\\(1\\))"}), "file://x(1)"),
    "automatic action": (lambda pdf, page: page.update({"AA": pydyf.Dictionary({"O": pydyf.Dictionary({"S": "/GoTo"})})}), "automatic action"),
    "open action": (lambda pdf, page: pdf.catalog.update({"OpenAction": pydyf.Dictionary({"S": "/JavaScript", "JS": pydyf.String("x")})}), "opens"),
    "embedded file": (embedded, "embedded file"),
    "attachment annotation": (lambda pdf, page: page.update({"Annots": pydyf.Array([pydyf.Dictionary({"Type": "/Annot", "Subtype": "/FileAttachment"})])}), "FileAttachment"),
    "name written with #": (lambda pdf, page: page.update({"J#53": pydyf.String("app.alert(1)")}), "JavaScript (/JS)"),
    "next action": (lambda pdf, page: action(pdf, page, {"S": "/URI", "URI": pydyf.String("https://example.org"), "Next": pydyf.Dictionary({"S": "/ImportData"})}), "ImportData action"),
}  # fmt: skip


def test_a_clean_pydyf_pdf_is_read_by_the_fast_path_and_passes():
    data = written()
    assert len(_pydyf_objects(data)) >= 5
    assert pdf_problems(data) == [] == _pypdf_problems(data)


@pytest.mark.parametrize("fault", FAULTS)
def test_the_fast_path_refuses_what_pypdf_refuses(fault):
    change, words = FAULTS[fault]
    data = written(change)
    _pydyf_objects(data)  # read by the fast path, not left to pypdf
    fast, slow = pdf_problems(data), _pypdf_problems(data)
    assert fast and any(words in problem for problem in fast), fast
    assert set(fast) >= set(slow), (fast, slow)


def test_the_fast_path_reads_every_object_not_only_those_reachable():
    """An object no page or catalog refers to is still checked (the walk from the trailer
    would not reach it)."""

    def orphan(pdf, page):
        pdf.add_object(pydyf.Dictionary({"S": "/JavaScript", "JS": pydyf.String("app.alert(1)")}))

    data = written(orphan)
    assert _pypdf_problems(data) == []
    assert pdf_problems(data) == ["it holds JavaScript (/JS)"]


def incremental(data: bytes) -> bytes:
    """The PDF with a JavaScript action added by an incremental update (another writer)."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    js = writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript")}))
    writer._root_object[NameObject("/OpenAction")] = js
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_anything_not_exactly_in_pydyf_layout_is_left_to_pypdf():
    good = written()
    bad = incremental(good)
    assert bad.startswith(good)
    for other in (bad, good + b"\n", written(compress=False), good.replace(b"/Length ", b"/Length  ", 1)):
        with pytest.raises(_NotPydyf):
            _pydyf_objects(other)
    assert "it holds an action run when the document opens (/OpenAction)" in pdf_problems(bad)
    assert pdf_problems(written(compress=False)) == []


def test_an_object_the_cross_reference_stream_places_elsewhere_is_left_to_pypdf():
    """An object hidden inside a stream's data, which the cross-reference stream points to,
    is not read past: the file goes to pypdf, which follows the cross-reference."""

    def hidden(pdf, page):
        stream = pydyf.Stream([b"endstream\nendobj\n"], compress=False)
        pdf.add_object(stream)
        page["Thumb"] = stream.reference

    good = written(hidden)
    _, offsets, _, _ = pdfsafety._top_level(good)
    assert retarget(good, min(offsets.values())) == good  # the helper changes only the offset
    tampered = retarget(good, good.index(b"endstream\nendobj\n"))  # into the stream's data
    with pytest.raises(_NotPydyf, match="not where the cross-reference stream places it"):
        _pydyf_objects(tampered)


def retarget(data: bytes, offset: int) -> bytes:
    """The PDF with the first uncompressed object's cross-reference entry set to ``offset``
    (the cross-reference stream rewritten, same length)."""
    tail = data.rindex(b"obj\n<<")
    head, rest = data[:tail], data[tail:]
    dictionary_end = rest.index(b">>\nstream\n") + len(b">>\nstream\n")
    length = int(rest[rest.index(b"/Length ") + 8 :].split(b">>")[0].split(b"/")[0])
    raw = rest[dictionary_end : dictionary_end + length]
    table = bytearray(zlib.decompress(raw))
    widths = [int(w) for w in rest[rest.index(b"/W [") + 4 :].split(b"]")[0].split()]
    size = sum(widths)
    for i in range(len(table) // size):
        if table[i * size] == 1:  # the first object written outside the object stream
            table[i * size + 1 : i * size + 1 + widths[1]] = offset.to_bytes(widths[1], "big")
            break
    new = zlib.compress(bytes(table), 9)
    rest = rest[:dictionary_end] + new + rest[dictionary_end + length :]
    rest = rest.replace(b"/Length %d" % length, b"/Length %d" % len(new), 1)
    return head + rest


def test_a_reference_to_a_missing_object_is_left_to_pypdf():
    def dangling(pdf, page):
        page["A"] = b"999 0 R"

    with pytest.raises(_NotPydyf):
        pdfsafety._fast_problems(written(dangling))


def test_built_handouts_are_read_by_the_fast_path(en_es_iv):
    for pdf in sorted(en_es_iv.rglob("*.pdf")):
        data = pdf.read_bytes()
        assert len(_pydyf_objects(data)) > 100
        assert pdf_problems(data) == [] == _pypdf_problems(data)

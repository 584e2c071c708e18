"""generator/pdfsafety.py on files written to hide what they hold, each with one thing a
handout never holds, and the same file without it: PDFs written by pydyf (WeasyPrint's writer,
objects compressed in object streams as in every handout), by pypdf as an incremental update,
and byte by byte (no cross-reference table: qpdf rebuilds it, as a viewer would)."""

from __future__ import annotations

import io

import pydyf
import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject

from generator.pdfsafety import pdf_problems


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


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_inside_pydyfs_object_streams_is_found(fault):
    change, words = FAULTS[fault]
    assert pdf_problems(written()) == []
    assert any(words in problem for problem in pdf_problems(written(change))), fault


def test_an_action_added_by_an_incremental_update_is_found():
    data = written()
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    js = writer._add_object(DictionaryObject({NameObject("/S"): NameObject("/JavaScript")}))
    writer._root_object[NameObject("/OpenAction")] = js
    out = io.BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(data)
    assert "it holds an action run when the document opens (/OpenAction)" in pdf_problems(out.getvalue())


PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] %s >>"


def pdf(catalog_extra: bytes = b"", page_extra: bytes = b"", *objects: bytes) -> bytes:
    """A one-page PDF; ``objects`` are numbered from 4 on."""
    body = [
        b"<< /Type /Catalog /Pages 2 0 R " + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        PAGE % page_extra,
        *objects,
    ]
    out = b"%PDF-1.7\n"
    for number, obj in enumerate(body, 1):
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    return out + b"trailer\n<< /Root 1 0 R /Size %d >>\n%%%%EOF\n" % (len(body) + 1)


LINK = b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A %s >>]"


def test_a_plain_page_and_allowed_links_pass():
    assert pdf_problems(pdf()) == []
    assert pdf_problems(pdf(page_extra=LINK % b"<< /S /URI /URI (tel:+15035550142) >>")) == []
    assert pdf_problems(pdf(b"", LINK % b"4 0 R", b"<< /S /URI /URI (https://example.org) >>")) == []


@pytest.mark.parametrize(
    "catalog, page, objects, problem",
    [
        # a name spelt with #-escapes is the same name
        (b"/OpenAction << /S /J#61vaScript /J#53 (app.alert(1)) >>", b"", [], "JavaScript"),
        # an action in its own object, without /Type, reached through the link's /A
        (b"", LINK % b"4 0 R", [b"<< /S /Launch /F (calc.exe) >>"], "Launch action"),
        # the second action of a chain (/Next), in its own object
        (b"", LINK % b"<< /S /URI /URI (https://example.org) /Next 4 0 R >>", [b"<< /S /ImportData >>"], "ImportData"),
        (b"", LINK % b"<< /S /URI /URI (file:///etc/passwd) >>", [], "file:///etc/passwd"),
        (b"/Names << /EmbeddedFiles 4 0 R >>", b"", [b"<< /Names [] >>"], "embedded file"),
        (b"", b"/Annots [4 0 R]", [b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 1 1] >>"], "FileAttachment"),
        (b"", b"/AA << /O 4 0 R >>", [b"<< /S /GoTo /D [3 0 R /Fit] >>"], "automatic action"),
        # held in the file though nothing points to it
        (b"", b"", [b"<< /Type /Action /S /JavaScript /JS (app.alert(1)) >>"], "JavaScript"),
    ],
)
def test_what_a_handout_never_holds_is_found_however_it_is_written(catalog, page, objects, problem):
    assert any(problem in found for found in pdf_problems(pdf(catalog, page, *objects)))


@pytest.mark.parametrize("data", [b"%PDF-1.7\nnothing else", b"%PDF-1.7\n1 0 obj << /Type /Catalog"])
def test_a_file_that_cannot_be_read_is_refused_with_a_reason(data):
    (problem,) = pdf_problems(data)
    assert problem.startswith("not a readable PDF")


def test_not_a_pdf():
    assert pdf_problems(b"<html>not a handout</html>") == ["not a PDF file"]

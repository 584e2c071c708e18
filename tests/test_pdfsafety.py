"""generator/pdfsafety.py on files written to hide what they hold: PDFs written byte by byte
(no cross-reference table: qpdf rebuilds it, as a viewer would), each with one thing a handout
never holds, and the same file without it."""

from __future__ import annotations

import pytest

from generator.pdfsafety import pdf_problems

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

"""What a finished PDF may hold, checked on its bytes: no embedded file, no JavaScript, no
action but a link to an allowed scheme (``https:``, ``mailto:``, ``tel:``) or a jump inside
the document. Every PDF is checked before it is written into the output folder, whether a
build rendered it or ``handouts merge`` copies it from a shard.

Read with pypdf: the document is walked from its trailer, every dictionary and array it
reaches, without decoding any stream.
"""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from .segments import allowed_link

#: names whose presence alone means something a handout never holds
FORBIDDEN_KEYS = {
    "/EmbeddedFiles": "an embedded file",
    "/EmbeddedFile": "an embedded file",
    "/JS": "JavaScript",
    "/JavaScript": "JavaScript",
    "/AA": "an automatic action",
    "/OpenAction": "an action run when the document opens",
    "/XFA": "an XFA form",
    "/RichMedia": "rich media",
}
FORBIDDEN_SUBTYPES = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
#: actions a handout may hold: a link (its scheme is checked) or a jump to a page of its own
ALLOWED_ACTIONS = {"/URI", "/GoTo"}
#: a bound on what is walked, so that a crafted file cannot make the check itself run forever
MAX_OBJECTS = 200_000


def pdf_problems(data: bytes) -> list[str]:
    """Why these bytes are not a PDF that may be printed as a handout ([] if they are)."""
    if not data.startswith(b"%PDF-"):
        return ["not a PDF file"]
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return ["the PDF is encrypted"]
        return _walk(reader.trailer)
    except (
        PyPdfError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        RecursionError,
        OverflowError,
    ) as exc:
        return [f"not a readable PDF ({type(exc).__name__}: {exc})"]


def _walk(trailer: DictionaryObject) -> list[str]:
    problems: list[str] = []
    seen: set[tuple[int, int]] = set()
    stack: list[object] = [trailer]
    walked = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        walked += 1
        if walked > MAX_OBJECTS:
            return [*problems, f"more than {MAX_OBJECTS} objects; not a handout"]
        if isinstance(obj, DictionaryObject):  # streams are dictionaries too: their data is skipped
            problems.extend(_dictionary_problems(obj))
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return list(dict.fromkeys(problems))


def _dictionary_problems(obj: DictionaryObject) -> list[str]:
    problems = [f"it holds {what} ({key})" for key, what in FORBIDDEN_KEYS.items() if key in obj]
    subtype = obj.get("/Subtype")
    if isinstance(subtype, NameObject) and subtype in FORBIDDEN_SUBTYPES:
        problems.append(f"it holds a {subtype[1:]} annotation")
    if obj.get("/Type") == "/Filespec":
        problems.append("it holds a file specification (an embedded or linked file)")
    for action in _actions(obj):
        kind = action.get("/S")
        if kind not in ALLOWED_ACTIONS:
            problems.append(f"it holds a {str(kind).lstrip('/')} action")
        elif kind == "/URI":
            target = _resolve(action.get("/URI"))
            text = target.decode("latin-1") if isinstance(target, bytes) else str(target)
            if not allowed_link(text):
                problems.append(f"it links to {text!r}: links may only use https:, mailto: or tel:")
    return problems


def _resolve(obj: object) -> object:
    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _actions(obj: DictionaryObject) -> list[DictionaryObject]:
    """The action dictionaries this one is or points to (an annotation's or outline item's
    /A, an action's /Next). A structure element's /S names its role, not an action."""
    found = [obj] if obj.get("/Type") == "/Action" else []
    for key in ("/A", "/Next"):
        value = _resolve(obj.get(key))
        for item in value if isinstance(value, ArrayObject) else [value]:
            item = _resolve(item)
            if isinstance(item, DictionaryObject) and "/S" in item:
                found.append(item)
    return found

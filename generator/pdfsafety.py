"""What a finished PDF may hold, checked on its bytes: no embedded file, no JavaScript, no
action but a link to an allowed scheme (``https:``, ``mailto:``, ``tel:``) or a jump inside
the document. Every PDF is checked before it is written into the output folder, whether a
build rendered it or ``handouts merge`` copies it from a shard.

Read with pikepdf (qpdf, fuzzed for years on hostile files): every object the file holds,
reachable or not, that names anything looked for, and every dictionary and array inside it,
without decoding any stream but the object streams that hold objects.
"""

from __future__ import annotations

import io
import re

import pikepdf

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
#: a dictionary holding none of these is not looked at further (only walked through)
WATCHED_KEYS = {*FORBIDDEN_KEYS, "/Subtype", "/Type", "/A", "/Next"}
#: an object naming none of these (a /Type or /Subtype alone is harmless) is not looked at;
#: an action without /Type is reached from the /A or /Next that points to it
WATCHED_NAMES = re.compile(
    rb"/("
    + b"|".join(
        re.escape(name[1:].encode())
        for name in (*FORBIDDEN_KEYS, *FORBIDDEN_SUBTYPES, "/Filespec", "/Action", "/A", "/Next")
    )
    + rb")(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"  # the whole name, not the start of a longer one
)
#: a bound on what is walked, so that a crafted file cannot make the check itself run forever
MAX_OBJECTS = 200_000


def pdf_problems(data: bytes) -> list[str]:
    """Why these bytes are not a PDF that may be printed as a handout ([] if they are)."""
    if not data.startswith(b"%PDF-"):
        return ["not a PDF file"]
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            if pdf.is_encrypted:
                return ["the PDF is encrypted"]
            return _walk([obj for obj in (pdf.trailer, *pdf.objects) if _suspect(obj)])
    except pikepdf.PasswordError:
        return ["the PDF is encrypted"]
    except (pikepdf.PdfError, ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError) as exc:
        return [f"not a readable PDF ({type(exc).__name__}: {exc})"]


def _suspect(obj: object) -> bool:
    """Whether the object, written out with every direct dictionary and array in it (a
    stream: its dictionary), names anything :func:`_dictionary_problems` looks for. qpdf
    writes each name in one form (``/J#53`` is read and written as ``/JS``), so a name cannot
    hide; a match inside a string only costs the closer look."""
    if isinstance(obj, pikepdf.Stream):
        obj = obj.stream_dict
    elif not isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)):
        return False
    return WATCHED_NAMES.search(obj.unparse(resolved=True)) is not None


def _walk(objects: list[pikepdf.Object]) -> list[str]:
    """Each object and the direct dictionaries and arrays inside it; an indirect one is
    among the file's objects itself, so a reference is not followed."""
    problems: list[str] = []
    stack = objects
    walked = 0
    while stack:
        obj = stack.pop()
        walked += 1
        if walked > MAX_OBJECTS:
            return [*problems, f"more than {MAX_OBJECTS} objects; not a handout"]
        if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):  # a stream's data is skipped
            keys = set(obj.keys())
            if keys & WATCHED_KEYS:
                problems.extend(_dictionary_problems(obj, keys))
            stack.extend(value for value in obj.values() if _container(value))
        elif isinstance(obj, pikepdf.Array):
            stack.extend(value for value in obj if _container(value))
    return list(dict.fromkeys(problems))


def _container(obj: object) -> bool:
    """A direct dictionary or array (pikepdf gives numbers and booleans as Python values)."""
    return isinstance(obj, (pikepdf.Dictionary, pikepdf.Array)) and not obj.is_indirect


def _dictionary_problems(obj: pikepdf.Object, keys: set[str]) -> list[str]:
    problems = [f"it holds {what} ({key})" for key, what in FORBIDDEN_KEYS.items() if key in keys]
    subtype = obj.get("/Subtype")
    if isinstance(subtype, pikepdf.Name) and str(subtype) in FORBIDDEN_SUBTYPES:
        problems.append(f"it holds a {str(subtype)[1:]} annotation")
    if obj.get("/Type") == pikepdf.Name.Filespec:
        problems.append("it holds a file specification (an embedded or linked file)")
    for action in _actions(obj):
        kind = str(action.get("/S"))
        if kind not in ALLOWED_ACTIONS:
            problems.append(f"it holds a {kind.lstrip('/')} action")
        elif kind == "/URI":
            target = action.get("/URI")
            text = bytes(target).decode("latin-1") if isinstance(target, pikepdf.String) else str(target)
            if not allowed_link(text):
                problems.append(f"it links to {text!r}: links may only use https:, mailto: or tel:")
    return problems


def _actions(obj: pikepdf.Object) -> list[pikepdf.Object]:
    """The action dictionaries this one is or points to (an annotation's or outline item's
    /A, an action's /Next). A structure element's /S names its role, not an action."""
    found = [obj] if obj.get("/Type") == pikepdf.Name.Action else []
    for key in ("/A", "/Next"):
        value = obj.get(key)
        for item in value if isinstance(value, pikepdf.Array) else [value]:
            if isinstance(item, pikepdf.Dictionary) and "/S" in item:
                found.append(item)
    return found

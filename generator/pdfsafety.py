"""What a finished PDF may hold, checked on its bytes: no embedded file, no JavaScript, no
action but a link to an allowed scheme (``https:``, ``mailto:``, ``tel:``) or a jump inside
the document. Every PDF is checked before it is written into the output folder, whether a
build rendered it or ``handouts merge`` copies it from a shard.

A PDF exactly as WeasyPrint's writer (pydyf) lays a compressed one out, as every handout
this project renders is, is read by :func:`_pydyf_objects`: every object in the file, each
token matched by one regular expression, its cross-reference stream checked to place every
object where it was read (about 10 times faster than pypdf; issue 17). Any other file (from
another writer, updated incrementally, encrypted, damaged, or merely unusual) is read with
pypdf and walked from its trailer, every dictionary and array it reaches. Neither decodes a
stream other than the object and cross-reference streams.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import zlib
from collections.abc import Callable, Iterator

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
    try:
        return _fast_problems(data)
    except _NotPydyf:
        pass  # not exactly pydyf's layout: pypdf reads it
    return _pypdf_problems(data)


def _pypdf_problems(data: bytes) -> list[str]:
    from pypdf import PdfReader  # here: a handout the build renders never needs pypdf
    from pypdf.errors import PyPdfError

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


def _walk(trailer: dict) -> list[str]:
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

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
            problems.extend(_dictionary_problems(obj, _resolve))
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return list(dict.fromkeys(problems))


def _dictionary_problems(obj: dict, resolve: Callable[[object], object]) -> list[str]:
    """What one dictionary holds that a handout may not (as read by pypdf or by the fast
    path: dictionaries are dicts, arrays lists, names str; ``resolve`` follows a reference)."""
    problems = [f"it holds {what} ({key})" for key, what in FORBIDDEN_KEYS.items() if key in obj]
    subtype = obj.get("/Subtype")
    if isinstance(subtype, str) and subtype in FORBIDDEN_SUBTYPES:
        problems.append(f"it holds a {subtype[1:]} annotation")
    if obj.get("/Type") == "/Filespec":
        problems.append("it holds a file specification (an embedded or linked file)")
    for action in _actions(obj, resolve):
        kind = action.get("/S")
        if kind not in ALLOWED_ACTIONS:
            problems.append(f"it holds a {str(kind).lstrip('/')} action")
        elif kind == "/URI":
            target = resolve(action.get("/URI"))
            text = target.decode("latin-1") if isinstance(target, bytes) else str(target)
            if not allowed_link(text):
                problems.append(f"it links to {text!r}: links may only use https:, mailto: or tel:")
    return problems


def _resolve(obj: object) -> object:
    from pypdf.generic import IndirectObject

    return obj.get_object() if isinstance(obj, IndirectObject) else obj


def _actions(obj: dict, resolve: Callable[[object], object]) -> list[dict]:
    """The action dictionaries this one is or points to (an annotation's or outline item's
    /A, an action's /Next). A structure element's /S names its role, not an action."""
    found = [obj] if obj.get("/Type") == "/Action" else []
    for key in ("/A", "/Next"):
        value = resolve(obj.get(key))
        for item in value if isinstance(value, list) else [value]:
            item = resolve(item)
            if isinstance(item, dict) and "/S" in item:
                found.append(item)
    return found


# The fast path: the exact layout pydyf (WeasyPrint's writer) gives a compressed PDF, read
# whole with a regular expression per token instead of pypdf's reader (which reads a
# handout's ~900 objects one byte-read at a time: 60-90 ms). Every object in the file is
# checked, reachable or not; anything not exactly in that layout (another writer, an
# incremental update, an encrypted or damaged file, an object the cross-reference stream
# does not place where it was read) is left to pypdf.

_WS = rb"[\x00\t\n\x0c\r ]"
_REGULAR = rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]"
#: one token with the white space before it
_TOKEN = re.compile(
    _WS + rb"*(?:"
    rb"(?P<name>/" + _REGULAR + rb"*)"
    rb"|(?P<ref>(?P<number>\d+)" + _WS + rb"+(?P<generation>\d+)" + _WS + rb"+R(?!" + _REGULAR + rb"))"
    rb"|(?P<word>" + _REGULAR + rb"+)"
    rb"|(?P<open><<|\[)"
    rb"|(?P<close>>>|\])"
    rb"|(?P<string>\((?:[^\\()]|\\.)*\))"
    rb"|(?P<hex><[0-9A-Fa-f\x00\t\n\x0c\r ]*>))",
    re.S,
)
_NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_HEADER = re.compile(rb"%PDF-1\.[0-7]\n%[^\r\n]*\n")
_OBJ = re.compile(rb"(\d+) (\d+) obj\n")
_STREAM = b"\nstream\n"
_END_STREAM = b"\nendstream\nendobj\n"
_END_OBJ = b"\nendobj\n"
_TAIL = re.compile(rb"startxref\n(\d+)\n%%EOF\n?")
_ESCAPES = re.compile(rb"\\([0-7]{1,3}|\r\n|.)", re.S)
_ESCAPED = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"\n": b"", b"\r": b"", b"\r\n": b""}


class _NotPydyf(Exception):
    """Not exactly the layout pydyf writes: pypdf reads it instead."""


class _Ref(tuple):
    """An indirect reference (number, generation)."""


_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")


@functools.lru_cache(maxsize=4096)
def _name(token: bytes) -> str:
    """A name token as pypdf gives it: "/JS" (also when written /J#53)."""
    if b"#" in token:
        token = _HEX_ESCAPE.sub(lambda m: bytes.fromhex(m.group(1).decode()), token)
    return token.decode("utf-8", "replace")


def _string(token: bytes) -> bytes:
    def unescape(m: re.Match) -> bytes:
        code = m.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _ESCAPED.get(code, code)

    return _ESCAPES.sub(unescape, token[1:-1])


def _word(token: bytes) -> object:
    if _NUMBER.fullmatch(token):
        return float(token) if b"." in token else int(token)
    if token in (b"true", b"false", b"null"):
        return {b"true": True, b"false": False, b"null": None}[token]
    raise _NotPydyf(f"unexpected {token[:20]!r}")


def _value(data: bytes, pos: int) -> tuple[object, int]:
    """The object starting at ``pos`` and where it ends."""
    for value, _, end in _values(data, pos, len(data), one=True):
        return value, end
    raise _NotPydyf("no object")


def _values(data: bytes, pos: int, end: int, one: bool = False) -> Iterator[tuple[object, int, int]]:
    """Each object of ``data[pos:end]``, one after the other (separated by white space): the
    object, where it starts and where it ends. Every byte must be part of a token."""
    stack: list[list] = []  # the arrays and dictionaries (as lists of keys and values) being read
    kinds: list[bytes] = []
    for m in _TOKEN.finditer(data, pos, end):
        if m.start() != pos:
            raise _NotPydyf(f"no token at {pos}")
        kind = m.lastgroup
        if kind is None:  # white space at the end
            pos = m.end()
            continue
        begin, pos = m.start(kind), m.end()
        item: object
        if kind == "name":
            item = _name(m.group(kind))
        elif kind == "ref":
            item = _Ref((int(m.group("number")), int(m.group("generation"))))
        elif kind == "word":
            token = m.group(kind)
            item = int(token) if token.isdigit() else _word(token)
        elif kind == "open":
            stack.append([])
            kinds.append(m.group(kind))
            if len(stack) == 1:
                first = begin
            continue
        elif kind == "close":
            token = m.group(kind)
            if not kinds or kinds.pop() != (b"<<" if token == b">>" else b"["):
                raise _NotPydyf("unbalanced")
            items = stack.pop()
            item = items if token == b"]" else _dictionary(items)
            begin = first
        elif kind == "string":
            item = _string(m.group(kind))
        else:
            digits = re.sub(rb"[^0-9A-Fa-f]", b"", m.group(kind))
            item = bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode())
        if stack:
            stack[-1].append(item)
            continue
        yield item, begin, pos
        if one:
            return
    if stack or pos != end:
        raise _NotPydyf("an object cut short")


def _dictionary(items: list) -> dict:
    keys = items[::2]
    if len(items) % 2 or not set(map(type, keys)) <= {str}:
        raise _NotPydyf("a dictionary's keys")
    found = dict(zip(keys, items[1::2], strict=True))
    if len(found) != len(keys):
        raise _NotPydyf("a key twice in a dictionary")
    return found


#: the most an object or cross-reference stream may hold, decompressed
MAX_STREAM_BYTES = 64 * 2**20


def _inflate(stream: dict, raw: bytes) -> bytes:
    if stream.get("/Filter") != "/FlateDecode" or "/DecodeParms" in stream:
        raise _NotPydyf("a stream not as pydyf writes it")
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(raw, MAX_STREAM_BYTES)
    except zlib.error as exc:
        raise _NotPydyf(str(exc)) from None
    if inflater.unconsumed_tail or not inflater.eof:
        raise _NotPydyf("a stream too large or cut short")
    return data


def _top_level(data: bytes) -> tuple[dict, dict, dict, int]:
    """The file's objects, one after the other from the header to ``startxref``: each by
    (number, generation), their offsets, the raw data of the streams, and startxref."""
    header = _HEADER.match(data)
    if header is None:
        raise _NotPydyf("header")
    pos = header.end()
    objects: dict[tuple[int, int], object] = {}
    offsets: dict[tuple[int, int], int] = {}
    streams: dict[tuple[int, int], bytes] = {}
    while (m := _OBJ.match(data, pos)) is not None:
        key = (int(m.group(1)), int(m.group(2)))
        if key in objects or len(objects) >= MAX_OBJECTS:
            raise _NotPydyf("an object twice, or too many")
        value, pos = _value(data, m.end())
        if data.startswith(_STREAM, pos):
            length = value.get("/Length") if isinstance(value, dict) else None
            if type(length) is not int or length < 0:
                raise _NotPydyf("a stream's length")
            start = pos + len(_STREAM)
            streams[key], pos = data[start : start + length], start + length
            if not data.startswith(_END_STREAM, pos):
                raise _NotPydyf("a stream's end")
            pos += len(_END_STREAM)
        elif data.startswith(_END_OBJ, pos):
            pos += len(_END_OBJ)
        else:
            raise _NotPydyf("an object's end")
        objects[key], offsets[key] = value, m.start()
    tail = _TAIL.fullmatch(data, pos)
    if tail is None:
        raise _NotPydyf("the file's end")
    return objects, offsets, streams, int(tail.group(1))


def _pydyf_objects(data: bytes) -> dict[tuple[int, int], object]:
    """Every object of a PDF in exactly pydyf's compressed layout (raises :class:`_NotPydyf`
    for anything else): the top-level objects, those of its object streams, and the cross-
    reference stream (the trailer), which must place each object where it was read."""
    objects, offsets, streams, startxref = _top_level(data)
    xref_key = max(offsets, key=offsets.__getitem__, default=None)
    trailer = objects.get(xref_key) if xref_key else None
    if (
        xref_key is None
        or offsets[xref_key] != startxref
        or not isinstance(trailer, dict)
        or trailer.get("/Type") != "/XRef"
        or "/Prev" in trailer
        or "/Encrypt" in trailer
    ):
        raise _NotPydyf("the cross-reference stream")
    placed: dict[tuple[int, int], tuple[int, int, int]] = {key: (1, offsets[key], key[1]) for key in offsets}
    for key, raw in streams.items():
        stream = objects[key]
        if isinstance(stream, dict) and stream.get("/Type") == "/ObjStm":
            for index, (number, value) in enumerate(_object_stream(stream, raw)):
                if (number, 0) in objects or len(objects) >= MAX_OBJECTS:
                    raise _NotPydyf("an object twice, or too many")
                objects[number, 0], placed[number, 0] = value, (2, key[0], index)
    entries = _xref_entries(trailer, streams[xref_key])
    listed = {(number, entry[2] if entry[0] == 1 else 0): entry for number, entry in entries if entry[0] in (1, 2)}
    if listed != placed:
        raise _NotPydyf("an object not where the cross-reference stream places it")
    return objects


def _object_stream(stream: dict, raw: bytes) -> list[tuple[int, object]]:
    """(number, object) of each object in an object stream, read one right after the other."""
    content, count, first = _inflate(stream, raw), stream.get("/N"), stream.get("/First")
    if type(count) is not int or type(first) is not int or not 0 <= count <= MAX_OBJECTS:
        raise _NotPydyf("an object stream's /N or /First")
    pairs = content[:first].split()
    if len(pairs) != 2 * count or not all(p.isdigit() for p in pairs):
        raise _NotPydyf("an object stream's offsets")
    numbers, starts = [int(p) for p in pairs[::2]], [first + int(p) for p in pairs[1::2]]
    read = [(value, begin) for value, begin, _ in _values(content, first, len(content))]
    if [begin for _, begin in read] != starts:
        raise _NotPydyf("an object stream's objects not at their offsets")
    return list(zip(numbers, (value for value, _ in read), strict=True))


def _xref_entries(trailer: dict, raw: bytes) -> list[tuple[int, tuple[int, int, int]]]:
    """(object number, (type, field 2, field 3)) of each entry of a cross-reference stream."""
    widths, index = trailer.get("/W"), trailer.get("/Index", [0, trailer.get("/Size")])
    if (
        not isinstance(widths, list)
        or len(widths) != 3
        or not all(type(w) is int and 0 < w <= 8 for w in widths)
        or not isinstance(index, list)
        or len(index) % 2
        or not all(type(i) is int and i >= 0 for i in index)
    ):
        raise _NotPydyf("the cross-reference stream's /W or /Index")
    table, size = _inflate(trailer, raw), sum(widths)
    numbers = [n for start, count in zip(index[::2], index[1::2], strict=True) for n in range(start, start + count)]
    if len(table) != size * len(numbers):
        raise _NotPydyf("the cross-reference stream's length")
    entries = []
    for i, number in enumerate(numbers):
        row, fields = table[i * size : (i + 1) * size], []
        for width in widths:
            fields.append(int.from_bytes(row[:width], "big"))
            row = row[width:]
        entries.append((number, (fields[0], fields[1], fields[2])))
    return entries


def _fast_problems(data: bytes) -> list[str]:
    """:func:`pdf_problems` for a PDF in pydyf's layout, on every object of the file."""
    objects = _pydyf_objects(data)

    def resolve(value: object) -> object:
        return objects.get(value) if isinstance(value, _Ref) else value

    problems: list[str] = []
    stack = list(objects.values())
    while stack:
        obj = stack.pop()
        if isinstance(obj, dict):
            problems.extend(_dictionary_problems(obj, resolve))
            stack.extend(obj.values())
        elif isinstance(obj, list):
            stack.extend(obj)
        elif isinstance(obj, _Ref) and obj not in objects:
            # pypdf (and some viewers) look for a missing object elsewhere in the file
            raise _NotPydyf(f"a reference to object {obj[0]}, which is not in the file")
    return list(dict.fromkeys(problems))

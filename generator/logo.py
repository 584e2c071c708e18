"""A clinic's logo, checked when the clinic is loaded and made fit for print.

A PNG is decoded with Pillow under a low pixel limit (a tiny file can hold a huge image),
must decode completely, and is scaled down, the same way every time, to what print needs.
An SVG is read with expat, refusing what WeasyPrint could not draw or must not fetch:
DOCTYPE and entities, references to anything outside the file, absurd nesting or size.
Every problem raises :class:`LogoError` with what to do about it.
"""

from __future__ import annotations

import functools
import io
import re
import warnings
import xml.parsers.expat
from pathlib import Path

from PIL import Image, UnidentifiedImageError

#: The largest PNG accepted, per side and in all.
MAX_PNG_SIDE = 4000
MAX_PNG_PIXELS = 16_000_000
#: The logo prints at most 24 mm high (large print): 600 px is about 635 dpi there.
PRINT_PIXELS = 600
#: Beyond these an SVG logo is not a logo.
MAX_SVG_DEPTH = 64
MAX_SVG_ELEMENTS = 20_000
MAX_SVG_SIZE = 100_000  # user units, for width, height and the viewBox
SELF_CONTAINED = (
    "remove the reference (an embedded data: image counts too), or export the logo again as plain SVG or as PNG"
)
URL_RE = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
NUMBER_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


class LogoError(ValueError):
    """The logo cannot be printed; the message says why and what to do."""


def check_logo(path: Path) -> None:
    """Raise :class:`LogoError` unless the (SVG or PNG) file at ``path`` can be printed."""
    data = path.read_bytes()
    if path.suffix.lower() == ".png":
        printable_png(data)
    else:
        check_svg(data)


def _open_png(data: bytes) -> Image.Image:
    """The decoded image, after checking its size from the header (before decoding)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # the limit is below
        try:
            image = Image.open(io.BytesIO(data), formats=["PNG"])
        except Image.DecompressionBombError:
            raise LogoError(_too_large("a size far beyond")) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise LogoError(f"not a PNG image that can be read ({exc}); export it again as PNG") from None
    width, height = image.size
    if width > MAX_PNG_SIDE or height > MAX_PNG_SIDE or width * height > MAX_PNG_PIXELS:
        raise LogoError(_too_large(f"{width}x{height} pixels, more than"))
    try:
        # every chunk whole and its checksum right: WeasyPrint sets Pillow's
        # LOAD_TRUNCATED_IMAGES, under which load() quietly fills a truncated image with grey
        image.verify()
        image = Image.open(io.BytesIO(data), formats=["PNG"])
        image.load()
    except Exception as exc:  # noqa: BLE001  any decoder error of a hostile file is the same problem
        raise LogoError(f"the PNG cannot be decoded ({exc}): it is truncated or damaged; export it again") from None
    return image


def _too_large(what: str) -> str:
    return (
        f"{what} the {MAX_PNG_SIDE}x{MAX_PNG_SIDE} pixels ({MAX_PNG_PIXELS // 1_000_000} "
        f"megapixels) allowed; print needs about {PRINT_PIXELS} pixels high: scale it down"
    )


@functools.lru_cache(maxsize=4)  # one or two clinics per build; each up to 2 MiB
def printable_png(data: bytes) -> bytes:
    """The PNG as printed: unchanged up to PRINT_PIXELS on its longer side, else scaled
    down to that (Lanczos, no metadata, so the same bytes come out every build)."""
    image = _open_png(data)
    if max(image.size) <= PRINT_PIXELS:
        return data
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        try:
            image = image.convert("RGBA")
        except ValueError as exc:
            raise LogoError(
                f"its colour mode {image.mode} cannot be scaled ({exc}); save it as 8-bit RGB or RGBA"
            ) from None
    image.thumbnail((PRINT_PIXELS, PRINT_PIXELS), Image.Resampling.LANCZOS, reducing_gap=None)
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=9)
    return out.getvalue()


class _SvgReader:
    """expat handlers that refuse, as they meet it, anything a logo must not hold."""

    def __init__(self) -> None:
        self.depth = self.elements = 0
        self.style: list[str] | None = None  # the text of the <style> being read
        self.style_depth = 0

    def doctype(self, *_args) -> None:
        raise LogoError(
            "it has a DOCTYPE (with possible entities), which a logo must not have; "
            "remove the <!DOCTYPE ...> declaration"
        )

    def entity(self, *_args) -> None:
        raise LogoError("it declares entities, which a logo must not have; remove them")

    def instruction(self, target: str, _data: str) -> None:
        if target.lower() == "xml-stylesheet":
            raise LogoError("it loads an external stylesheet (<?xml-stylesheet?>); put the styles in the file")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        local = name.rpartition(" ")[2]
        if self.elements == 1:
            if local != "svg":
                raise LogoError(f"its root element is <{local}>, not <svg>")
            _check_svg_size(attrs)
        if self.depth > MAX_SVG_DEPTH:
            raise LogoError(
                f"its elements are nested more than {MAX_SVG_DEPTH} deep; simplify it "
                "(e.g. export it again as plain SVG)"
            )
        if self.elements > MAX_SVG_ELEMENTS:
            raise LogoError(f"it has more than {MAX_SVG_ELEMENTS} elements; simplify it")
        for key, value in attrs.items():
            if key.rpartition(" ")[2] == "href" and not value.strip().startswith("#"):
                raise LogoError(
                    f"it refers to another file or address ({_short(value)}); a logo "
                    f"must be drawn in the file itself: {SELF_CONTAINED}"
                )
            _check_css(value)
        if local == "style" and self.style is None:
            self.style, self.style_depth = [], self.depth

    def end(self, _name: str) -> None:
        if self.style is not None and self.depth == self.style_depth:
            _check_css("".join(self.style))  # checked whole: expat may hand it over in pieces
            self.style = None
        self.depth -= 1

    def text(self, data: str) -> None:
        if self.style is not None:
            self.style.append(data)


def _check_css(text: str) -> None:
    if "@import" in text.lower():
        raise LogoError("its styles @import another file; put the styles in the file")
    for target in URL_RE.findall(text):
        if not target.startswith("#"):
            raise LogoError(
                f"it refers to another file or address (url({_short(target)})); a "
                f"logo must be drawn in the file itself: {SELF_CONTAINED}"
            )


def _check_svg_size(attrs: dict[str, str]) -> None:
    values = [attrs.get("width", ""), attrs.get("height", ""), attrs.get("viewBox", "")]
    for number in NUMBER_RE.findall(" ".join(values)):
        if abs(float(number)) > MAX_SVG_SIZE:
            raise LogoError(
                f"its size ({number} in width, height or viewBox) is beyond {MAX_SVG_SIZE}; give it a sensible size"
            )


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "…"


def check_svg(data: bytes) -> None:
    """Raise :class:`LogoError` unless ``data`` is a self-contained SVG WeasyPrint can draw."""
    reader = _SvgReader()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = reader.doctype
    parser.EntityDeclHandler = reader.entity
    parser.ProcessingInstructionHandler = reader.instruction
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.CharacterDataHandler = reader.text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise LogoError(
            f"not well-formed SVG ({xml.parsers.expat.errors.messages[exc.code]} "
            f"at line {exc.lineno} of the logo); export it again"
        ) from None
    if not reader.elements:
        raise LogoError("it holds no SVG drawing")

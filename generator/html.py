"""Stage 4: compose one handout's HTML with Jinja (clinic branding + translated blocks)."""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import segno
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from . import __version__
from .config import Clinic
from .content import Route
from .errors import BrokenTranslation, CatalogError, ContentError, UsageError
from .fonts import fonts_for
from .placeholders import KINDS, PLACEHOLDERS, crisis_line_notes, formats_locale, values
from .segments import PLACEHOLDER_RE, Fallback, chunks, placeholders, render
from .translation import Translator
from .verify import Expected, plain, safety_units


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is used."""
    return message


DRAFT_NOTICE = N_("Draft translation, not yet checked by a medical translator")
PAGE_LABEL = N_("Page %(page)s of %(pages)s")


def font_family(language: str, second: str | None = None) -> str:
    fonts = list(dict.fromkeys([*fonts_for(language), *(fonts_for(second) if second else ())]))
    return ", ".join([*(f'"{name}"' for name in fonts), "sans-serif"])


@dataclass(frozen=True)
class Section:
    id: str
    css_class: str
    title: Markup
    #: the body as top-level blocks (heading, paragraph, list), for side-by-side editions
    parts: tuple[Markup, ...]

    @property
    def html(self) -> Markup:
        return Markup("".join(self.parts))


@dataclass(frozen=True)
class Text:
    """A handout's words in one language."""

    lang: str
    dir: str
    title: str
    title_html: Markup
    subtitle_html: Markup
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class HandoutDocument:
    """What the PDF stage needs: the HTML, where its assets live, and metadata."""

    html: str
    language: str
    base_url: Path
    asset_roots: tuple[Path, ...]
    #: units printed in English because their translation is missing (--allow-incomplete)
    fallbacks: tuple[str, ...] = ()
    #: what the PDF must print (checked by generator/verify.py)
    expected: Expected | None = None
    #: the same handout with the help boxes ("Get help now", the crisis line, "Call the
    #: clinic") one section later, then one earlier (standard and bilingual editions), then the
    #: clinic's box alone one section later (every edition): for the PDF stage to try, in this order, when
    #: a box, kept whole, would leave a column more than a quarter empty before it
    #: (generator/overlap.help_gap)
    alternatives: tuple[str, ...] = ()
    #: the classes of the help boxes the alternatives move, where not all of them: only a gap
    #: before one of these decides whether to try them (large print moves the clinic's box alone)
    moved: tuple[str, ...] = ()
    #: "standard" (two columns), "large" or "bilingual"
    edition: str = "standard"


@dataclass(frozen=True)
class MissingUnit:
    path: Path | None  # None only for the English source, which has no catalog
    line: int | None  # None: not in the catalog at all (run `handouts i18n update`)
    msgid: str

    def describe(self, what: str = "") -> str:
        if self.line is None:
            return f"{self.path}: {what}{self.msgid!r} (not in the catalog: run 'handouts i18n update')"
        return f"{self.path}:{self.line}: {what}{self.msgid!r}"


class _RouteText:
    """Translates every unit of a route into one language, noting what is missing or broken."""

    def __init__(self, clinic: Clinic, route: Route, tr: Translator) -> None:
        self.tr = tr
        self.fields = values(clinic, route.id, tr)
        self.missing: list[MissingUnit] = []
        self.used: set[str] = set(tr.shared_ids)
        #: the safety-critical units as printed (plain text), and where each comes from
        self.safety: list[tuple[str, str]] = []
        sections = []
        for block in (b for b in route.blocks if b.prints_for(clinic.country)):
            critical = safety_units(block)
            translate = lambda unit, b=block, c=critical: self.translate(  # noqa: E731
                unit.text, b.path, unit.line, unit.text in c
            )
            parts = tuple(
                Markup(self.fill(render(text, translate, line))) for text, line in chunks(block.body, block.body_line)
            )
            sections.append(
                Section(
                    id=block.id,
                    css_class="block-" + block.id.rsplit("/", 1)[-1],
                    title=Markup(self.fill(_inline_html(self.translate(block.title, block.path, block.title_line))))
                    if block.title
                    else Markup(),
                    parts=parts,
                )
            )
        self.missing += [MissingUnit(tr.path, line, msgid) for msgid, line in tr.untranslated_shared.items()]
        title = self.translate(route.title, route.path, route.line)
        subtitle = self.translate(route.subtitle, route.path, route.line)
        self.text = Text(
            lang=tr.html_lang,
            dir=tr.direction,
            title=title,
            title_html=Markup(_inline_html(title)),
            subtitle_html=Markup(_inline_html(subtitle)),
            sections=tuple(sections),
        )
        broken = [problem for msgid in sorted(self.used) for problem in tr.problems.get(msgid, ())]
        if broken:
            raise BrokenTranslation(
                f"the '{tr.language}' translation of route '{route.id}' has "
                f"{len(broken)} broken entr{'y' if len(broken) == 1 else 'ies'}:\n"
                + "\n".join(f"  {p}" for p in broken),
                tr.path,
            )

    def translate(self, text: str, path: Path, line: int, critical: bool = False) -> str:
        _check_placeholders(text, path, line)
        self.used.add(text)
        translated = self.tr.unit(text)
        if translated is None:
            self.missing.append(MissingUnit(path, line, text))
            translated = Fallback(text)
        if critical:
            filled = PLACEHOLDER_RE.sub(lambda m: self.fields.get(m.group(1), m.group(0)), translated)
            self.safety.append((plain(filled), f"{path.name}:{line}"))
        return translated  # its placeholders are checked against the source by the gates

    def fill(self, html: str) -> str:
        return _fill(html, self.fields)


def compose(
    clinic: Clinic,
    route: Route,
    tr: Translator,
    templates: Path,
    allow_incomplete: bool = False,
    edition: str = "standard",
    second: Translator | None = None,
    online_url: str | None = None,
) -> HandoutDocument:
    """Translate every unit of a route for one clinic and language, and fill the template.

    ``edition`` is "standard", "large" (large print) or "bilingual" (``second``'s text beside
    the patient's language); ``online_url`` becomes a QR code.
    """
    texts = _route_texts(clinic, route, tr, second, edition == "bilingual")
    missing = [m for t in texts for m in t.missing]
    if missing and not allow_incomplete:
        listing = "\n".join(f"  {m.describe()}" for m in missing)
        raise CatalogError(
            f"{len(missing)} unit(s) of route '{route.id}' are untranslated or fuzzy "
            f"in '{tr.language}'; translate them or build with --allow-incomplete:\n"
            f"{listing}",
            tr.path,
        )
    words = [t.text for t in texts]
    if edition == "large":  # when to call the emergency number and the crisis line: by page 2
        # (the clinic's box stays after them: at 18 pt, kept whole, it would leave a page half
        # empty; the PDF stage may set it one section later, see _placements)
        words = _help_at(words, 0, ("block-crisis",)) or words
    main = words[0]
    env = _environment(templates.resolve())
    # Jinja's newstyle gettext marks a translation as safe HTML: escape it first, so that a
    # translation reaches the page as text (its %(name)s values are escaped by Jinja).
    # install_gettext_callables is added by the jinja2.ext.i18n extension
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: escape(tr.gettext(message)),
        lambda singular, plural, n: escape(tr.ngettext(singular, plural, n)),
        newstyle=True,
    )
    fields = _fields(clinic, route, tr, edition, texts, words, second, online_url)
    html = _render(env, fields, tr)
    alternatives = tuple(_render(env, {**fields, "texts": m, "main": m[0]}, tr) for m in _placements(words, edition))
    leftover = PLACEHOLDER_RE.search(html)
    if leftover:  # every placeholder was checked above, so this is a bug in a template
        raise ContentError(f"placeholder {leftover.group(0)} was not filled", templates / "handout.html")
    return HandoutDocument(
        html=html,
        language=tr.html_lang,
        alternatives=alternatives,
        moved=(CLINIC_BOX,) if edition == "large" else (),
        edition=edition,
        fallbacks=tuple(m.describe("printed in English: ") for m in missing),
        expected=expectations(clinic, html, main, texts, allow_incomplete, furniture=_furniture(fields, tr)),
        base_url=templates,
        asset_roots=(templates.resolve(), clinic.logo.resolve()),
    )


def _fields(
    clinic: Clinic,
    route: Route,
    tr: Translator,
    edition: str,
    texts: list[_RouteText],
    words: list[Text],
    second: Translator | None,
    online_url: str | None,
) -> dict:
    """What the template is filled with."""
    main = words[0]
    dates = formats_locale(clinic.region, tr)
    return dict(
        lang=tr.html_lang,
        dir=tr.direction,
        page_title=f"{main.title} – {clinic.name}",
        edition=edition,
        texts=words,
        main=main,
        font_family=Markup(font_family(tr.language, second.language if second else None)),
        clinic=clinic,
        logo_uri=clinic.logo.resolve().as_uri(),
        # the key-points box: the route's protocol, and the clinic's values as HTML per text
        protocol=clinic.protocol[route.id],
        values=[{name: Markup(field_html(name, value)) for name, value in t.fields.items()} for t in texts],
        qr_svg=Markup(qr_svg(online_url)) if online_url else None,
        online_url=online_url,
        version=route.version,
        fingerprint=route.fingerprint,
        reviewed=format_date(route.reviewed, "long", locale=dates),
        review_due=format_date(route.review_due, "long", locale=dates),
        crisis_notes=crisis_line_notes(clinic, tr),
        language_name=tr.native_name,
        draft=any(t.tr.is_draft(route.reviewed, t.used | t.tr.untranslated_shared.keys()) for t in texts),
        draft_notice=tr.gettext(DRAFT_NOTICE),
        draft_notice_en=DRAFT_NOTICE,
        page_label_css=Markup(page_label_css(tr.gettext(PAGE_LABEL))),
        generator_version=__version__,
    )


def _route_texts(
    clinic: Clinic, route: Route, tr: Translator, second: Translator | None, bilingual: bool
) -> list[_RouteText]:
    """The route's text in the patient's language, and in ``second`` for the bilingual edition."""
    texts = [_RouteText(clinic, route, tr)]
    if bilingual:
        if second is None:
            raise UsageError(f"the bilingual edition of '{route.id}' needs a second language")
        texts.append(_RouteText(clinic, route, second))
    return texts


def _placements(words: list[Text], edition: str) -> list[list[Text]]:
    """The other places of the help boxes for the PDF stage to try (HandoutDocument.alternatives).
    Large print moves only the clinic's box: "Get help now" stays right after the key points, by
    page 2."""
    help_boxes = [] if edition == "large" else [_help_moved(words, 1), _help_moved(words, -1)]
    return [m for m in (*help_boxes, _clinic_later(words)) if m]


def _render(env: Environment, fields: dict, tr: Translator) -> str:
    try:
        html = env.get_template("handout.html").render(**fields)
    except (ValueError, TypeError, KeyError) as exc:  # the gates stop these first
        raise CatalogError(
            f"a translated template string of '{tr.language}' cannot be filled "
            f"in ({type(exc).__name__}: {exc}); run 'handouts check'",
            tr.path,
        ) from None
    body = html.find("<body")
    return html[:body] + keep_break_before_inline(isolate_numbers(html[body:]))


#: A space between text (or a closing tag) and an inline element's opening tag.
SPACE_BEFORE_INLINE_RE = re.compile(r"(?<=[^\s]) (?=<(?:span|bdi|strong|em|a|b|i)[\s>])")


def keep_break_before_inline(html: str) -> str:
    """Put each space that stands right before an inline element in a span of its own.

    WeasyPrint 70 (its issue #1614) breaks a line at the line's *first* break opportunity
    when the line fits exactly up to a space followed by an inline element ("Do / not drink
    any liquids, not even water, for <bdi>2</bdi> hours"): every number is such an element
    here. With the space inside an element of its own it breaks at that space, as a browser
    does. The printed text is the same."""
    return SPACE_BEFORE_INLINE_RE.sub('<span class="sp"> </span>', html)


def _groups(sections: tuple[Section, ...], following: tuple[str, ...] = ()) -> tuple[list[list[int]], int | None]:
    """The sections' indexes grouped (a titled section with the untitled ones that continue
    it), and which group is the "Get help now" section."""
    # the boxes in ``following`` (default: the crisis line, "Call the clinic") go with the "Get
    # help now" box before them
    following = following or FOLLOWING_HELP_BOXES
    starts = [i for i, s in enumerate(sections) if (s.title or s.css_class == HELP_SECTION_CLASS)]
    starts = [i for i in starts if sections[i].css_class not in following]
    groups = [list(range(a, b)) for a, b in zip(starts, [*starts[1:], len(sections)], strict=True)]
    if starts and starts[0]:
        groups[0][:0] = range(starts[0])
    at = next((i for i, g in enumerate(groups) if sections[g[0]].css_class == HELP_SECTION_CLASS), None)
    return groups, at


def _help_at(texts: list[Text], place: int, following: tuple[str, ...] = ()) -> list[Text] | None:
    """The texts with the "Get help now" section (and the boxes in ``following``) moved to group
    ``place``; None if it cannot go there (it has no such section, or there is no such place, or
    it would follow the disclaimer)."""
    sections = texts[0].sections
    groups, at = _groups(sections, following)
    if (
        at is None
        or not 0 <= place < len(groups)
        or place == at
        or "disclaimer" in sections[groups[place][0]].css_class
        and place > at
    ):
        return None
    moved = [g for i, g in enumerate(groups) if i != at]
    moved.insert(place, groups[at])
    order = [i for g in moved for i in g]
    return [replace(t, sections=tuple(t.sections[i] for i in order)) for t in texts]


def _help_moved(texts: list[Text], step: int) -> list[Text] | None:
    """The texts with the help boxes ``step`` sections later (or earlier), if they can go there."""
    at = _groups(texts[0].sections)[1]
    return None if at is None else _help_at(texts, at + step)


def _clinic_later(texts: list[Text]) -> list[Text] | None:
    """The texts with the "Call the clinic" box alone after the section that follows it (the
    emergency and crisis boxes stay where they are), unless that is the disclaimer."""
    sections = texts[0].sections
    at = next((i for i, s in enumerate(sections) if s.css_class == CLINIC_BOX), None)
    if at is None or at + 1 >= len(sections) or "disclaimer" in sections[at + 1].css_class:
        return None
    end = at + 2
    while end < len(sections) and not sections[end].title:
        end += 1  # the untitled sections that continue it
    order = [*range(at), *range(at + 1, end), at, *range(end, len(sections))]
    return [replace(t, sections=tuple(t.sections[i] for i in order)) for t in texts]


def _furniture(fields: dict, tr: Translator) -> tuple[str, ...]:
    """What the page margins print (stylesheet content, which the HTML does not hold): the
    footer, the page label, the draft notice."""
    footer = " ".join(
        [
            fields["main"].title,
            tr.gettext("Version %(version)s") % {"version": fields["version"]},
            tr.gettext("Reviewed %(date)s") % {"date": fields["reviewed"]},
        ]
    )
    notices = (fields["draft_notice"], fields["draft_notice_en"]) if fields["draft"] else ()
    return (footer, tr.gettext(PAGE_LABEL), *notices)


def expectations(
    clinic: Clinic,
    html: str,
    main: Text,
    texts: list[_RouteText],
    allow_incomplete: bool,
    furniture: tuple[str, ...] = (),
) -> Expected:
    """What the PDF of ``html`` must print: the numbers to dial as often as the HTML has
    them, the "Get help" heading, the safety-critical units."""
    printed = Counter(html_lib.unescape(m.group(1)) for m in _DIAL_RE.finditer(html))
    boxes = tuple(
        (section.title.striptags(), HELP_BOX_NUMBERS[section.css_class])
        for section in main.sections
        if section.css_class in HELP_BOX_NUMBERS and section.title.striptags()
    )
    return Expected(
        numbers={
            "clinic_phone": clinic.phone,
            "after_hours_phone": clinic.after_hours_phone,
            "emergency_number": clinic.emergency_number,
            "crisis_line": clinic.crisis_line,
        },
        printed=dict(printed),
        help_boxes=boxes,
        safety=tuple(item for text in texts for item in text.safety),
        allow_incomplete=allow_incomplete,
        furniture=furniture,
    )


@functools.lru_cache(maxsize=64)
def qr_svg(url: str) -> str:
    """A QR code for ``url`` as inline SVG (vector: sharp at any print resolution)."""
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_inline(scale=1, border=4, omitsize=True, dark="#000", light="#fff")


@functools.cache
def _environment(templates: Path) -> Environment:
    """One Jinja environment per templates folder, so the template is compiled once per run
    (the loader still notices an edited template)."""
    env = Environment(
        loader=FileSystemLoader(templates),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["css_string"] = css_string
    env.filters["tel"] = lambda value: ltr(value, "tel")
    env.globals["pair_rows"] = pair_rows
    env.globals["notes_rules"] = Markup(NOTES_RULE * NOTES_RULES)
    return env


#: A write-in line of the questions area at the end of every handout (handout.html: .notes),
#: and how many the template prints (more than a page holds: what does not fit is dropped).
NOTES_RULE = '<div class="rule" aria-hidden="true"></div>'
NOTES_RULES = 40


def notes_other_column(html: str, titled: bool) -> str:
    """The handout with write-in lines in the other column of the last page (``titled``: with
    the questions area's title, which had no room above): the standard edition's second
    layout, when the body ends in the first column (generator/pdf._filled)."""
    shown = "notes-more shown titled" if titled else "notes-more shown"
    return html.replace('<div class="notes-more" ', f'<div class="{shown}" ', 1)


#: A part that is one flat list (no list inside it), and each of its items.
FLAT_LIST_RE = re.compile(r"\A\s*<ul>(?!.*<[ou]l[\s>])(.*)</ul>\s*\Z", re.S)
ITEM_RE = re.compile(r"<li[\s>].*?</li>", re.S)  # also an item with attributes


def pair_rows(cells: list[str]) -> list[tuple[str, list[Markup]]]:
    """The rows of the bilingual edition for one part, each a CSS class and a cell per
    language. A list whose items match in number is a row per item, so that the items line
    up and a page may break between them (a row is kept whole: a list kept whole in one row
    left up to 0.4 of a page empty before it); a heading is a row kept with the next one."""
    lists = [FLAT_LIST_RE.match(cell) for cell in cells]
    items = [ITEM_RE.findall(m.group(1)) if m else [] for m in lists]
    if all(items) and len({len(i) for i in items}) == 1:
        last = len(items[0]) - 1
        return [
            ("item last" if k == last else "item", [Markup(f"<ul>{i[k]}</ul>") for i in items]) for k in range(last + 1)
        ]
    return [("head" if all(cell.lstrip().startswith("<h") for cell in cells) else "", [Markup(c) for c in cells])]


def _inline_html(text: str) -> str:
    escaped = html_lib.escape(text)
    if isinstance(text, Fallback):
        return f'<mark class="untranslated" lang="en">{escaped}</mark>'
    return escaped


def _check_placeholders(text: str, path: Path, line: int) -> None:
    for name in placeholders(text):
        if name not in PLACEHOLDERS:
            raise ContentError(
                f"unknown placeholder {{{name}}} (known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})", path, line
            )


#: The section holding the numbers to call, whose heading they must share a page with.
HELP_SECTION_CLASS = "block-get-help"
#: The boxes after it, with the crisis line and the clinic's own numbers: each a whole box,
#: moved with it when the sections move (large print, pdf._placed).
CLINIC_BOX = "block-call-clinic"
FOLLOWING_HELP_BOXES = ("block-crisis", CLINIC_BOX)
#: The numbers each help box prints beside its heading: on the page of that heading.
HELP_BOX_NUMBERS = {
    HELP_SECTION_CLASS: ("emergency_number",),
    "block-crisis": ("crisis_line",),
    CLINIC_BOX: ("clinic_phone",),
}
#: A number to dial as the HTML prints it (from the template or a placeholder).
_DIAL_RE = re.compile(r'<bdi dir="ltr" class="(?:[^"]* )?tel">([^<]*)</bdi>')

#: Placeholders whose whole value is a number to dial: printed as one left-to-right unit.
PHONE_FIELDS = tuple(name for name, kind in KINDS.items() if kind == "phone number")
#: Placeholders that are a number and its unit ("6 hours"): never broken across lines.
QUANTITY_FIELDS = tuple(name for name, kind in KINDS.items() if kind == "time")

#: A number as printed in running text: digits, with separators only between digits
#: ("1,500", "21.11.2026", "10:30", "503-555-0142"). A space never joins two numbers here;
#: the clinic's numbers, which may hold spaces, are isolated whole where they are filled in.
#: Digits inside a word ("5fb2af42", "H2O") belong to it and are left alone.
NUMBER_IN_TEXT_RE = re.compile(r"(?<!\w)\d+(?:[.,:/\u00a0\u202f\u2011-]\d+)*(?!\w)")
#: What the number pass leaves alone: tags, entities, placeholders, and the inside of
#: elements that are already isolated (bdi), or not text (svg, style).
_SKIP_RE = re.compile(r"<(bdi|svg|style|script)\b.*?</\1>|<[^>]*>|&#?\w+;|\{[a-z][a-z0-9_]*\}", re.S)


def ltr(text: str, css_class: str = "num") -> Markup:
    """``text`` (escaped) as a left-to-right isolate: its digits keep their order in
    right-to-left text, and the Unicode bidi algorithm cannot reverse or split it."""
    return Markup('<bdi dir="ltr" class="{}">{}</bdi>').format(css_class, text)


def isolate_numbers(html: str) -> str:
    """Wrap every number in the text of ``html`` in a left-to-right isolate (markup,
    entities, placeholders and already isolated text are left as they are)."""
    out, pos = [], 0
    for skip in _SKIP_RE.finditer(html):
        out.append(NUMBER_IN_TEXT_RE.sub(lambda m: ltr(m.group(0)), html[pos : skip.start()]))
        out.append(skip.group(0))
        pos = skip.end()
    out.append(NUMBER_IN_TEXT_RE.sub(lambda m: ltr(m.group(0)), html[pos:]))
    return "".join(out)


def field_html(name: str, value: str) -> str:
    """A placeholder's value as HTML: a number to dial isolated whole (it may hold spaces),
    a quantity kept on one line, anything else escaped."""
    if name in PHONE_FIELDS:
        return ltr(value, "tel")
    if name in QUANTITY_FIELDS:
        # no-break spaces: the number and its unit stay on one line
        return f'<span class="quantity">{html_lib.escape(value.replace(" ", chr(0xA0)))}</span>'
    return html_lib.escape(value)  # its numbers are isolated with the rest of the page's


def _fill(html: str, fields: dict[str, str]) -> str:
    """Put the clinic's values in; an unknown name stays (and is reported, never printed)."""
    return PLACEHOLDER_RE.sub(
        lambda m: field_html(m.group(1), fields[m.group(1)]) if m.group(1) in fields else m.group(0), html
    )


#: characters a CSS string may hold as they are; everything else is written as a hex escape
CSS_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?()-_'%/+#")


def css_string(text: str) -> Markup:
    """A CSS string literal (for ``content:``), safe to put into a stylesheet: every character
    outside a small safe set is a six-digit hex escape (``\\00000C ``), so that nothing in a
    translation (a quote, a backslash, a line break, a form feed, ``*/``, ``</style>``) can end
    the string, the declaration or the style element. A newline is a line break (``\\A``)."""
    if isinstance(text, Markup):  # escaped for HTML, but a stylesheet does not read entities
        text = text.unescape()
    escaped = "".join(c if c in CSS_SAFE else f"\\{ord(c):06X} " for c in str(text))
    return Markup(f'"{escaped}"')


def page_label_css(label: str) -> str:
    """'Página %(page)s de %(pages)s' -> '"Página " counter(page) " de " counter(pages)'."""
    parts = []
    for piece in re.split(r"(%\((?:page|pages)\)s)", label):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(css_string(piece)))
    return " ".join(parts)

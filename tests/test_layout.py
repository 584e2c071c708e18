"""The overflow check: plain geometry in generator/layout.py, read from WeasyPrint's laid-out
pages by generator/pdf.py through one private attribute (Page._page_box)."""

from weasyprint import HTML

from generator import layout, pdf
from generator.html import keep_break_before_inline, pair_rows


def test_weasyprint_still_has_the_private_page_box_the_overflow_check_reads():
    page = HTML(string="<p>x</p>").render().pages[0]
    assert hasattr(page, "_page_box"), (
        "WeasyPrint's Page no longer has _page_box: generator/pdf.py (_page_box) reads it to find "
        "text that runs out of its box; find the laid-out page box in this WeasyPrint and update "
        "_page_box, or no handout will build"
    )


def test_text_that_cannot_wrap_is_found_in_a_real_layout():
    document = HTML(
        string="<style>@page { size: 200px 200px; margin: 20px }</style>"
        '<div style="width: 60px; display: flex"><span style="white-space: nowrap">' + "5" * 40 + "</span></div>"
    ).render()
    areas = pdf.page_areas(document)
    assert [area.number for area in areas] == [1]
    assert any(isinstance(item, layout.Line) for item in areas[0].items)
    assert layout.overflows(areas) == [f"page 1: a box runs off the page: '{'5' * 40}'"]


def test_text_that_fits_is_not_reported():
    document = HTML(string='<div style="width: 200px">Call us.</div>').render()
    assert layout.overflows(pdf.page_areas(document)) == []


def area(*items: layout.Line | layout.Block) -> layout.PageArea:
    return layout.PageArea(2, left=10, top=10, right=110, bottom=210, items=items)


def test_a_run_past_its_line_by_more_than_half_a_letter_is_reported_once():
    line = layout.Line(
        x=10, width=50, runs=(layout.Run("ok", 10, 20, 12), layout.Run(" ", 30, 40, 12), layout.Run("wide", 30, 40, 12))
    )
    rounding = layout.Line(x=10, width=50, runs=(layout.Run("near", 10, 55, 12),))
    assert layout.overflows([area(line, line, rounding)]) == ["page 2: text runs out of its box: 'wide'"]


def test_a_block_off_the_printable_area_is_reported_with_its_text():
    inside = layout.Block(10, 10, 100, 200, text=lambda: "inside")
    below = layout.Block(10, 100, 100, 111, text=lambda: "x" * 100)
    assert layout.overflows([area(inside, below)]) == [f"page 2: a box runs off the page: '{'x' * 60}'"]


def _descendants(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _descendants(child)


def line_texts(html: str) -> list[str]:
    """The text of each line of the first page, as WeasyPrint lays it out."""
    page_box = pdf.page_boxes(HTML(string=html).render())[0]
    lines = [b for b in _descendants(page_box) if type(b).__name__ == "LineBox"]
    return ["".join(t.text for t in _descendants(line) if type(t).__name__ == "TextBox") for line in lines]


def test_a_line_that_fits_up_to_a_number_breaks_before_it_not_after_its_first_word():
    # WeasyPrint 70 laid out "Do / not drink any liquids, not even water, for 2 hours" when the
    # line fitted exactly up to the space before the number's element (at 87 and 87.5 mm in
    # Noto Sans 12 pt); html.keep_break_before_inline puts that space in an element of its own
    text = (
        'Do not drink any liquids, not even water, for <span class="quantity">'
        '<bdi dir="ltr">2</bdi>\u00a0hours</span> before your session.'
    )
    for tenths in range(860, 885, 5):
        page = (
            f"<html lang=en><style>@page {{ size: 140mm 100mm; margin: 5mm }} body {{ font: 12pt "
            f"'Noto Sans'; line-height: 1.3 }} p {{ margin: 0; width: {tenths / 10}mm }}</style>"
            f"<p>{keep_break_before_inline(text)}</p></html>"
        )
        first = line_texts(page)[0]
        assert len(first.split()) > 5, (tenths / 10, first)


def test_bilingual_rows_pair_list_items_with_attributes():
    # an item with a class (<li class="safety">) is a row of its own like any other item
    es = '<ul>\n<li class="safety">No coma.</li>\n<li>Traiga sus medicinas.</li>\n</ul>\n'
    en = '<ul>\n<li class="safety">Do not eat.</li>\n<li>Bring your medicines.</li>\n</ul>\n'
    rows = pair_rows([es, en])
    assert [css for css, _ in rows] == ["item", "item last"]
    assert rows[0][1] == ['<ul><li class="safety">No coma.</li></ul>', '<ul><li class="safety">Do not eat.</li></ul>']
    assert rows[1][1] == ["<ul><li>Traiga sus medicinas.</li></ul>", "<ul><li>Bring your medicines.</li></ul>"]

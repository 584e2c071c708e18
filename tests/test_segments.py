from generator.segments import placeholders, render, units

SAMPLE = """### Call **now**

Do not eat for {fasting_time} before.
Second line.

- First item {clinic_phone}
- Second *item*

| Name | Number |
|------|--------|
| Clinic | {clinic_phone} |
"""


def test_units_are_headings_paragraphs_items_and_cells_with_lines():
    got = [(u.kind, u.line, u.text) for u in units(SAMPLE, first_line=10)]
    assert got == [
        ("heading", 10, "Call **now**"),
        ("paragraph", 12, "Do not eat for {fasting_time} before.\nSecond line."),
        ("item", 15, "First item {clinic_phone}"),
        ("item", 16, "Second *item*"),
        ("cell", 18, "Name"),
        ("cell", 18, "Number"),
        ("cell", 20, "Clinic"),
        ("cell", 20, "{clinic_phone}"),
    ]


def test_identity_translation_gives_the_same_html():
    assert render(SAMPLE, lambda unit: unit.text) == render(SAMPLE)


def test_translated_units_keep_their_inline_markup():
    html = render("- Call **now**\n", lambda unit: "Llame **ya**")
    assert "<li>Llame <strong>ya</strong></li>" in html


def test_raw_html_is_escaped_not_passed_through():
    html = render("Hello <script>alert(1)</script>\n")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_placeholders_are_found_in_order():
    assert placeholders("Call {clinic_phone} or {emergency_number}.") == ["clinic_phone", "emergency_number"]

"""The staff index page, handouts/index.html: rendered, then opened in real headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from generator.build import Job, build, load_clinics, plan
from generator.content import load_content
from generator.dates import build_date
from generator.errors import UsageError
from generator.index import IndexEntry, Language, collect_entries, group, render_index
from generator.output import write_index
from generator.translation import Translators

from .conftest import SITE_LANGUAGES as LANGUAGES
from .conftest import SITE_ROUTES as ROUTES

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


# --- rendering, without a browser -----------------------------------------------------------


class Elements(HTMLParser):
    """Start tags with their attributes, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def entry(**changes) -> IndexEntry:
    values = dict(
        clinic_id="example",
        clinic_name="Riverside Ketamine Clinic",
        language=Language.of("es"),
        route_id="iv",
        route_title="Ketamine IV infusion",
        edition="standard",
        second=None,
        path="example/es/iv.pdf",
        status="draft",
        version="1.0.0",
        built="2026-11-21",
    )
    return IndexEntry(**(values | changes))


def test_language_names_in_their_own_script_and_in_english():
    arabic, chinese = Language.of("ar"), Language.of("zh_Hans")
    assert (arabic.native, arabic.english, arabic.lang, arabic.dir) == ("العربية", "Arabic", "ar", "rtl")
    assert (chinese.lang, chinese.dir, chinese.english) == ("zh-Hans", "ltr", "Chinese (Simplified)")
    assert Language.of("es").native == "Español"  # capitalised as in a list of languages


@pytest.mark.parametrize(
    "route,edition,words",
    [
        ("intranasal", "standard", "nose spray"),
        ("im", "standard", "injection"),
        ("oral", "large", "pill large print"),
        ("iv", "standard", "drip"),
    ],
)
def test_the_filter_matches_the_words_staff_use(route, edition, words):
    [clinic] = group([entry(route_id=route, edition=edition)])
    [row] = clinic.routes[0].rows
    assert all(word in row.search.lower() for word in words.split()), row.search


def test_text_and_attributes_are_escaped(project):
    hostile = '<script>alert("x")</script> & "Co"'
    html = render_index(
        [entry(clinic_name=hostile, route_title='Say "hi" <b>', path="example/es/iv a+b.pdf")], project.templates
    )
    page = Elements(html)
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;Co&#34;" in html
    assert hostile in "".join(page.text)  # shown as text, not run
    assert page.find("a")[0]["href"] == "example/es/iv%20a+b.pdf"
    assert page.find("a")[0]["aria-label"].startswith('Say "hi" <b>, Spanish, Standard')
    assert sum(tag == "script" for tag, _ in page.tags) == 1  # only the page's own filter script


def test_page_groups_editions_and_marks_languages(project):
    entries = [
        entry(),
        entry(edition="large", path="example/es/iv.large.pdf", built="2026-11-22"),
        entry(edition="bilingual", second=Language.of("en"), path="example/es/iv.es+en.pdf"),
        entry(language=Language.of("ar"), path="example/ar/iv.pdf", status="approved"),
        entry(language=Language.of("en"), path="example/en/iv.pdf", status="source"),
    ]
    html = render_index(entries, project.templates)
    page = Elements(html)
    rows = [attrs for tag, attrs in page.tags if tag == "tr" and "data-search" in attrs]
    assert len(rows) == 3  # one row per language, editions side by side
    assert [a["href"] for a in page.find("a")] == [e.path for e in entries]
    assert "Bilingual + English" in page.text
    native = page.find("span", **{"class": "native"})
    assert [(s["lang"], s["dir"]) for s in native] == [("es", "ltr"), ("ar", "rtl"), ("en", "ltr")]
    assert "Arabic" in rows[1]["data-search"] and "العربية" in rows[1]["data-search"]
    # Each status is spelled out, not shown by colour alone; dates that differ per edition are both shown.
    text = " ".join(" ".join(page.text).split())
    assert "⚠ Draft" in text and "✓ Approved" in text and "English source" in text
    assert "2026-11-21" in text and "Large print 2026-11-22" in text
    # The filter box stays hidden until its script runs, so without JavaScript nothing is missing.
    assert "hidden" in page.find("div", id="finder")[0]
    assert html == render_index(entries, project.templates)  # same inputs, same bytes


def test_empty_index_says_nothing_is_built(project):
    assert "No handouts have been built yet." in render_index([], project.templates)


def test_build_date_from_source_date_epoch_else_file_time(tmp_path, monkeypatch):
    pdf = tmp_path / "iv.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    when = dt.datetime(2025, 3, 4, 12, 0).timestamp()
    os.utime(pdf, (when, when))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert build_date(pdf) == "2025-03-04"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2024, 1, 2, tzinfo=dt.UTC).timestamp())))
    assert build_date(pdf) == "2024-01-02"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH must be seconds"):
        build_date(pdf)


# --- a real build ----------------------------------------------------------------------------


def test_build_writes_an_index_of_what_exists_on_disk(project, site, tmp_path):
    out, results = site
    html = (out / "index.html").read_text("utf-8")
    assert sorted(a["href"] for a in Elements(html).find("a")) == sorted(
        r.path.relative_to(out).as_posix() for r in results
    )
    # Building one handout again keeps the others, built before, in the index; a PDF that is
    # gone is not listed.
    copy = tmp_path / "handouts"
    shutil.copytree(out, copy)
    gone = copy / "example" / "en" / "oral.pdf"
    gone.unlink()
    build(project, plan(load_clinics(project, ["example"]), ["es"], ["iv"]), copy)
    hrefs = [a["href"] for a in Elements((copy / "index.html").read_text("utf-8")).find("a")]
    assert len(hrefs) == len(results) - 1 and "example/en/oral.pdf" not in hrefs
    assert all((copy / href).is_file() for href in hrefs)
    # A build narrowed to another clinic keeps the first clinic's handouts in the index.
    build(project, plan(load_clinics(project, ["thameside"]), ["fr"], ["iv"], ["standard"]), copy)
    hrefs = [a["href"] for a in Elements((copy / "index.html").read_text("utf-8")).find("a")]
    assert "thameside/fr/iv.pdf" in hrefs and len(hrefs) == len(results)
    # Each clinic has its own page, listing only its own handouts, linked from its folder.
    for clinic, count in (("example", len(results) - 1), ("thameside", 1)):
        own = [a["href"] for a in Elements((copy / clinic / "index.html").read_text("utf-8")).find("a")]
        assert len(own) == count and all((copy / clinic / href).is_file() for href in own), own


def test_status_follows_each_language_review(project, site, tmp_path):
    out, results = site
    content, translators = load_content(project.content), Translators(project.locales)
    entries = collect_entries([r.job for r in results], content, translators, out)
    # English is the source; every shipped translation is a draft (locales/*/review.toml), and
    # so is every edition in another language (a bilingual one with English too)
    assert {e.path: e.status for e in entries} == {
        r.path.relative_to(out).as_posix(): "source" if r.job.language == "en" else "draft" for r in results
    }
    assert {e.edition for e in entries} == {"standard", "large", "bilingual"}
    # Approved on or after the day the English was last reviewed (2026-12-01, the newest
    # `reviewed` of the IV and oral blocks in content/): approved; approved before it: a draft.
    locales = tmp_path / "locales"
    shutil.copytree(project.locales, locales)
    review = locales / "es" / "review.toml"
    jobs = [r.job for r in results if r.job.language == "es"]
    for approved_on, status in (("2026-12-02", "approved"), ("2026-12-01", "approved"), ("2026-11-30", "draft")):
        review.write_text(f'status = "approved"\napproved_by = "A. Translator, CMI"\napproved_on = {approved_on}\n')
        assert {e.status for e in collect_entries(jobs, content, Translators(locales), out)} == {status}, approved_on
    # A bilingual edition is a draft if either of its languages is (in a copy: the site is
    # shared with the other test process).
    clinic = results[0].job.clinic
    bilingual = Job(clinic, "en", "iv", "bilingual", "es")
    copy = tmp_path / "handouts"
    shutil.copytree(out, copy)
    shutil.copy(copy / clinic.id / "en" / "iv.pdf", copy / clinic.id / "en" / bilingual.filename)
    [listed] = collect_entries([bilingual], content, translators, copy)
    assert (listed.status, listed.second.english, listed.edition_label) == ("draft", "Spanish", "Bilingual + Spanish")


def test_write_index_replaces_the_page_atomically(tmp_path):
    path = write_index(tmp_path, "<!DOCTYPE html><p>first</p>")
    write_index(tmp_path, "<!DOCTYPE html><p>é second</p>")
    assert path == tmp_path / "index.html" and path.read_text("utf-8") == "<!DOCTYPE html><p>é second</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary file left


# --- in headless Chromium --------------------------------------------------------------------


def chromium(javascript: bool = True) -> webdriver.Chrome:
    if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
        pytest.fail(
            "Chromium is needed to test the index page: run tools/system-deps.sh --test "
            "(or apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"):
        options.add_argument(arg)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def page(site):
    out, _ = site
    driver = chromium()
    driver.get((out / "index.html").as_uri())
    yield driver
    driver.quit()


def rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "tr[data-search]")


def visible_languages(driver) -> list[str]:
    """The lang of each row still shown."""
    return [r.find_element(By.CSS_SELECTOR, ".native").get_attribute("lang") for r in rows(driver) if r.is_displayed()]


def type_filter(driver, text: str) -> None:
    box = driver.find_element(By.ID, "filter")
    box.clear()
    box.send_keys(text)


def test_chromium_screenshot(page, tmp_path):
    shot = tmp_path / "index.png"
    assert page.save_screenshot(str(shot))
    with Image.open(shot) as image:
        assert image.format == "PNG" and image.width >= 1000 and image.height >= 600
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 100  # text, buttons and badges, not a blank page


def test_chromium_every_link_opens_a_built_pdf(page, site):
    out, results = site
    links = [a.get_attribute("href") for a in page.find_elements(By.CSS_SELECTOR, "a[href]")]
    paths = [Path(url2pathname(urlparse(href).path)) for href in links]
    assert all(urlparse(href).scheme == "file" for href in links)
    for path in paths:
        assert path.is_file() and path.read_bytes()[:5] == b"%PDF-", path
    assert sorted(paths) == sorted(r.path for r in results)  # every built handout, once
    assert page.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_chromium_language_names_render_in_their_direction(page):
    arabic = page.find_element(By.CSS_SELECTOR, '.native[lang="ar"]')
    assert arabic.text == "العربية" and arabic.value_of_css_property("direction") == "rtl"
    assert page.find_element(By.CSS_SELECTOR, '.native[lang="es"]').text == "Español"


@pytest.mark.parametrize(
    "typed, language", [("Español", "es"), ("espanol", "es"), ("العربية", "ar"), ("Arabic", "ar"), ("  ARABIC ", "ar")]
)
def test_chromium_filter_by_language_name(page, typed, language):
    type_filter(page, typed)
    shown = visible_languages(page)
    assert shown == [language] * len(ROUTES)
    handouts = sum(len(r.find_elements(By.CSS_SELECTOR, "a[href]")) for r in rows(page) if r.is_displayed())
    assert handouts > len(shown)  # two editions (standard, large print) per row: handouts, not rows
    total = len(page.find_elements(By.CSS_SELECTOR, "a[href]"))
    assert page.find_element(By.ID, "shown").text == f"{handouts} of {total} handouts shown"


def test_chromium_language_names_fit_a_narrow_window(project, tmp_path):
    # at 400 px (a phone, a narrow side panel) each language is two lines: its own name, then
    # its English name with its id; never three ("Kreyòl Ayisyen", "中文 (简体)" took three or four)
    languages = load_clinics(project, ["example"])[0].languages
    index = tmp_path / "index.html"
    index.write_text(
        render_index(
            [entry(language=Language.of(lang), path=f"example/{lang}/iv.pdf") for lang in languages], project.templates
        ),
        "utf-8",
    )
    driver = chromium()
    try:
        driver.set_window_size(400, 900)
        driver.get(index.as_uri())
        assert len(rows(driver)) == len(languages)
        for row in rows(driver):
            native, english, code = (
                row.find_element(By.CSS_SELECTOR, f".language .{c}") for c in ("native", "english", "code")
            )
            lines = driver.execute_script(
                "var s = getComputedStyle(arguments[0]);"
                "return arguments[0].getBoundingClientRect().height / parseFloat(s.lineHeight);",
                native,
            )
            assert lines < 1.5, (native.text, lines)
            assert driver.execute_script("return arguments[0].getClientRects().length", english) == 1, english.text
            assert abs(english.rect["y"] - code.rect["y"]) < english.rect["height"], english.text
    finally:
        driver.quit()


def test_chromium_filter_by_route_hides_other_routes(page):
    type_filter(page, "by mouth")
    assert sorted(visible_languages(page)) == sorted(LANGUAGES)
    routes = page.find_elements(By.CSS_SELECTOR, "section.route")
    assert [r.is_displayed() for r in routes] == [route == "oral" for route in ROUTES]
    type_filter(page, "oral arabic")  # every word must match
    assert visible_languages(page) == ["ar"]


def test_chromium_no_match_says_so_and_escape_shows_all(page):
    type_filter(page, "Klingon")
    assert visible_languages(page) == [] and page.find_element(By.ID, "none").is_displayed()
    page.find_element(By.ID, "filter").send_keys(Keys.ESCAPE)
    assert len(visible_languages(page)) == len(rows(page)) == len(LANGUAGES) * len(ROUTES)
    assert not page.find_element(By.ID, "none").is_displayed()


def test_chromium_without_javascript_lists_everything(site):
    out, results = site
    driver = chromium(javascript=False)
    try:
        driver.get((out / "index.html").as_uri())
        assert not driver.find_element(By.ID, "finder").is_displayed()
        assert all(r.is_displayed() for r in rows(driver)) and len(rows(driver)) == len(LANGUAGES) * len(ROUTES)
        assert len(driver.find_elements(By.CSS_SELECTOR, "a[href]")) == len(results)
    finally:
        driver.quit()

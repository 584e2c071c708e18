"""The staff index takes the review status of the handouts a build has just made from their
render processes (issue 17: the build no longer loads and checks every catalog again for the
index). That status must be the one the index finds by loading the catalogs."""

from generator.content import load_content
from generator.index import built_status, handout_status
from generator.translation import Translators, available_languages


def test_the_status_a_render_process_reports_is_the_one_the_index_finds(project_copy):
    project = project_copy
    (project.locales / "es" / "review.toml").write_text(
        'status = "approved"\napproved_by = "A. Translator, CT"\napproved_on = 2099-01-01\n'
    )
    content, translators = load_content(project.content), Translators(project.locales)
    languages = sorted(available_languages(project.locales) | {"en"})
    seen = set()
    for route in content.routes.values():
        for pair in [[lang] for lang in languages] + [[lang, "en"] for lang in languages if lang != "en"]:
            status = handout_status(translators, pair, route)
            assert built_status(pair, status == "draft") == status, (route.id, pair)
            seen.add(status)
    assert seen == {"source", "draft", "approved"}  # every way of the mapping is exercised

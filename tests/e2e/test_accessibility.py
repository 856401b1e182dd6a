"""axe-core finds no serious or critical violation on the public pages, at phone and desktop widths.

Screenshots land in tests/e2e/screenshots/accessibility/ (git-ignored) for a person to look at.
"""

import pytest
from django.core.management import call_command

from tests.e2e.conftest import SCREENSHOTS

# serialized_rollback restores the groups the migrations create, which a transactional test flushes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ARTICLE = "/articles/ketamine-depression-ptsd-evidence/"
PAGES = {
    "home": "/",
    "article": ARTICLE,
    "topic": "/topics/depression/",
    "search": "/search/?q=ketamine",
    "not-found": "/articles/no-such-article/",
}
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
BLOCKING = {"serious", "critical"}


@pytest.fixture
def demo():
    call_command("load_demo", password="demo-password-for-tests", stdout=open("/dev/null", "w"))


def _describe(violations):
    return "\n".join(
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']][:5]}" for v in violations
    )


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", PAGES)
def test_public_pages_have_no_serious_axe_violations(open_session, demo, name, width):
    from axe_playwright_python.sync_playwright import Axe

    session = open_session(f"accessibility-{name}-{width}")
    page = session.new_page()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width])))
    response = page.goto(session.url(PAGES[name]))
    assert response.status == (404 if name == "not-found" else 200)
    results = Axe().run(page)
    violations = results.response["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    shots = SCREENSHOTS / "accessibility"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    assert blocking == [], _describe(blocking)
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "horizontal scroll"


def test_the_article_reads_without_javascript(browser, live_server, demo):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_server.url + ARTICLE)
        assert page.locator("h1").inner_text() == "Ketamine for depression and PTSD: what the studies show"
        assert page.locator("ol.reference-list > li").count() == 4
        assert "Medically reviewed by Sam Okafor" in page.locator(".credits").inner_text()
    finally:
        context.close()


def test_citations_jump_to_the_reference_and_back(open_session, demo):
    session = open_session("citation-links")
    page = session.new_page()
    page.goto(session.url(ARTICLE))
    page.click("#cite-4-2")
    assert page.url.endswith("#ref-4")
    assert page.locator("#ref-4").is_visible()
    page.click("#ref-4 .backlinks a[href='#cite-4-2']")
    assert page.url.endswith("#cite-4-2")


def test_the_skip_link_is_first_and_visible_when_focused(open_session, demo):
    session = open_session("skip-link")
    page = session.new_page()
    page.goto(session.url(ARTICLE))
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    box = page.locator(".skip-link").bounding_box()
    assert box["x"] >= 0 and box["y"] >= 0, "the focused skip link is on screen"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")


def test_the_article_prints_without_navigation(open_session, demo):
    session = open_session("print")
    page = session.new_page()
    page.goto(session.url(ARTICLE))
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".site-search").is_visible()
    assert page.locator("ol.reference-list").is_visible()
    assert page.locator(".care").is_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_an_article_with_a_retracted_source_shows_the_notice_accessibly(open_session, demo, width):
    from axe_playwright_python.sync_playwright import Axe

    from references.models import Reference, RetractionStatus
    from references.signals import reference_status_changed

    reference = Reference.objects.get(doi="10.1159/000493425")
    Reference.objects.filter(pk=reference.pk).update(
        retraction_status=RetractionStatus.RETRACTED,
        updates=[{"type": "retraction", "DOI": "10.5555/notice.2026.1", "label": "Retraction",
                  "source": "publisher", "updated": "2026-11-20"}],
    )
    reference.refresh_from_db()
    reference_status_changed.send(sender=Reference, reference=reference, was_support=True, is_support=False,
                                  newly_retracted=True, changes={})
    session = open_session(f"accessibility-notice-{width}")
    page = session.new_page()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width])))
    page.goto(session.url(ARTICLE))
    assert "Retracted since this article was published." in page.locator("#ref-2").inner_text()
    assert page.locator(".article-header .notice").is_visible()
    blocking = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING]
    shots = SCREENSHOTS / "accessibility"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"article-with-notice-{width}.png"), full_page=True)
    assert blocking == [], _describe(blocking)

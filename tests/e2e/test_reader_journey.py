"""A reader opens an article, follows a citation to its reference and back, and finds the article by search."""

import pytest

from articles.review import workflow
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _publish(title, **fields):
    editor = make_editor()
    reviewer = make_reviewer()
    article = make_supported_article(title, author=editor, **fields)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return article


def test_reader_follows_a_citation_and_searches(open_session):
    refs = [
        make_reference("10.1000/ketamine.trial.1", title="Ketamine infusion in treatment-resistant depression"),
        make_reference("10.1000/ketamine.trial.2", title="Rapid antidepressant effects of ketamine"),
    ]
    article = _publish("Ketamine for depression", references=refs)
    sleep_ref = make_reference("10.1000/sleep.1", title="Sleep deprivation and next-day mood")
    _publish("Sleep and mood", summary="How sleep loss affects mood the next day.", references=[sleep_ref],
             sections={"Findings": [{"text": "One night without sleep lowered mood the next day.", "refs": [sleep_ref]},
                                    {"text": "See a doctor if poor sleep lasts for weeks.", "context": True}]})

    reader = open_session("reader")
    page = reader.new_page()
    page.goto(reader.url("/"))
    reader.screenshot(page, "home")
    page.click("main a:has-text('Ketamine for depression')")
    page.wait_for_selector("h1#article-title")
    assert page.url.endswith(article.get_absolute_url())
    assert page.inner_text("h1#article-title") == "Ketamine for depression"
    reader.screenshot(page, "article")

    # The first claim's citation leads to reference 1 in the list ...
    citation = page.locator(".article-body a[href='#ref-1']").first
    citation_id = citation.get_attribute("id")
    assert citation_id
    citation.click()
    page.wait_for_url("**#ref-1")
    reference = page.locator("#ref-1")
    assert "Ketamine infusion in treatment-resistant depression" in reference.inner_text()
    assert reference.locator("a[href='https://doi.org/10.1000/ketamine.trial.1']").count() == 1
    assert page.evaluate("document.querySelector(':target').id") == "ref-1"
    reader.screenshot(page, "at-reference")

    # ... and the reference links back to where it was cited.
    reference.locator(f".backlinks a[href='#{citation_id}']").click()
    page.wait_for_url(f"**#{citation_id}")
    assert page.evaluate("document.querySelector(':target').id") == citation_id
    assert page.evaluate(
        "(id) => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        citation_id,
    )

    # Search from the header finds it; the other article does not match.
    page.fill("#site-search-q", "ketamine")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/?q=ketamine")
    results = page.inner_text("main")
    assert "Ketamine for depression" in results
    assert "Sleep and mood" not in results
    reader.screenshot(page, "search")
    page.click("main a:has-text('Ketamine for depression')")
    page.wait_for_selector("h1#article-title")
    assert page.url.endswith(article.get_absolute_url())

    # A draft is not there for readers.
    draft = make_supported_article("Unreviewed draft", author=make_editor())
    response = page.goto(reader.url(f"/articles/{draft.slug}/"))
    assert response.status == 404
    reader.screenshot(page, "draft-404")
    assert reader.csp_violations() == []

"""A reviewer sends an article back, its editor fixes the claim and resubmits, the reviewer approves, it goes live."""

import pytest

from articles.review import workflow
from articles.models import Status
from tests.e2e.conftest import PASSWORD
from tests.e2e.journeys import edit_claim_and_resubmit
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

VAGUE = "A single infusion reduced depressive symptoms within a day."
FIXED = "In two trials, a single infusion reduced depressive symptoms within 24 hours."


def test_request_changes_fix_resubmit_approve_publish(open_session):
    editor_user = make_editor("edna", first_name="Edna", last_name="Moss", password=PASSWORD)
    make_reviewer("rita", first_name="Rita", last_name="Okafor", credentials="MD, psychiatrist", password=PASSWORD)
    refs = [
        make_reference("10.1000/ketamine.trial.1", title="Ketamine infusion in treatment-resistant depression"),
        make_reference("10.1000/ketamine.trial.2", title="Rapid antidepressant effects of ketamine"),
    ]
    article = make_supported_article("Ketamine for depression", author=editor_user, references=refs)
    workflow.submit(article, by=editor_user)

    reviewer = open_session("reviewer")
    review = reviewer.new_page()
    reviewer.sign_in(review, "rita")
    review.goto(reviewer.url("/review/"))
    reviewer.screenshot(review, "queue")
    review.click("table.review-queue a:has-text('Ketamine for depression')")
    review.wait_for_selector("h1:has-text('Review: Ketamine for depression')")
    reviewer.screenshot(review, "review-page")

    # Changes requested, pinned to the claim that overstates.
    review.fill("#id_comment", "Say how many trials and how fast: 'within a day' is vague.")
    review.select_option("#id_claim", label=f"3. “{VAGUE}”")
    review.click("button:has-text('Request changes')")
    review.wait_for_selector(".messages")
    assert "Sent “Ketamine for depression” back to its authors." in review.inner_text(".messages")
    article.refresh_from_db()
    assert article.status == Status.CHANGES_REQUESTED

    # The editor reads the comment in the article's history, fixes the claim and resubmits.
    editor = open_session("editor")
    desk = editor.new_page()
    editor.sign_in(desk, "edna")
    desk.goto(editor.url(f"/admin/articles/article/{article.pk}/change/"))
    history = desk.inner_text(".field-audit_log")
    assert "within a day' is vague" in history
    assert "Changes requested" in history or "changes" in history.lower()
    editor.screenshot(desk, "changes-requested")
    edit_claim_and_resubmit(desk, link_text="Edit the 1 claim(s) of this section", field="#id_claims-0-text",
                            before=VAGUE, after=FIXED)
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW

    # The reviewer sees the new wording and approves exactly it.
    review.goto(reviewer.url(f"/review/{article.pk}/"))
    # The claim is marked as edited: without the struck-out words it reads as the new wording.
    assert "Edited" in review.inner_text("#claim-3 .claim-head")
    shown = review.eval_on_selector(
        "#claim-3 .claim-text",
        "el => { const c = el.cloneNode(true); c.querySelectorAll('del').forEach(d => d.remove()); return c.textContent; }",
    )
    assert shown.strip() == FIXED
    reviewer.screenshot(review, "resubmitted")
    review.click("button:has-text('Approve exactly this version')")
    review.wait_for_selector(".messages")
    assert "Approved “Ketamine for depression”." in review.inner_text(".messages")
    article.refresh_from_db()
    assert article.status == Status.APPROVED
    assert article.approved_by.username == "rita"

    # The editor publishes; readers see the fixed claim.
    desk.goto(editor.url(f"/admin/articles/article/{article.pk}/change/"))
    desk.click("a.workflow-publish")
    desk.wait_for_selector("text=Freeze this approved version")
    desk.click("#content form [type=submit]")
    desk.wait_for_selector("ul.messagelist")
    assert "Publish: done" in desk.inner_text("ul.messagelist")
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED

    reader = open_session("reader")
    page = reader.new_page()
    response = page.goto(reader.url(article.get_absolute_url()))
    assert response.status == 200
    body = page.inner_text("main")
    assert FIXED in body
    assert VAGUE not in body
    reader.screenshot(page, "published")

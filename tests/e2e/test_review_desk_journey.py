"""The review desk in a browser: one claim of ten changes, the reviewer finds it marked, they talk beside it, approve.

Screenshots (1280 and 390 px wide) land in tests/e2e/screenshots/<test>/ (git-ignored) for a person to look at;
axe-core must find nothing serious or critical on the queue and the review page, and neither may scroll sideways
on a phone.
"""

import pytest

from articles.models import Claim, ReviewComment, Status
from articles.review import workflow
from tests.e2e.conftest import PASSWORD
from tests.e2e.journeys import edit_claim_and_resubmit
from tests.factories import make_article, make_editor, make_reference, make_reviewer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = "Sleep restriction therapy improved insomnia severity in adults after four weeks."
AFTER = "Sleep restriction therapy improved insomnia severity in adults over 60 after four weeks."
COMMENT = "Which trial enrolled people over 60? Cite it beside this claim."
REPLY = "The second trial did: it is cited now, and the age is in its abstract."
BLOCKING = {"serious", "critical"}
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1280, "height": 900}


def _claims(refs):
    texts = [
        "Insomnia is common among adults.",
        "Cognitive behavioural therapy for insomnia reduced time to fall asleep.",
        "Benefits of cognitive behavioural therapy lasted at least a year.",
        "Digital programmes delivered similar improvements in sleep quality.",
        "Sleep hygiene advice alone had small effects on insomnia.",
        "Stimulus control helped adults fall asleep sooner.",
        BEFORE,
        "Relaxation training reduced night-time awakenings.",
        "Combined treatment reduced use of sleeping pills.",
        "Daytime fatigue improved alongside night-time sleep.",
    ]
    return {
        "What helps": [{"text": t, "refs": [refs[0]]} for t in texts[:5]],
        "What the trials found": [{"text": t, "refs": [refs[1]]} for t in texts[5:]],
    }


def _axe_blocking(page):
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page).response["violations"]
    return [f"{v['impact']}: {v['id']} at {[n['target'] for n in v['nodes']][:3]}" for v in violations
            if v["impact"] in BLOCKING]


def _check_widths(session, page, name):
    """Both widths: a screenshot, axe-core, and no sideways scrolling at 390 px."""
    for label, size in (("1280", DESKTOP), ("390", PHONE)):
        page.set_viewport_size(size)
        session.screenshot(page, f"{name}-{label}")
        assert _axe_blocking(page) == [], f"{name} at {label} px"
        if label == "390":
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways"
    page.set_viewport_size(DESKTOP)


def test_one_changed_claim_found_discussed_and_approved(open_session):
    editor_user = make_editor("edna", first_name="Edna", last_name="Moss", password=PASSWORD)
    rita = make_reviewer("rita", first_name="Rita", last_name="Okafor", credentials="MD, psychiatrist",
                         password=PASSWORD)
    refs = [
        make_reference("10.1000/cbti.1", title="Cognitive behavioural therapy for insomnia: a meta-analysis",
                       abstract="Cognitive behavioural therapy for insomnia reduced sleep onset latency. "
                                "Benefits lasted at least a year. Digital programmes were similar."),
        make_reference("10.1000/srt.2", title="Sleep restriction therapy in older adults",
                       abstract="We randomised 120 adults over 60 with insomnia. Sleep restriction therapy "
                                "improved insomnia severity after four weeks. Relaxation reduced awakenings."),
    ]
    article = make_article("Treating insomnia", sections=_claims(refs), authors=[editor_user],
                           byline="Dana Reyes, PhD", summary="What works for insomnia, in two sentences.")
    workflow.submit(article, by=editor_user)
    # Rita read this version once and sent it back: that is the version she "last looked" at.
    workflow.request_changes(article, by=rita, comment="Say who the sleep restriction trials enrolled.")

    # The editor changes one claim of ten, in the admin, and resubmits.
    editor = open_session("editor")
    desk = editor.new_page()
    editor.sign_in(desk, "edna")
    desk.goto(editor.url(f"/admin/articles/article/{article.pk}/change/"))
    edit_claim_and_resubmit(desk, link_text="Edit the 5 claim(s) of this section", nth=1, field="#id_claims-1-text",
                            before=BEFORE, after=AFTER)
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW

    # The reviewer signs in with no page in mind and lands on the queue.
    reviewer = open_session("reviewer")
    review = reviewer.new_page()
    review.goto(reviewer.url("/admin/login/"))
    review.fill("#id_username", "rita")
    review.fill("#id_password", PASSWORD)
    review.click("input[type=submit]")
    review.wait_for_selector("h1:has-text('Review queue')")
    assert review.url.endswith("/review/")
    _check_widths(reviewer, review, "queue")
    review.click("table.review-queue a:has-text('Treating insomnia')")
    review.wait_for_selector("h1:has-text('Review: Treating insomnia')")
    summary = review.inner_text(".changes-summary")
    assert "1 change" in summary and "1 edited, 0 added, 0 removed" in summary
    assert review.locator("article.claim").count() == 10

    # One tick shows only what changed: the edited claim, with the added words marked.
    review.check("#id_only")
    review.wait_for_url("**only=changes**")
    assert review.locator("article.claim").count() == 1
    changed = review.locator("article.claim-edited")
    assert changed.locator("ins").inner_text().strip() == "over 60"
    assert "Edited" in changed.locator(".claim-head").inner_text()
    # j moves to the claim, c opens its comment box.
    review.locator("body").press("j")
    assert review.evaluate("document.activeElement.id") == "claim-7"
    review.keyboard.press("c")
    review.keyboard.type(COMMENT)
    review.click("article.claim-edited .comment-box button:has-text('Add comment')")
    review.wait_for_selector(".messages")
    assert COMMENT in review.inner_text("#claim-7 .claim-threads")
    _check_widths(reviewer, review, "review-page-changes-only")

    # The editor sees the comment beside the sentence on the writing desk and answers it there.
    thread = ReviewComment.objects.get(kind="comment", body=COMMENT)
    desk.goto(editor.url(f"/admin/articles/article/{article.pk}/desk/"))
    beside = desk.locator(".desk-sentence", has=desk.locator(f"#reply-body-{thread.pk}"))
    assert COMMENT in beside.inner_text() and "over 60" in beside.inner_text()
    desk.fill(f"#reply-body-{thread.pk}", REPLY)
    beside.locator("button:has-text('Send reply')").click()
    desk.wait_for_selector("ul.messagelist")
    assert REPLY in desk.locator(".desk-sentence", has_text=COMMENT).inner_text()
    editor.screenshot(desk, "editor-replied-on-desk")

    # The reviewer reads the answer beside the claim, resolves it and approves exactly this version.
    review.goto(reviewer.url(f"/review/{article.pk}/"))
    assert REPLY in review.inner_text("#claim-7 .claim-threads")
    review.click("#claim-7 button:has-text('Resolve')")
    review.wait_for_selector("#claim-7 .thread-resolved")
    _check_widths(reviewer, review, "review-page-full")
    approve = review.locator("button:has-text('Approve exactly this version')")
    assert approve.is_enabled()
    approve.click()
    review.wait_for_selector(".messages")
    assert "Approved “Treating insomnia”." in review.inner_text(".messages")
    article.refresh_from_db()
    assert article.status == Status.APPROVED and article.approved_by == rita
    assert Claim.objects.filter(section__article=article, text=AFTER).exists()

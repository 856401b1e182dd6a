"""The reviewers' queue at /review/ and the review page."""

import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from articles.review import workflow
from articles.models import Article, AuditEntry, Claim, Status
from references.models import PeerReviewStatus, RetractionStatus
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db

QUEUE = reverse("review:queue")


def page_url(article):
    return reverse("review:article", args=[article.pk])


@pytest.fixture
def as_reviewer(client, reviewer):
    client.force_login(reviewer)
    return client


def submitted(editor, title, **kwargs):
    article = make_supported_article(title, author=editor, **kwargs)
    workflow.submit(article, by=editor)
    return article


# -- access ------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_the_admin_login(client, article):
    for url in (QUEUE, page_url(article)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login") + "?next=")


def test_editors_without_review_permission_are_forbidden(client, editor, article):
    client.force_login(editor)
    assert client.get(QUEUE).status_code == 403
    assert client.get(page_url(article)).status_code == 403
    assert client.post(reverse("review:approve", args=[article.pk])).status_code == 403


def test_superusers_may_review(client, article):
    client.force_login(make_user("admin", superuser=True))
    assert client.get(QUEUE).status_code == 200


def test_actions_refuse_get(as_reviewer, article, editor):
    workflow.submit(article, by=editor)
    for name in ("approve", "request_changes"):
        assert as_reviewer.get(reverse(f"review:{name}", args=[article.pk])).status_code == 405
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


def test_actions_need_the_csrf_token(reviewer, article, editor):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reviewer)
    workflow.submit(article, by=editor)
    assert strict.post(reverse("review:approve", args=[article.pk])).status_code == 403
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


# -- the queue -----------------------------------------------------------------

def test_the_queue_lists_what_awaits_review_oldest_first_with_counts(as_reviewer, editor):
    start = timezone.now()
    older = submitted(editor, "Older")
    newer = submitted(editor, "Newer", sections={"S": [
        "Uncited claim.",
        {"text": "Context.", "context": True},
        {"text": "Retracted.", "refs": [make_reference(retraction=RetractionStatus.RETRACTED)]},
        {"text": "Overridden.", "refs": [make_reference(
            peer_review=PeerReviewStatus.UNKNOWN, peer_review_override=PeerReviewStatus.PEER_REVIEWED,
            peer_review_override_reason="Refereed journal.")]},
    ]})
    Article.objects.filter(pk=older.pk).update(review_requested_at=start - datetime.timedelta(days=2))
    make_supported_article("Still a draft", author=editor)
    response = as_reviewer.get(QUEUE)
    assert [a.title for a in response.context["page"].object_list] == ["Older", "Newer"]
    listed = response.context["page"].object_list[1]
    assert (listed.claim_count, listed.unsupported_claim_count, listed.context_count,
            listed.overridden_count, listed.retracted_count) == (4, 1, 1, 1, 1)
    html = response.content.decode()
    assert "Still a draft" not in html and "Eddie" in html


def test_the_queue_includes_published_articles_due_or_flagged_for_re_review(as_reviewer, editor, reviewer):
    due = submitted(editor, "Due")
    workflow.approve(due, by=reviewer)
    workflow.publish(due, by=editor)
    fresh = submitted(editor, "Fresh")
    workflow.approve(fresh, by=reviewer)
    workflow.publish(fresh, by=editor)
    Article.objects.filter(pk=due.pk).update(next_review_due=timezone.now() - datetime.timedelta(days=1))
    titles = [a.title for a in as_reviewer.get(QUEUE).context["page"].object_list]
    assert titles == ["Due"]
    workflow.flag_for_rereview(fresh, reason="Cited source changed.", urgent=True)
    titles = [a.title for a in as_reviewer.get(QUEUE).context["page"].object_list]
    assert titles == ["Fresh", "Due"]  # urgent first


def test_the_queue_is_paginated(as_reviewer, editor):
    for number in range(27):
        submitted(editor, f"Article {number}")
    first = as_reviewer.get(QUEUE)
    assert len(first.context["page"].object_list) == 25
    assert len(as_reviewer.get(QUEUE + "?page=2").context["page"].object_list) == 2


def test_the_queue_costs_a_constant_number_of_queries(as_reviewer, editor, django_assert_max_num_queries):
    for number in range(30):
        submitted(editor, f"Article {number}")
    # session, user, user permissions, group permissions, count, page, authors, who else is looking, topics.
    with django_assert_max_num_queries(9):
        assert as_reviewer.get(QUEUE).status_code == 200


# -- the review page ------------------------------------------------------------

def test_the_review_page_shows_claims_sources_context_and_blockers(as_reviewer, editor):
    retracted = make_reference(
        retraction=RetractionStatus.RETRACTED,
        updates=[{"type": "retraction", "label": "Retraction", "DOI": "10.1000/notice.1", "source": "retraction-watch",
                  "updated": "2024-03-01"}],
    )
    article = submitted(editor, "Mixed", sections={"Effects": [
        {"text": "Supported by a retracted paper only.", "refs": [retracted]},
        {"text": "See a clinician.", "context": True},
    ]})
    html = as_reviewer.get(page_url(article)).content.decode()
    assert "Supported by a retracted paper only." in html
    assert f"https://doi.org/{retracted.doi}" in html
    assert "Retracted." in html and "10.1000/notice.1" in html
    assert "<mark><strong>Context statement:</strong> See a clinician.</mark>" in html
    assert "is retracted" in html  # the gate's blocker
    assert "Approve exactly this version</button>" in html and "disabled" in html


def test_the_review_page_shows_the_diff_since_the_last_revision(as_reviewer, editor, reviewer):
    article = submitted(editor, "Diffed")
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    Claim.objects.filter(section__article=article, text="Ketamine blocks NMDA receptors.").update(
        text="Ketamine blocks NMDA receptors in the brain."
    )
    workflow.submit(article, by=editor)
    response = as_reviewer.get(page_url(article), {"compare": "published"})
    comparison = response.context["comparison"]
    edited = comparison.edited
    assert [change.old_text for change in edited] == ["Ketamine blocks NMDA receptors."]
    assert str(edited[0].html) == "Ketamine blocks NMDA receptors<ins> in the brain</ins>."
    assert "@@" not in response.content.decode()


def test_the_review_page_costs_a_constant_number_of_queries(as_reviewer, editor, django_assert_max_num_queries):
    refs = [make_reference() for _ in range(4)]
    article = submitted(editor, "Large", sections={
        f"S{s}": [{"text": f"Claim {s}.{c}", "refs": refs[:2]} for c in range(50)] for s in range(5)
    })
    # The page of 250 claims as of one: the content, sources' logs, revision, the reviewer's last review,
    # conversations, who else is looking (and its one-statement update), history, and the session's own.
    with django_assert_max_num_queries(21):
        assert as_reviewer.get(page_url(article)).status_code == 200


def test_approving_from_the_review_page(as_reviewer, article, editor, reviewer):
    workflow.submit(article, by=editor)
    fingerprint = as_reviewer.get(page_url(article)).context["report"].fingerprint
    response = as_reviewer.post(reverse("review:approve", args=[article.pk]), {"fingerprint": fingerprint})
    assert response.status_code == 302 and response.url == QUEUE
    article.refresh_from_db()
    assert (article.status, article.approved_by) == (Status.APPROVED, reviewer)


def test_approving_a_version_other_than_the_one_read_is_refused(as_reviewer, article, editor):
    workflow.submit(article, by=editor)
    fingerprint = as_reviewer.get(page_url(article)).context["report"].fingerprint
    Claim.objects.filter(section__article=article).update(text="Changed while the reviewer read.")
    response = as_reviewer.post(reverse("review:approve", args=[article.pk]), {"fingerprint": fingerprint}, follow=True)
    assert "was edited after you opened it" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


def test_an_approval_without_a_fingerprint_is_refused(as_reviewer, article, editor):
    workflow.submit(article, by=editor)
    as_reviewer.post(reverse("review:approve", args=[article.pk]))
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


def test_a_reviewer_cannot_review_their_own_article(client, editor):
    writer = make_reviewer("writer")
    article = make_supported_article(author=writer)
    workflow.submit(article, by=editor)
    client.force_login(writer)
    html = client.get(page_url(article)).content.decode()
    assert "You wrote this article" in html and "Approve exactly" not in html
    fingerprint = client.get(page_url(article)).context["report"].fingerprint
    response = client.post(reverse("review:approve", args=[article.pk]), {"fingerprint": fingerprint}, follow=True)
    assert "another reviewer must" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


def test_requesting_changes_needs_a_comment_and_can_pin_a_claim(as_reviewer, article, editor):
    workflow.submit(article, by=editor)
    url = reverse("review:request_changes", args=[article.pk])
    response = as_reviewer.post(url, {"comment": " "}, follow=True)
    assert "a comment is required" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW
    claim = Claim.objects.filter(section__article=article).first()
    as_reviewer.post(url, {"comment": "Add a locator.", "claim": str(claim.pk)})
    assert Article.objects.get(pk=article.pk).status == Status.CHANGES_REQUESTED
    entry = AuditEntry.objects.get(article=article, action="request_changes")
    assert (entry.comment, entry.claim) == ("Add a locator.", claim)
    assert "Add a locator." in as_reviewer.get(page_url(article)).content.decode()


def test_a_second_approval_gets_a_clear_message(client, article, editor, reviewer):
    workflow.submit(article, by=editor)
    other = make_reviewer("otto")
    client.force_login(other)
    fingerprint = client.get(page_url(article)).context["report"].fingerprint
    workflow.approve(article, by=reviewer)
    response = client.post(reverse("review:approve", args=[article.pk]), {"fingerprint": fingerprint}, follow=True)
    assert "Someone may have acted on it first" in response.content.decode()
    assert Article.objects.get(pk=article.pk).approved_by == reviewer


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "psychly.postgresql", reason="needs PostgreSQL row locks"
)
def test_two_concurrent_approvals_one_wins():
    editor = make_editor("ed_c")
    reviewers = [make_reviewer("rev_a"), make_reviewer("rev_b")]
    article = make_supported_article("Concurrent", author=editor)
    workflow.submit(article, by=editor)
    barrier = threading.Barrier(2)
    outcomes = []

    def attempt(user):
        try:
            barrier.wait()
            workflow.approve(Article.objects.get(pk=article.pk), by=user)
            outcomes.append("approved")
        except workflow.InvalidTransition as error:
            outcomes.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(user,)) for user in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("approved") == 1
    [refusal] = [outcome for outcome in outcomes if outcome != "approved"]
    assert "it is approved" in refusal
    assert AuditEntry.objects.filter(article=article, action="approve").count() == 1


def test_peer_review_overrides_are_shown_from_the_references_log(as_reviewer, editor):
    from references.services import override_peer_review

    ref = make_reference(peer_review=PeerReviewStatus.UNKNOWN)
    override_peer_review(ref, status=PeerReviewStatus.PEER_REVIEWED, reason="Refereed; Crossref lacks the flag.",
                         by=make_reviewer("olga"))
    article = submitted(editor, "Overridden", sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    html = as_reviewer.get(page_url(article)).content.decode()
    assert "Refereed; Crossref lacks the flag." in html
    assert "(overridden by" in html


# -- what reviewers see of each source --------------------------------------------------------------

def test_the_review_page_tells_verified_sources_from_ones_entered_by_hand(as_reviewer, editor):
    from references import services
    from references.models import MetadataSource

    other_reviewer = make_reviewer("vera", first_name="Vera", last_name="Lind")
    typed = make_reference(metadata_source=MetadataSource.MANUAL, entered_by=editor, title="Typed in")
    checked = make_reference(metadata_source=MetadataSource.FILE, entered_by=editor, title="Checked one")
    services.verify_reference(checked, by=other_reviewer, reason="Matched the publisher's page.")
    fetched = make_reference(title="Fetched one", evidence_level="meta_analysis",
                             evidence_description="Meta-analysis of randomised trials")
    article = submitted(editor, "Sources", sections={"S": [
        {"text": "Claim one.", "refs": [fetched]}, {"text": "Claim two.", "refs": [typed, checked]},
    ]})
    content = as_reviewer.get(page_url(article)).content.decode()
    assert "Verified by Crossref" in content
    assert "Entered by hand — unverified" in content
    assert reverse("admin:references_reference_verify", args=[typed.pk]) in content  # a reviewer may verify it
    today = timezone.localdate().isoformat()
    assert f"Verified by Vera Lind on {today}</span>: Matched the publisher&#x27;s page." in content
    assert "Evidence: <strong>Meta-analysis</strong> (Meta-analysis of randomised trials)" in content
    assert "Evidence: <strong>Not known</strong>" in content
    # The decision is in the page's list of verifications too.
    assert f"{checked.doi}: Verified by a reviewer by vera on {today}: Matched the publisher" in content


def test_the_review_page_warns_when_a_claim_rests_only_on_weak_evidence(as_reviewer, editor, settings):
    settings.WEAK_EVIDENCE_BLOCKS = False
    mice = make_reference(evidence_level="animal", evidence_description="Study in mice")
    trial = make_reference(evidence_level="randomised_trial")
    article = submitted(editor, "Weak", sections={"S": [
        {"text": "Stimulants harm dopamine neurons.", "refs": [mice]},
        {"text": "Ketamine lifts mood.", "refs": [trial, mice]},
    ]})
    response = as_reviewer.get(page_url(article))
    assert [loaded.number for loaded in response.context["weak_claims"]] == [1]
    content = response.content.decode()
    assert content.count("Warning: only animal, in-vitro or case-report evidence supports this claim.") == 1
    assert 'href="#claim-1"' in content
    # A warning, not a blocker: the approve button stays enabled.
    assert response.context["content_blockers"] == []

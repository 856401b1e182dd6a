"""The review desk: changes since the reviewer last looked, conversations on claims, the queue's filters and presence."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.models import Claim, ReviewComment, ReviewedVersion, ReviewPresence, Topic
from articles.review import changes, comments, gate, presence, workflow
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db

QUEUE = reverse("review:queue")
TEN = [f"Finding number {n} holds in adults with depression." for n in range(1, 11)]


def page_url(article):
    return reverse("review:article", args=[article.pk])


@pytest.fixture
def editor():
    return make_editor("edna", first_name="Edna", last_name="Moss")


@pytest.fixture
def reviewer():
    return make_reviewer("rita", first_name="Rita", last_name="Okafor")


@pytest.fixture
def as_reviewer(client, reviewer):
    client.force_login(reviewer)
    return client


def ten_claim_article(editor, title="Ten claims"):
    ref = make_reference()
    article = make_supported_article(title, author=editor, sections={
        "Findings": [{"text": text, "refs": [ref]} for text in TEN[:5]],
        "More findings": [{"text": text, "refs": [ref]} for text in TEN[5:]],
    })
    workflow.submit(article, by=editor)
    return article


def send_back(article, reviewer, editor, comment="Say which trial."):
    workflow.request_changes(article, by=reviewer, comment=comment)
    workflow.submit(article, by=editor)


def claim_with(article, text):
    return Claim.objects.get(section__article=article, text=text)


# -- what the reviewer saw is kept ---------------------------------------------------------

def test_approve_and_request_changes_keep_what_the_reviewer_read(editor, reviewer):
    article = ten_claim_article(editor)
    workflow.request_changes(article, by=reviewer, comment="Needs work.")
    kept = ReviewedVersion.objects.get(article=article)
    assert kept.reviewer == reviewer and kept.audit_entry.action == "request_changes"
    claims = [c for s in kept.snapshot["sections"] for c in s["claims"]]
    assert [c["text"] for c in claims] == TEN
    assert claims[0]["id"] == claim_with(article, TEN[0]).pk and claims[0]["references"]
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    assert list(ReviewedVersion.objects.filter(article=article).values_list("audit_entry__action", flat=True)) == [
        "approve", "request_changes",
    ]


def test_a_refused_approval_keeps_nothing(editor, reviewer):
    article = ten_claim_article(editor)
    with pytest.raises(workflow.ContentChanged):
        workflow.approve(article, by=reviewer, fingerprint="stale")
    assert not ReviewedVersion.objects.exists()


# -- changes since you last looked ------------------------------------------------------------

def test_one_edited_claim_of_ten_is_the_one_marked(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    send_back(article, reviewer, editor)
    Claim.objects.filter(pk=claim_with(article, TEN[6]).pk).update(
        text="Finding number 7 holds in older adults with depression."
    )
    response = as_reviewer.get(page_url(article))
    comparison = response.context["comparison"]
    assert response.context["compare"] == "last"
    assert comparison.change_count == 1 and comparison.added == [] and comparison.removed == []
    [edited] = comparison.edited
    assert str(edited.html) == "Finding number 7 holds in <ins>older </ins>adults with depression."
    html = response.content.decode()
    assert html.count("claim claim-edited") == 1
    assert '<ins>older </ins>' in html and "@@" not in html


def test_word_level_marks_escape_the_words():
    marked = str(changes.word_diff("Dose <5 mg helps.", "Dose <10 mg & more helps."))
    assert marked == "Dose &lt;<del>5</del><ins>10</ins> mg <ins>&amp; more </ins>helps."


def test_added_and_removed_claims_are_marked(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    send_back(article, reviewer, editor)
    gone = claim_with(article, TEN[2])
    section = gone.section
    gone.delete()
    Claim.objects.create(section=section, position=9, text="A wholly new statement about sleep.")
    comparison = as_reviewer.get(page_url(article)).context["comparison"]
    assert [c.text for c in comparison.added] == ["A wholly new statement about sleep."]
    assert [str(c.html) for c in comparison.removed] == [f"<del>{TEN[2]}</del>"]
    assert comparison.edited == []


def test_a_claim_retyped_under_a_new_id_reads_as_an_edit():
    editor = make_editor()
    article = make_supported_article("Retyped", author=editor)
    old = changes.content_snapshot(gate.load_content(article))
    claim = Claim.objects.get(section__article=article, text="Ketamine blocks NMDA receptors.")
    Claim.objects.create(section=claim.section, position=claim.position, text="Ketamine blocks brain NMDA receptors.",
                         is_context=False)
    claim.delete()
    comparison = changes.compare(old, gate.load_content(article), label="before")
    assert [c.old_text for c in comparison.edited] == ["Ketamine blocks NMDA receptors."]
    assert comparison.removed == [] and comparison.added == []
    assert comparison.edited[0].sources_changed  # the retyped claim cites nothing yet


def test_compare_with_the_last_review_or_the_live_revision(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    Claim.objects.filter(pk=claim_with(article, TEN[0]).pk).update(text="Finding one holds in adults.")
    workflow.submit(article, by=editor)
    workflow.request_changes(article, by=make_reviewer("other"), comment="Not yet.")
    # Someone else's send-back is not this reviewer's last look.
    Claim.objects.filter(pk=claim_with(article, TEN[1]).pk).update(text="Finding two holds in adults.")
    workflow.submit(article, by=editor)
    last = as_reviewer.get(page_url(article)).context
    assert [value for value, _ in last["compare_choices"]] == ["last", "published"]
    assert len(last["comparison"].edited) == 2  # since rita approved the live words
    Claim.objects.filter(pk=claim_with(article, TEN[2]).pk).update(text="Finding three holds in adults.")
    live = as_reviewer.get(page_url(article), {"compare": "published"}).context["comparison"]
    assert sorted(c.old_text for c in live.edited) == sorted(TEN[:3])
    assert "revision 1" in live.label


def test_a_first_look_says_everything_is_new(as_reviewer, editor):
    response = as_reviewer.get(page_url(ten_claim_article(editor)))
    assert response.context["comparison"] is None
    assert "every claim is new to you" in response.content.decode()


def test_show_only_changes_keeps_the_changed_claims_and_open_comments(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    send_back(article, reviewer, editor)
    Claim.objects.filter(pk=claim_with(article, TEN[4]).pk).update(text="Finding five holds, sometimes.")
    comments.open_thread(article, by=reviewer, claim=claim_with(article, TEN[8]), body="Which trial?")
    context = as_reviewer.get(page_url(article), {"only": "changes"}).context
    shown = [row.loaded.claim.text for _, rows in context["claim_sections"] for row in rows]
    assert shown == ["Finding five holds, sometimes.", TEN[8]]
    everything = as_reviewer.get(page_url(article)).context
    assert sum(len(rows) for _, rows in everything["claim_sections"]) == 10


# -- conversations ---------------------------------------------------------------------------

def test_a_reviewer_comments_on_a_claim_and_it_stays_beside_it(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    claim = claim_with(article, TEN[3])
    response = as_reviewer.post(reverse("review:open_comment", args=[article.pk]),
                                {"claim": claim.pk, "body": "Which population?"})
    assert response.status_code == 302 and response.url.endswith(f"#claim-id-{claim.pk}")
    rows = [row for _, rows in as_reviewer.get(page_url(article)).context["claim_sections"] for row in rows]
    [row] = [r for r in rows if r.threads]
    assert row.loaded.claim == claim and row.threads[0].opening.body == "Which population?"


def test_an_empty_comment_is_refused_with_a_message(as_reviewer, editor):
    article = ten_claim_article(editor)
    response = as_reviewer.post(reverse("review:open_comment", args=[article.pk]),
                                {"claim": claim_with(article, TEN[0]).pk, "body": "  "}, follow=True)
    assert "Write the comment first: it is empty." in response.content.decode()
    assert not ReviewComment.objects.exists()


def test_sending_back_with_only_claim_comments_names_them(editor, reviewer):
    article = ten_claim_article(editor)
    comments.open_thread(article, by=reviewer, claim=claim_with(article, TEN[3]), body="Which population?")
    workflow.request_changes(article, by=reviewer, comment="")
    entry = article.audit_entries.get(action="request_changes")
    assert "See the 1 open comment on claims:" in entry.comment and "Which population?" in entry.comment


def test_sending_back_with_no_comment_at_all_is_refused(editor, reviewer):
    article = ten_claim_article(editor)
    with pytest.raises(workflow.InvalidInput, match="a comment is required"):
        workflow.request_changes(article, by=reviewer, comment="")


def test_a_pinned_send_back_opens_a_conversation_on_the_claim(editor, reviewer):
    article = ten_claim_article(editor)
    claim = claim_with(article, TEN[5])
    workflow.request_changes(article, by=reviewer, comment="Cite the trial.", claim=claim.pk)
    [thread] = comments.threads(article)
    assert thread.claim_id == claim.pk and thread.opening.audit_entry.action == "request_changes"


def test_the_editors_reply_shows_beside_the_claim_and_reviewers_resolve(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    opening = comments.open_thread(article, by=reviewer, claim=claim_with(article, TEN[3]), body="Which population?")
    comments.reply(article, by=editor, thread_id=opening.pk, body="Adults, now said.")
    client = Client()
    client.force_login(editor)
    # Editors answer on the writing desk; they may not resolve, nor open, conversations here.
    assert client.post(reverse("review:resolve_comment", args=[article.pk]), {"thread": opening.pk}).status_code == 403
    html = as_reviewer.get(page_url(article)).content.decode()
    assert "Adults, now said." in html and "Resolve: it is done" in html
    as_reviewer.post(reverse("review:resolve_comment", args=[article.pk]), {"thread": opening.pk})
    assert not comments.threads(article)[0].is_open
    html = as_reviewer.get(page_url(article)).content.decode()
    assert "(resolved)" in html and "Resolve: it is done" not in html  # history keeps it, closed


def test_a_reply_from_the_review_page_joins_the_thread(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    opening = comments.open_thread(article, by=reviewer, claim=claim_with(article, TEN[3]), body="Which population?")
    as_reviewer.post(reverse("review:reply_comment", args=[article.pk]), {"thread": opening.pk, "body": "Also age."})
    assert [m.body for m in comments.threads(article)[0].replies] == ["Also age."]


# -- presence ---------------------------------------------------------------------------------

def test_who_else_is_looking_shows_and_expires(as_reviewer, editor, reviewer):
    client = Client()
    article = ten_claim_article(editor)
    other = make_reviewer("omar", first_name="Omar", last_name="Diaz")
    client.force_login(other)
    client.get(page_url(article))
    html = as_reviewer.get(page_url(article)).content.decode()
    assert "Omar Diaz is looking at this (just now)" in html
    queue = as_reviewer.get(QUEUE).context["page"].object_list
    assert [looker.name for looker in queue[0].lookers] == ["Omar Diaz"]
    ReviewPresence.objects.filter(reviewer=other).update(last_seen=timezone.now() - datetime.timedelta(minutes=6))
    assert "is looking at this" not in as_reviewer.get(page_url(article)).content.decode()


def test_the_heartbeat_keeps_presence_fresh(as_reviewer, editor, reviewer):
    article = ten_claim_article(editor)
    assert as_reviewer.post(reverse("review:heartbeat", args=[article.pk])).status_code == 204
    first = ReviewPresence.objects.get().last_seen
    as_reviewer.post(reverse("review:heartbeat", args=[article.pk]))
    assert ReviewPresence.objects.count() == 1 and ReviewPresence.objects.get().last_seen >= first
    assert as_reviewer.get(reverse("review:heartbeat", args=[article.pk])).status_code == 405


def test_editors_have_no_presence_or_comment_rights(client, editor):
    article = ten_claim_article(editor)
    client.force_login(editor)
    assert client.post(reverse("review:heartbeat", args=[article.pk])).status_code == 403
    assert client.post(reverse("review:open_comment", args=[article.pk]), {"body": "x"}).status_code == 403


# -- finding the work -------------------------------------------------------------------------

@pytest.mark.parametrize("next_url, lands", [("", "/review/"), ("/admin/", "/review/"),
                                             ("/admin/articles/article/", "/admin/articles/article/")])
def test_reviewers_land_on_the_queue_after_signing_in(client, next_url, lands):
    make_reviewer("rosa", password="a-long-password-1")
    data = {"username": "rosa", "password": "a-long-password-1"}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("admin:login"), data)
    assert response.status_code == 302 and response.url == lands


def test_editors_still_land_on_the_admin(client):
    make_editor("eddy", password="a-long-password-1")
    response = client.post(reverse("admin:login") + "?next=/admin/",
                           {"username": "eddy", "password": "a-long-password-1", "next": "/admin/"})
    assert response.url == "/admin/"


def test_the_admin_links_reviewers_to_their_queue(client, reviewer, editor):
    client.force_login(reviewer)
    assert 'class="review-queue-link">Review queue</a>' in client.get(reverse("admin:index")).content.decode()
    client.force_login(editor)
    assert "review-queue-link" not in client.get(reverse("admin:index")).content.decode()


def test_the_queue_filters_by_urgency_topic_and_waiting_time(as_reviewer, editor, reviewer):
    anxiety = Topic.objects.create(name="Anxiety", slug="anxiety")
    old = ten_claim_article(editor, "Old one")
    old.topics.add(anxiety)
    type(old).objects.filter(pk=old.pk).update(review_requested_at=timezone.now() - datetime.timedelta(days=10))
    fresh = ten_claim_article(editor, "Fresh one")
    urgent = ten_claim_article(editor, "Urgent one")
    workflow.approve(urgent, by=reviewer)
    workflow.publish(urgent, by=editor)
    workflow.flag_for_rereview(urgent, reason="A source was retracted.", urgent=True)

    def titles(**query):
        return [a.title for a in as_reviewer.get(QUEUE, query).context["page"].object_list]

    assert titles() == ["Urgent one", "Old one", "Fresh one"]
    assert titles(urgency="urgent") == ["Urgent one"]
    assert titles(urgency="rereview") == ["Urgent one"]
    assert titles(urgency="new") == ["Old one", "Fresh one"]
    assert titles(topic="anxiety") == ["Old one"]
    assert titles(waiting="7") == ["Old one"]
    assert titles(waiting="nonsense") == titles()  # an unknown value filters nothing
    assert fresh.title in as_reviewer.get(QUEUE, {"urgency": "new"}).content.decode()


# -- the page reads like a tool ---------------------------------------------------------------

def test_alarms_are_badges_and_a_disabled_approve_says_why(as_reviewer, editor):
    from references.models import RetractionStatus
    retracted = make_reference(retraction=RetractionStatus.RETRACTED)
    article = make_supported_article("Alarming", author=editor, sections={"S": [
        {"text": "Rests on a retracted paper.", "refs": [retracted]}, {"text": "Rests on nothing."},
    ]})
    workflow.submit(article, by=editor)
    html = as_reviewer.get(page_url(article)).content.decode()
    assert 'class="badge badge-danger"><span aria-hidden="true">✖</span> No source</span>' in html
    assert 'class="badge badge-danger"><span aria-hidden="true">✖</span> Retracted source</span>' in html
    assert '<button type="submit" disabled aria-describedby="approve-reason">' in html
    assert 'id="approve-reason"' in html and "Cannot be approved until" in html
    assert "js/review.js" in html and "<script>" not in html and " style=" not in html


# -- cost --------------------------------------------------------------------------------------

def test_the_review_page_costs_the_same_for_ten_claims_as_for_two_hundred(
    as_reviewer, editor, reviewer, django_assert_max_num_queries,
):
    refs = [make_reference() for _ in range(3)]
    small = make_supported_article("Small", author=editor)
    large = make_supported_article("Large", author=editor, sections={
        f"S{s}": [{"text": f"Claim {s}.{c} about sleep.", "refs": refs[:2]} for c in range(40)] for s in range(5)
    })
    for article in (small, large):
        workflow.submit(article, by=editor)
        workflow.request_changes(article, by=reviewer, comment="Look again.")
        workflow.submit(article, by=editor)
        comments.open_thread(article, by=reviewer, claim=Claim.objects.filter(section__article=article).first(),
                             body="Check.")
    for article in (small, large):
        with django_assert_max_num_queries(21):
            assert as_reviewer.get(page_url(article)).status_code == 200


def test_the_filtered_queue_costs_a_constant_number_of_queries(as_reviewer, editor, django_assert_max_num_queries):
    topic = Topic.objects.create(name="Sleep", slug="sleep")
    for number in range(30):
        ten_claim_article(editor, f"Queued {number}").topics.add(topic)
    with django_assert_max_num_queries(9):
        response = as_reviewer.get(QUEUE, {"topic": "sleep", "urgency": "new", "waiting": "1"})
    assert response.status_code == 200


def test_presence_is_read_in_one_query_for_many_articles(editor, django_assert_num_queries):
    reviewers = [make_reviewer(f"r{n}") for n in range(3)]
    articles = [ten_claim_article(editor, f"A{n}") for n in range(3)]
    for reviewer in reviewers:
        for article in articles:
            presence.touch(article, reviewer)
    with django_assert_num_queries(1):
        found = presence.looking([a.pk for a in articles], exclude=reviewers[0])
    assert {pk: len(lookers) for pk, lookers in found.items()} == {a.pk: 2 for a in articles}

"""articles.review.workflow: the transition table, permissions, preconditions and the audit log."""

import datetime
from itertools import product

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from articles.dates import add_months
from articles.review import gate, workflow
from articles.models import Article, AuditEntry, Citation, Claim, Status, WorkflowAction
from tests.factories import make_reference, make_supported_article, make_user

pytestmark = pytest.mark.django_db

S = Status

# Written out independently of workflow.TRANSITIONS: this is the specification.
EXPECTED = {
    "submit": {S.DRAFT: S.IN_REVIEW, S.CHANGES_REQUESTED: S.IN_REVIEW, S.APPROVED: S.IN_REVIEW,
               S.UNPUBLISHED: S.IN_REVIEW, S.PUBLISHED: S.PUBLISHED},
    "request_changes": {S.IN_REVIEW: S.CHANGES_REQUESTED, S.PUBLISHED: S.PUBLISHED},
    "approve": {S.IN_REVIEW: S.APPROVED, S.PUBLISHED: S.PUBLISHED},
    "publish": {S.APPROVED: S.PUBLISHED, S.PUBLISHED: S.PUBLISHED},
    "schedule": {S.APPROVED: S.APPROVED, S.PUBLISHED: S.PUBLISHED},
    "unschedule": {S.APPROVED: S.APPROVED, S.PUBLISHED: S.PUBLISHED},
    "unpublish": {S.PUBLISHED: S.UNPUBLISHED},
    "withdraw": {S.IN_REVIEW: S.DRAFT, S.CHANGES_REQUESTED: S.DRAFT, S.APPROVED: S.DRAFT, S.UNPUBLISHED: S.DRAFT},
    "archive": {s: S.ARCHIVED for s in S if s != S.ARCHIVED},
}
EXPECTED_PAIRS = {(src, dst) for table in EXPECTED.values() for src, dst in table.items()}


@pytest.fixture
def actor():
    """Editor and reviewer at once, and no author: only the table can refuse."""
    return make_user("both", "Editors", "Reviewers", credentials="MD, psychiatrist")


def _arrange(status, actor):
    article = make_supported_article(status=status)
    # Approval of the current content, as a reviewer would have left it.
    Article.objects.filter(pk=article.pk).update(
        approved_fingerprint=gate.content_fingerprint(article), approved_by=actor, approved_at=timezone.now(),
        approved_credit_name="Both", approved_credit_credentials="MD, psychiatrist",
    )
    return Article.objects.get(pk=article.pk)


def _call(verb, article, actor):
    if verb == "request_changes":
        return workflow.request_changes(article, by=actor, comment="Please cite the trial.")
    if verb == "schedule":
        return workflow.schedule(article, by=actor, at=timezone.now() + datetime.timedelta(days=1))
    if verb == "unschedule":
        # Whatever the status, a schedule to cancel: only the table may refuse.
        Article.objects.filter(pk=article.pk).update(scheduled_at=timezone.now() + datetime.timedelta(days=1),
                                                     scheduled_by=actor)
        article.refresh_from_db()
    return getattr(workflow, verb)(article, by=actor)


@pytest.mark.parametrize("verb,from_status", list(product(EXPECTED, S.values)))
def test_every_verb_from_every_status_is_allowed_or_refused(verb, from_status, actor):
    article = _arrange(from_status, actor)
    expected = EXPECTED[verb].get(from_status)
    if expected is None:
        with pytest.raises(workflow.InvalidTransition, match="only possible when"):
            _call(verb, article, actor)
        assert Article.objects.get(pk=article.pk).status == from_status
        assert not AuditEntry.objects.filter(article=article).exists()
    else:
        _call(verb, article, actor)
        assert Article.objects.get(pk=article.pk).status == expected
        entry = AuditEntry.objects.get(article=article)
        assert (entry.action, entry.from_status, entry.to_status, entry.actor) == (verb, from_status, expected, actor)


@pytest.mark.parametrize("from_status,to_status", list(product(S.values, S.values)))
def test_every_status_pair_is_in_the_table_only_if_specified(from_status, to_status):
    assert ((from_status, to_status) in workflow.ALLOWED_PAIRS) == ((from_status, to_status) in EXPECTED_PAIRS)


def test_the_table_has_no_verb_the_specification_lacks():
    assert workflow.TRANSITIONS == EXPECTED


@pytest.mark.parametrize("verb,group", [
    ("submit", "Reviewers"), ("withdraw", "Reviewers"), ("archive", "Reviewers"),
    ("approve", "Editors"), ("request_changes", "Editors"),
    ("publish", "Reviewers"), ("schedule", "Reviewers"), ("unschedule", "Reviewers"), ("unpublish", "Reviewers"),
])
def test_a_verb_needs_its_permission(verb, group):
    status = {"approve": S.IN_REVIEW, "request_changes": S.IN_REVIEW, "submit": S.DRAFT, "withdraw": S.IN_REVIEW,
              "archive": S.DRAFT, "publish": S.APPROVED, "schedule": S.APPROVED, "unschedule": S.APPROVED,
              "unpublish": S.PUBLISHED}[verb]
    owner = make_user("owner", "Editors", "Reviewers", credentials="MD")
    article = _arrange(status, owner)
    with pytest.raises(workflow.NotAllowed, match=workflow.PERMISSIONS[verb]):
        _call(verb, article, make_user("outsider", group))
    assert Article.objects.get(pk=article.pk).status == status


def test_inactive_and_missing_users_are_refused(actor):
    article = _arrange(S.DRAFT, actor)
    actor.is_active = False
    actor.save()
    with pytest.raises(workflow.NotAllowed):
        workflow.submit(article, by=actor)
    with pytest.raises(workflow.NotAllowed):
        workflow.submit(article, by=None)


def test_archiving_a_live_article_needs_publish_permission():
    article = make_supported_article(status=S.PUBLISHED)
    writer = make_user("writer")
    writer.user_permissions.add(*Permission.objects.filter(codename="change_article"))
    with pytest.raises(workflow.NotAllowed):
        workflow.archive(article, by=writer)


def test_self_approval_is_refused(editor):
    author_reviewer = make_user("selfie", "Editors", "Reviewers", credentials="PhD")
    article = make_supported_article(author=author_reviewer)
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotAllowed, match="another reviewer must"):
        workflow.approve(article, by=author_reviewer)
    with pytest.raises(workflow.NotAllowed):
        workflow.request_changes(article, by=author_reviewer, comment="Looks fine to me")
    assert Article.objects.get(pk=article.pk).status == S.IN_REVIEW


def test_request_changes_needs_a_comment(article, editor, reviewer):
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.InvalidInput, match="comment is required"):
        workflow.request_changes(article, by=reviewer, comment="   ")
    assert Article.objects.get(pk=article.pk).status == S.IN_REVIEW


def test_request_changes_can_pin_a_claim_of_this_article_only(article, editor, reviewer):
    workflow.submit(article, by=editor)
    other = make_supported_article("Other")
    foreign = Claim.objects.filter(section__article=other).first()
    with pytest.raises(workflow.InvalidInput, match="not part of this article"):
        workflow.request_changes(article, by=reviewer, comment="Fix it", claim=foreign)
    claim = Claim.objects.filter(section__article=article).first()
    workflow.request_changes(article, by=reviewer, comment="Cite the meta-analysis.", claim=claim)
    entry = AuditEntry.objects.get(article=article, action=WorkflowAction.REQUEST_CHANGES)
    assert entry.claim == claim
    assert "Ketamine blocks NMDA receptors" in entry.claim_label
    assert article.status == S.CHANGES_REQUESTED


def test_approval_binds_to_the_content_and_records_the_reviewer(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    article.refresh_from_db()
    assert article.status == S.APPROVED
    assert article.approved_by == reviewer
    assert article.approved_fingerprint == gate.content_fingerprint(article)
    assert article.next_review_due.year == article.approved_at.year + 1
    assert gate.publish_blockers(article) == []


def test_approve_refuses_when_the_content_changed_since_the_reviewer_read_it(article, editor, reviewer):
    workflow.submit(article, by=editor)
    read = gate.content_fingerprint(article)
    Claim.objects.filter(section__article=article).update(text="Ketamine cures everything.")
    with pytest.raises(workflow.ContentChanged, match="reload"):
        workflow.approve(article, by=reviewer, fingerprint=read)
    assert Article.objects.get(pk=article.pk).status == S.IN_REVIEW


def test_approve_refuses_content_with_unsupported_claims(editor, reviewer):
    article = make_supported_article(
        author=editor, sections={"Only": ["An uncited claim.", {"text": "A preprint claim.",
                                                               "refs": [make_reference(peer_review="unknown")]}]}
    )
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.approve(article, by=reviewer)
    assert [b.code for b in refused.value.blockers] == ["uncited_claim", "unsupported_claim"]
    assert Article.objects.get(pk=article.pk).status == S.IN_REVIEW


def test_an_edit_after_approval_voids_it(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    claim = Claim.objects.filter(section__article=article, is_context=False).first()
    claim.text = "Ketamine blocks NMDA receptors permanently."
    claim.save()
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor)
    assert [b.code for b in refused.value.blockers] == ["stale_approval"]
    assert workflow.void_stale_approval(article, by=editor) is True
    assert Article.objects.get(pk=article.pk).status == S.DRAFT
    assert AuditEntry.objects.filter(article=article, action=WorkflowAction.APPROVAL_VOIDED).exists()


def test_void_stale_approval_leaves_an_unchanged_approval_alone(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    assert workflow.void_stale_approval(article, by=editor) is False
    assert Article.objects.get(pk=article.pk).status == S.APPROVED


def test_publish_checks_the_gate(editor, reviewer):
    article = make_supported_article(author=editor, byline="")
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotPublishable):
        workflow.approve(article, by=reviewer)
    Article.objects.filter(pk=article.pk).update(status=S.APPROVED)
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor)
    assert {b.code for b in refused.value.blockers} == {"no_byline", "no_approval"}
    assert Article.objects.get(pk=article.pk).status == S.APPROVED


def test_the_full_path_to_publication_and_its_audit_trail(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.request_changes(article, by=reviewer, comment="Add the locator.")
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    article.refresh_from_db()
    assert article.status == S.PUBLISHED
    assert article.published_at is not None
    assert article.published_revision.number == 1
    assert Article.objects.published().filter(pk=article.pk).exists()
    trail = list(AuditEntry.objects.filter(article=article).order_by("created_at", "id")
                 .values_list("action", "from_status", "to_status"))
    assert trail == [
        ("submit", "draft", "in_review"), ("request_changes", "in_review", "changes_requested"),
        ("submit", "changes_requested", "in_review"), ("approve", "in_review", "approved"),
        ("publish", "approved", "published"),
    ]
    assert AuditEntry.objects.get(article=article, action="publish").fingerprint == article.approved_fingerprint


def test_a_published_article_stays_live_through_re_review(article, editor, reviewer):
    for step in (workflow.submit, workflow.approve, workflow.publish):
        step(article, by=reviewer if step is workflow.approve else editor)
    Claim.objects.filter(section__article=article, is_context=False).update(text="Revised wording.")
    workflow.submit(article, by=editor)
    article.refresh_from_db()
    assert (article.status, article.needs_rereview) == (S.PUBLISHED, True)
    with pytest.raises(workflow.NotPublishable):
        workflow.publish(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    article.refresh_from_db()
    assert article.published_revision.number == 2
    assert article.needs_rereview is False
    with pytest.raises(workflow.InvalidTransition, match="already live"):
        workflow.publish(article, by=editor)


def test_schedule_needs_a_future_time_and_a_passing_gate(article, editor, reviewer):
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.InvalidTransition):
        workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(hours=1))
    workflow.approve(article, by=reviewer)
    with pytest.raises(workflow.InvalidInput, match="future"):
        workflow.schedule(article, by=editor, at=timezone.now() - datetime.timedelta(minutes=1))
    with pytest.raises(workflow.InvalidInput, match="time zone"):
        workflow.schedule(article, by=editor, at=datetime.datetime(2030, 1, 1, 9, 0))
    at = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(article, by=editor, at=at)
    article.refresh_from_db()
    assert (article.scheduled_at, article.scheduled_by, article.status) == (at, editor, S.APPROVED)


def test_cancelling_a_schedule_keeps_the_approval_and_publishes_nothing(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    at = timezone.now() + datetime.timedelta(hours=1)
    workflow.schedule(article, by=editor, at=at)
    assert "unschedule" in workflow.allowed_verbs(article, editor)
    workflow.unschedule(article, by=editor, reason="The embargo moved to next week.")
    article.refresh_from_db()
    assert (article.status, article.scheduled_at, article.scheduled_by) == (S.APPROVED, None, None)
    entry = AuditEntry.objects.get(article=article, action=WorkflowAction.UNSCHEDULE)
    assert entry.comment.startswith("Was to be published at ")
    assert entry.comment.endswith("The embargo moved to next week.")
    assert workflow.publish_scheduled(now=at + datetime.timedelta(minutes=1)) == []
    assert Article.objects.get(pk=article.pk).status == S.APPROVED
    # The approval stands: it can still be published or scheduled again.
    assert "unschedule" not in workflow.allowed_verbs(article, editor)
    workflow.publish(article, by=editor)
    assert Article.objects.get(pk=article.pk).status == S.PUBLISHED


def test_cancelling_needs_a_schedule(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    with pytest.raises(workflow.InvalidTransition, match="is not scheduled"):
        workflow.unschedule(article, by=editor)
    assert not AuditEntry.objects.filter(article=article, action=WorkflowAction.UNSCHEDULE).exists()


def test_cancelling_a_scheduled_new_version_leaves_the_live_one(article, editor, reviewer):
    for step in (workflow.submit, workflow.approve, workflow.publish):
        step(article, by=reviewer if step is workflow.approve else editor)
    article.title = "Ketamine, revised"
    article.save()
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.schedule(article, by=editor, at=timezone.now() + datetime.timedelta(days=1))
    workflow.unschedule(article, by=editor)
    article.refresh_from_db()
    assert (article.status, article.scheduled_at, article.published_revision.number) == (S.PUBLISHED, None, 1)
    assert Article.objects.published().filter(pk=article.pk).exists()


def test_unpublish_takes_it_off_the_site(article, editor, reviewer):
    for step in (workflow.submit, workflow.approve, workflow.publish):
        step(article, by=reviewer if step is workflow.approve else editor)
    workflow.unpublish(article, by=editor, reason="Source retracted.")
    assert not Article.objects.published().filter(pk=article.pk).exists()
    assert AuditEntry.objects.get(article=article, action="unpublish").comment == "Source retracted."


def test_audit_entries_are_append_only(article, editor):
    workflow.submit(article, by=editor)
    entry = AuditEntry.objects.get(article=article)
    entry.comment = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()


def test_the_callers_instance_reflects_the_new_status(article, editor):
    workflow.submit(article, by=editor)
    assert article.status == S.IN_REVIEW


def test_add_months_clamps_the_day():
    moment = datetime.datetime(2025, 1, 31, 12, tzinfo=datetime.timezone.utc)
    assert add_months(moment, 1).date() == datetime.date(2025, 2, 28)
    assert add_months(moment, 12).date() == datetime.date(2026, 1, 31)
    assert add_months(moment, 13).date() == datetime.date(2026, 2, 28)


def test_citations_are_part_of_what_is_approved(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    Citation.objects.filter(claim__section__article=article).update(locator="p. 99")
    assert [b.code for b in gate.publish_blockers(article)] == ["stale_approval"]


# -- approvals: who wrote them, what they credit, what voids them ----------------------------------------

def test_an_approval_remembers_when_the_previous_one_was_given(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    first = Article.objects.get(pk=article.pk)
    assert first.approved_changes_since is None, "a first approval: every change so far is its authors'"
    first_approved_at = first.approved_at
    workflow.publish(first, by=editor)
    workflow.approve(first, by=reviewer)  # a re-review of the live words
    second = Article.objects.get(pk=article.pk)
    assert second.approved_changes_since == first_approved_at
    assert (second.approved_credit_name, second.approved_credit_credentials) == ("Rita Okafor", "MD, psychiatrist")


def test_listed_authors_are_refused_whatever_roles_they_hold(article, editor):
    both = make_user("both2", "Editors", "Reviewers", credentials="MD")
    article.authors.add(both)
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotAllowed, match="You wrote"):
        workflow.approve(article, by=both)


def test_void_approval_touches_only_a_standing_approval(article, editor, reviewer, django_capture_on_commit_callbacks):
    from django.core import mail

    assert workflow.void_approval(article, reason="Cited source x changed.") is False
    workflow.submit(article, by=editor)
    assert workflow.void_approval(article, reason="Cited source x changed.") is False
    workflow.approve(article, by=reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow.void_approval(article, reason="Cited source x changed.") is True
    article.refresh_from_db()
    assert (article.status, article.approved_fingerprint) == (Status.DRAFT, "")
    assert [m.subject for m in mail.outbox if "Approval voided" in m.subject] == [
        "[Psychly] Approval voided: Ketamine for depression"]
    # A live article whose working copy is the live revision: nothing pending to void (it is flagged instead).
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    assert workflow.void_approval(article, reason="Cited source x changed.") is False


def test_a_flag_records_when_it_was_raised(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    workflow.flag_for_rereview(article, reason="Cited source x changed.")
    flagged = Article.objects.get(pk=article.pk)
    assert flagged.needs_rereview and flagged.rereview_flagged_at > flagged.approved_at

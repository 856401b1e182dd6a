"""articles.review.gate: every blocker, where it points, and the cost of asking."""

from datetime import timedelta

import pytest

from articles.review import gate, workflow
from articles.models import Article, Citation, Claim, ContentChange, ReviewerProfile, Section
from references.models import PeerReviewStatus, RetractionStatus
from tests.factories import make_article, make_reference, make_reviewer, make_supported_article

pytestmark = pytest.mark.django_db


def approve(article, reviewer, editor):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    return Article.objects.get(pk=article.pk)


def codes(article):
    return [b.code for b in gate.publish_blockers(article)]


def test_a_supported_article_lacks_only_approval(article):
    assert codes(article) == ["no_approval"]


def test_an_approved_supported_article_has_no_blockers(article, reviewer, editor):
    assert codes(approve(article, reviewer, editor)) == []


def test_an_uncited_claim_is_located_by_section_number_and_excerpt():
    article = make_supported_article(sections={
        "Background": [{"text": "Framing only.", "context": True}, {"text": "Supported.", "refs": [make_reference()]}],
        "Effects": ["Ketamine lifts mood within hours in most people who take it."],
    })
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "uncited_claim"]
    assert (blocker.section_heading, blocker.claim_number) == ("Effects", 3)
    assert "Ketamine lifts mood" in blocker.excerpt
    assert str(blocker) == (
        'section "Effects", claim 3 (“Ketamine lifts mood within hours in most people who take it.”): cites no source.'
    )


@pytest.mark.parametrize("peer_review,retraction,why", [
    (PeerReviewStatus.NOT_PEER_REVIEWED, RetractionStatus.NONE, "not peer-reviewed"),
    (PeerReviewStatus.UNKNOWN, RetractionStatus.NONE, "peer-review status unknown"),
    (PeerReviewStatus.PEER_REVIEWED, RetractionStatus.RETRACTED, "retracted"),
])
def test_a_claim_whose_only_source_does_not_count_is_unsupported(peer_review, retraction, why):
    ref = make_reference(peer_review=peer_review, retraction=retraction)
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "unsupported_claim"]
    assert f"{ref.doi} is {why}" in str(blocker)


def test_one_supporting_source_among_weak_ones_is_enough():
    weak = make_reference(peer_review=PeerReviewStatus.NOT_PEER_REVIEWED)
    retracted = make_reference(retraction=RetractionStatus.RETRACTED)
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [weak, retracted, make_reference()]}]})
    assert codes(article) == ["no_approval"]


def test_a_reviewers_override_to_peer_reviewed_counts_as_support():
    ref = make_reference(peer_review=PeerReviewStatus.UNKNOWN, peer_review_override=PeerReviewStatus.PEER_REVIEWED,
                         peer_review_override_reason="Published in a refereed journal; Crossref lacks it.",
                         peer_review_override_by=make_reviewer(), peer_review_override_by_reviewer=True)
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    assert codes(article) == ["no_approval"]


def test_an_override_to_peer_reviewed_no_reviewer_made_is_ignored():
    ref = make_reference(peer_review=PeerReviewStatus.UNKNOWN, peer_review_override=PeerReviewStatus.PEER_REVIEWED,
                         peer_review_override_reason="Trust me.")
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    assert codes(article) == ["unsupported_claim", "no_approval"]


def test_context_statements_need_no_source_but_are_counted():
    article = make_supported_article(sections={"S": [
        {"text": "Talk to your doctor.", "context": True},
        {"text": "Supported.", "refs": [make_reference()]},
    ]})
    report = gate.check(article)
    assert [c.claim.text for c in report.context_statements] == ["Talk to your doctor."]
    assert [b.code for b in report.blockers] == ["no_approval"]


@pytest.mark.parametrize("field,code", [("byline", "no_byline"), ("summary", "no_summary")])
def test_byline_and_summary_are_required(field, code):
    article = make_supported_article(**{field: "  "})
    assert code in codes(article)


def test_an_empty_article_is_blocked():
    assert codes(make_article("Empty", byline="B", summary="S")) == ["empty_article", "no_approval"]


def test_approval_by_an_author_is_a_blocker(article, reviewer, editor):
    article = approve(article, reviewer, editor)
    article.authors.add(reviewer)
    assert codes(article) == ["self_approval"]


def test_reviewer_credit_is_required(article, editor):
    """An approval whose frozen credit is empty (given before credits were frozen) cannot be published;
    a profile added afterwards does not fill it in: the credit is what stood at approval."""
    reviewer = make_reviewer("nocred")
    article = approve(article, reviewer, editor)
    Article.objects.filter(pk=article.pk).update(approved_credit_name="", approved_credit_credentials="")
    assert codes(article) == ["no_reviewer_credit"]
    ReviewerProfile.objects.filter(user=reviewer).update(display_name="Noor Cred", credentials="MD")
    assert codes(article) == ["no_reviewer_credit"]


def test_someone_who_changed_the_content_cannot_be_the_approver_whatever_the_authors_list_says(
    article, reviewer, editor
):
    """An approval on record by someone who changed the words since the previous approval (given before
    attribution, or a change made after approving and undone) is refused at publication."""
    article = approve(article, reviewer, editor)
    ContentChange.objects.create(article=article, user=reviewer, user_name="Rita",
                                 at=article.approved_at - timedelta(minutes=1),
                                 description="Title: “A” → “B”.", fingerprint=article.approved_fingerprint)
    [blocker] = gate.publish_blockers(article)
    assert blocker.code == "self_approval"
    assert "changed its content since the previous approval" in blocker.message
    assert not article.authors.filter(pk=reviewer.pk).exists()
    # A change made before the previous approval was someone else's to review.
    Article.objects.filter(pk=article.pk).update(approved_changes_since=article.approved_at - timedelta(seconds=1))
    assert codes(article) == []


def test_an_approval_older_than_a_rereview_flag_is_blocked_naming_the_reason(article, reviewer, editor):
    article = approve(article, reviewer, editor)
    Article.objects.filter(pk=article.pk).update(
        needs_rereview=True, rereview_reason="Cited source 10.1/x has an expression of concern.",
        rereview_flagged_at=article.approved_at + timedelta(minutes=5),
    )
    [blocker] = gate.publish_blockers(article)
    assert blocker.code == "rereview_pending" and blocker.code in gate.APPROVAL_CODES
    assert "expression of concern" in blocker.message
    Article.objects.filter(pk=article.pk).update(rereview_flagged_at=article.approved_at - timedelta(minutes=5))
    assert codes(article) == [], "an approval given after the flag answers it"


@pytest.mark.parametrize("edit", [
    lambda a: Article.objects.filter(pk=a.pk).update(title="New title"),
    lambda a: Article.objects.filter(pk=a.pk).update(summary="New summary"),
    lambda a: Article.objects.filter(pk=a.pk).update(byline="Someone else, MD"),
    lambda a: Section.objects.filter(article=a).update(heading="Renamed"),
    lambda a: Claim.objects.filter(section__article=a, is_context=True).update(is_context=False),
    lambda a: Claim.objects.filter(section__article=a).first().delete(),
    lambda a: Citation.objects.filter(claim__section__article=a).update(locator="Table 9"),
    lambda a: Citation.objects.filter(pk=Citation.objects.filter(claim__section__article=a).first().pk)
    .update(reference=make_reference()),
])
def test_any_edit_to_what_goes_live_voids_the_approval(article, reviewer, editor, edit):
    article = approve(article, reviewer, editor)
    edit(article)
    assert "stale_approval" in codes(Article.objects.get(pk=article.pk))


def test_a_metadata_fix_on_a_reference_keeps_the_approval(article, reviewer, editor):
    article = approve(article, reviewer, editor)
    Citation.objects.filter(claim__section__article=article).first().reference.__class__.objects.update(
        container_title="Journal of Studies (corrected)"
    )
    assert codes(article) == []


def test_the_fingerprint_is_stable_and_content_sensitive(article):
    first = gate.content_fingerprint(article)
    assert first == gate.content_fingerprint(Article.objects.get(pk=article.pk))
    Article.objects.filter(pk=article.pk).update(title=article.title + "!")
    assert gate.content_fingerprint(Article.objects.get(pk=article.pk)) != first


def test_the_gate_costs_a_constant_number_of_queries(django_assert_max_num_queries, editor):
    refs = [make_reference() for _ in range(5)]
    article = make_article("Big", byline="B", summary="S", authors=[editor], sections={
        f"Section {s}": [{"text": f"Claim {s}.{c}.", "refs": refs[c % 5:c % 5 + 2]} for c in range(100)]
        for s in range(10)
    })
    assert Claim.objects.filter(section__article=article).count() == 1000
    # article + approver, sections, claims, citations with references, authors; twice over for check().
    with django_assert_max_num_queries(6):
        blockers = gate.publish_blockers(article)
    with django_assert_max_num_queries(6):
        gate.check(article)
    assert [b.code for b in blockers] == ["no_approval"]


# -- verification, notices and weak evidence ---------------------------------------------------------

def test_a_source_entered_by_hand_is_unverified_and_the_blocker_says_what_to_do():
    from references.models import MetadataSource

    ref = make_reference(metadata_source=MetadataSource.FILE)
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "unsupported_claim"]
    assert f"{ref.doi} is unverified (entered by hand; verify it or fetch it from Crossref)" in str(blocker)


def test_an_override_does_not_make_an_unverified_source_count():
    from references.models import MetadataSource

    ref = make_reference(metadata_source=MetadataSource.MANUAL, peer_review=PeerReviewStatus.UNKNOWN,
                         peer_review_override=PeerReviewStatus.PEER_REVIEWED, peer_review_override_reason="Refereed.")
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    assert "unsupported_claim" in codes(article)


def test_a_source_a_reviewer_verified_counts(editor):
    from references import services
    from references.models import MetadataSource

    ref = make_reference(metadata_source=MetadataSource.MANUAL, entered_by=editor)
    services.verify_reference(ref, by=make_reviewer(), reason="Checked the journal's page.")
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    assert codes(article) == ["no_approval"]


def test_an_editorial_notice_is_named_as_such():
    ref = make_reference(notice_kind="erratum")
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "unsupported_claim"]
    assert f"{ref.doi} is an editorial notice (erratum), not a study" in str(blocker)


@pytest.mark.parametrize("level", ["animal", "in_vitro", "case_report"])
def test_weak_evidence_alone_blocks_only_when_the_setting_says_so(settings, level):
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [make_reference(evidence_level=level)]}]})
    settings.WEAK_EVIDENCE_BLOCKS = False
    assert codes(article) == ["no_approval"]
    settings.WEAK_EVIDENCE_BLOCKS = True
    [blocker] = [b for b in gate.publish_blockers(article) if b.code == "weak_evidence_only"]
    assert (blocker.section_heading, blocker.claim_number) == ("S", 1)
    assert "only support is animal, in-vitro or case-report evidence" in str(blocker)


def test_one_stronger_source_beside_an_animal_study_is_enough(settings):
    settings.WEAK_EVIDENCE_BLOCKS = True
    refs = [make_reference(evidence_level="animal"), make_reference(evidence_level="randomised_trial")]
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": refs}]})
    assert codes(article) == ["no_approval"]

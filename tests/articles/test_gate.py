"""articles.gate: every blocker, where it points, and the cost of asking."""

import pytest

from articles import gate, workflow
from articles.models import Article, Citation, Claim, ReviewerProfile, Section
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


def test_an_override_to_peer_reviewed_counts_as_support():
    ref = make_reference(peer_review=PeerReviewStatus.UNKNOWN, peer_review_override=PeerReviewStatus.PEER_REVIEWED,
                         peer_review_override_reason="Published in a refereed journal; Crossref lacks it.")
    article = make_supported_article(sections={"S": [{"text": "A claim.", "refs": [ref]}]})
    assert codes(article) == ["no_approval"]


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
    uncredited = make_reviewer("nocred", credentials=None)
    article = approve(article, uncredited, editor)
    assert codes(article) == ["no_reviewer_credit"]
    ReviewerProfile.objects.create(user=uncredited, display_name="Noor Cred", credentials="MD")
    assert codes(article) == []


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

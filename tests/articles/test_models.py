"""Invariants the database holds for articles, whatever code writes the rows."""

import pytest
from django.utils import timezone

from articles.models import Article, Citation, Claim, Section, Status
from references.models import Reference

from tests.factories import assert_refused_by_database

pytestmark = pytest.mark.django_db


def make_claim(text="Ketamine blocks NMDA receptors."):
    article = Article.objects.create(title="Ketamine", slug="ketamine")
    section = Section.objects.create(article=article, heading="How it works", position=0)
    return Claim.objects.create(section=section, text=text, position=0)


def test_slug_is_unique():
    Article.objects.create(title="One", slug="same")
    assert_refused_by_database(lambda: Article.objects.create(title="Two", slug="same"))


def test_title_and_slug_cannot_be_empty():
    assert_refused_by_database(lambda: Article.objects.create(title="", slug="x"))
    assert_refused_by_database(lambda: Article.objects.create(title="x", slug=""))


def test_status_must_be_a_known_state():
    assert_refused_by_database(lambda: Article.objects.create(title="x", slug="x", status="live"))


def test_published_article_has_a_publication_date():
    assert_refused_by_database(lambda: Article.objects.create(title="x", slug="x", status=Status.PUBLISHED))
    Article.objects.create(title="y", slug="y", status=Status.PUBLISHED, published_at=timezone.now())


def test_claim_and_heading_cannot_be_empty():
    claim = make_claim()
    assert_refused_by_database(lambda: Claim.objects.create(section=claim.section, text=""))
    assert_refused_by_database(lambda: Section.objects.create(article=claim.section.article, heading=""))


def test_a_claim_cites_a_reference_once():
    claim = make_claim()
    reference = Reference.objects.create(doi="10.1523/jneurosci.1547-16.2016", title="Ketamine")
    Citation.objects.create(claim=claim, reference=reference, locator="p. 11160")
    assert_refused_by_database(lambda: Citation.objects.create(claim=claim, reference=reference))


def test_a_cited_reference_cannot_be_deleted():
    from django.db.models import ProtectedError

    claim = make_claim()
    reference = Reference.objects.create(doi="10.1159/000493425", title="Proteomics")
    Citation.objects.create(claim=claim, reference=reference)
    with pytest.raises(ProtectedError):
        reference.delete()


def test_sections_and_claims_keep_their_order():
    claim = make_claim()
    section = claim.section
    Claim.objects.create(section=section, text="Second.", position=2)
    Claim.objects.create(section=section, text="Between.", position=1)
    assert [c.text for c in section.claims.all()] == [claim.text, "Between.", "Second."]
    Section.objects.create(article=section.article, heading="Before", position=-0)
    assert list(section.article.sections.values_list("position", flat=True)) == [0, 0]


def test_unsupported_claim_count_ignores_context_and_cited_claims():
    claim = make_claim()
    section = claim.section
    Claim.objects.create(section=section, text="Talk to your doctor.", is_context=True, position=1)
    cited = Claim.objects.create(section=section, text="Cited.", position=2)
    reference = Reference.objects.create(doi="10.1000/cited", title="Cited")
    Citation.objects.create(claim=cited, reference=reference)
    article = Article.objects.with_unsupported_claim_count().get(pk=section.article_id)
    assert article.unsupported_claim_count == 1


def test_published_queryset_holds_only_articles_published_through_the_workflow():
    from articles.review import workflow
    from tests.factories import make_editor, make_reviewer, make_supported_article

    for status in Status.values:
        Article.objects.create(
            title=status, slug=status, status=status,
            published_at=timezone.now() if status == Status.PUBLISHED else None,
        )
    # A row marked published by hand has no frozen revision, so readers never see it.
    assert not Article.objects.published().exists()

    editor = make_editor("eddie")
    article = make_supported_article("Through review", author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=make_reviewer("rita"))
    workflow.publish(article, by=editor)
    assert list(Article.objects.published()) == [article]

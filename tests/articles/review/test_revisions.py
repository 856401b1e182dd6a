"""Publishing freezes a revision; readers see it, whatever happens to the working copy."""

import pytest
from django.urls import reverse

from articles.review import workflow
from articles.models import Article, ArticleRevision, Claim

pytestmark = pytest.mark.django_db


def publish(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return Article.objects.get(pk=article.pk)


def test_the_snapshot_holds_words_citations_and_rendered_references(article, editor, reviewer):
    article = publish(article, editor, reviewer)
    snapshot = article.published_revision.snapshot
    assert snapshot["title"] == "Ketamine for depression"
    assert snapshot["reviewer"] == {"name": "Rita Okafor", "credentials": "MD, psychiatrist"}
    first_claim = snapshot["sections"][0]["claims"][0]
    assert first_claim["text"] == "Ketamine blocks NMDA receptors."
    assert first_claim["citations"] == [{"reference": 1, "locator": "p. 2"}]
    assert snapshot["sections"][0]["claims"][1]["is_context"] is True
    ref = snapshot["references"][0]
    assert ref["doi"] and ref["link"] == f"https://doi.org/{ref['doi']}"
    assert "https://doi.org/" in ref["html"] and ref["text"]
    assert set(article.published_revision.references.values_list("pk", flat=True)) == {
        r["id"] for r in snapshot["references"]
    }


def test_the_public_page_shows_the_published_revision_while_the_working_copy_changes(
    client, article, editor, reviewer
):
    article = publish(article, editor, reviewer)
    url = reverse("articles:detail", kwargs={"slug": article.slug})
    Claim.objects.filter(section__article=article, is_context=False).update(text="UNREVIEWED WORDS")
    Article.objects.filter(pk=article.pk).update(title="Unreviewed title")
    page = client.get(url).content.decode()
    assert "Ketamine blocks NMDA receptors." in page
    assert "Ketamine for depression" in page
    assert "UNREVIEWED" not in page and "Unreviewed title" not in page
    assert "Reviewed by Rita Okafor, MD, psychiatrist" in page
    workflow.submit(article, by=editor)
    assert "UNREVIEWED" not in client.get(url).content.decode()
    workflow.approve(article, by=reviewer)
    assert "UNREVIEWED" not in client.get(url).content.decode()
    workflow.publish(article, by=editor)
    assert "UNREVIEWED WORDS" in client.get(url).content.decode()
    assert list(ArticleRevision.objects.filter(article=article).values_list("number", flat=True)) == [2, 1]


def test_references_are_frozen_as_they_were(client, article, editor, reviewer):
    article = publish(article, editor, reviewer)
    ref = Claim.objects.filter(section__article=article, is_context=False).first().references.first()
    ref.title = "A renamed title"
    ref.save()
    page = client.get(article.get_absolute_url()).content.decode()
    assert "A renamed title" not in page


def test_drafts_and_unpublished_articles_are_not_public(client, article, editor, reviewer):
    assert client.get(article.get_absolute_url()).status_code == 404
    article = publish(article, editor, reviewer)
    assert client.get(article.get_absolute_url()).status_code == 200
    workflow.unpublish(article, by=editor)
    assert client.get(article.get_absolute_url()).status_code == 404


def test_a_revision_cannot_be_changed(article, editor, reviewer):
    revision = publish(article, editor, reviewer).published_revision
    revision.title = "Rewritten history"
    with pytest.raises(ValueError, match="frozen"):
        revision.save()


def test_a_cited_reference_cannot_be_deleted(article, editor, reviewer):
    from django.db.models import ProtectedError

    publish(article, editor, reviewer)
    with pytest.raises(ProtectedError):
        Claim.objects.filter(section__article=article, is_context=False).first().references.first().delete()


def test_the_public_page_costs_few_queries(client, article, editor, reviewer, django_assert_max_num_queries):
    article = publish(article, editor, reviewer)
    with django_assert_max_num_queries(2):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_a_note_for_readers_says_what_changed_in_each_version(client, article, editor, reviewer):
    article = publish(article, editor, reviewer)
    assert article.published_revision.snapshot["change_note"] == ""
    Claim.objects.filter(section__article=article, is_context=False).update(text="Ketamine blocks NMDA receptors, "
                                                                             "at a dose of 0.5 mg/kg.")
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor, note="  Added the dose\n used in the trials.  ")
    article = Article.objects.get(pk=article.pk)
    assert article.published_revision.snapshot["change_note"] == "Added the dose used in the trials."
    page = client.get(article.get_absolute_url()).content.decode()
    corrections = page[page.index('id="corrections-heading"'):]
    assert '<span class="change-note">Added the dose used in the trials.</span>' in corrections
    assert corrections.index("Version 2, updated") < corrections.index("Added the dose")
    # A third version keeps the second's note in its history.
    Claim.objects.filter(section__article=article, is_context=False).update(text="Ketamine blocks NMDA receptors.")
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    history = Article.objects.get(pk=article.pk).published_revision.history
    assert [(entry["number"], entry["note"]) for entry in history] == [
        (1, ""), (2, "Added the dose used in the trials."), (3, ""),
    ]


def test_a_note_for_readers_has_a_length_limit(article, editor, reviewer):
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    with pytest.raises(workflow.InvalidInput, match="note for readers is 501 characters long"):
        workflow.publish(article, by=editor, note="x" * 501)
    assert not ArticleRevision.objects.filter(article=article).exists()

"""Helpers for the public-page tests: published articles made the way people make them, through the workflow."""

from django.utils import timezone

from articles.models import Article, ArticleRevision, Status, Topic
from articles.publishing.pages import store_all_public_pages
from articles.publishing.search import store_search_vector
from articles.review import workflow
from tests.factories import make_reference, make_supported_article


def publish(article, *, editor, reviewer):
    """Submit, approve and publish ``article``; returns it reloaded."""
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return Article.objects.get(pk=article.pk)


def make_published(title, *, editor, reviewer, topics=(), **fields):
    """A supported article, in ``topics``, published through review."""
    article = make_supported_article(title, author=editor, **fields)
    article.topics.set(topics)
    return publish(article, editor=editor, reviewer=reviewer)


def make_long_article(title, *, editor, sections, claims_per_section):
    """An article of ``sections`` sections of ``claims_per_section`` claims, each citing one of a few references."""
    refs = [make_reference() for _ in range(5)]
    spec = {
        f"Section {s}": [
            {"text": f"Finding {s}.{c} is reported by the study.", "refs": [refs[(s + c) % len(refs)]]}
            for c in range(claims_per_section)
        ]
        for s in range(sections)
    }
    return make_supported_article(title, author=editor, sections=spec)


def make_topic(name):
    return Topic.objects.create(name=name, slug=name.lower().replace(" ", "-"))


def make_many_published(count, *, editor, reviewer, topic):
    """``count`` published articles: one through the workflow, the rest copies of its rows (arranging data only)."""
    model = make_published("Ketamine model article", editor=editor, reviewer=reviewer, topics=[topic])
    revision = model.published_revision
    now = timezone.now()
    articles = Article.objects.bulk_create([
        Article(title=f"Ketamine copy {i}", slug=f"ketamine-copy-{i}", summary=model.summary, status=Status.PUBLISHED,
                published_at=now, byline=model.byline)
        for i in range(count - 1)
    ])
    revisions = ArticleRevision.objects.bulk_create([
        ArticleRevision(article=a, number=1, title=a.title, fingerprint=revision.fingerprint,
                        snapshot=revision.snapshot, summary=revision.summary, body_text=revision.body_text,
                        body_html=revision.body_html, history=revision.history, topics=revision.topics,
                        published_at=now)
        for a in articles
    ])
    for article, copy in zip(articles, revisions):
        store_search_vector(copy)  # as freezing a revision does
        article.published_revision = copy
    Article.objects.bulk_update(articles, ["published_revision"])
    Article.topics.through.objects.bulk_create(
        [Article.topics.through(article=a, topic=topic) for a in articles]
    )
    assert Article.objects.published().count() == count
    # As publishing each would: their pages, cards and feed entries.
    assert store_all_public_pages(stale_only=True) == count - 1

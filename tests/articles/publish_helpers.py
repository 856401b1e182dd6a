"""Helpers for the public-page tests: published articles made the way people make them, through the workflow."""

from articles.review import workflow
from articles.models import Article, Topic
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

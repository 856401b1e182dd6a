"""The Atom feed of the latest published articles."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from articles.models import Article

FEED_SIZE = 20


def _absolute(path):
    return settings.SITE_URL.rstrip("/") + path


class LatestArticlesFeed(Feed):
    feed_type = Atom1Feed
    description = "Evidence-based mental-health articles: every statement cites peer-reviewed research."

    def title(self):
        return f"{settings.SITE_NAME}: latest articles"

    # Absolute links on SITE_URL, so the feed names the canonical pages whatever host served it.
    def link(self):
        return _absolute("/")

    def feed_url(self):
        return _absolute(reverse("feed"))

    def items(self):
        return Article.objects.for_listing()[:FEED_SIZE]

    def item_title(self, article):
        return article.published_revision.title

    def item_description(self, article):
        # Atom sends this as type="html": a reader renders it as markup, so plain text must be escaped first.
        return escape(article.published_revision.summary)

    def item_link(self, article):
        return _absolute(article.get_absolute_url())

    def item_guid(self, article):
        return _absolute(article.get_absolute_url())

    def item_pubdate(self, article):
        return article.published_at

    def item_updateddate(self, article):
        return article.published_revision.published_at

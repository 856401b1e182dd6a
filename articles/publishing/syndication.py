"""What the feed and the sitemap say: Django's Feed and Sitemap definitions, and each live article's entry in
them as those frameworks write it.

The entries are rendered with an article's listing (articles.publishing.pages) and stored, so the feed and
sitemap views (feeds.py, sitemaps.py) join stored strings instead of rendering per request.
"""

import io
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.xmlutils import SimplerXMLGenerator

from articles.models import Article, Topic

FEED_SIZE = 20


# -- the feed -------------------------------------------------------------------

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


class _Generator(Atom1Feed):
    """The feed's document with the newest date given, since its entries are written apart from it."""

    def __init__(self, *args, newest=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.newest = newest

    def latest_post_date(self):
        return self.newest or super().latest_post_date()


def feed_generator(newest=None):
    """The feed's document writer, dated by ``newest`` (its newest entry), or as Django dates it when None."""
    feed = LatestArticlesFeed()
    # The arguments Feed.get_feed gives; the links are absolute already, so no request is needed.
    return _Generator(
        title=feed.title(), link=feed.link(), description=feed.description,
        language=feed.language or get_language(), feed_url=feed.feed_url(), newest=newest,
    )


def feed_entry(article):
    """The ``<entry>`` of ``article`` (a for_listing() article) as LatestArticlesFeed writes it."""
    feed = LatestArticlesFeed()
    generator = feed_generator()
    generator.add_item(
        title=feed.item_title(article), link=feed.item_link(article), description=feed.item_description(article),
        unique_id=feed.item_guid(article), pubdate=feed.item_pubdate(article),
        updateddate=feed.item_updateddate(article),
    )
    out = io.StringIO()
    generator.write_items(SimplerXMLGenerator(out, "utf-8", short_empty_elements=True))
    return out.getvalue()


# -- the sitemap ----------------------------------------------------------------

class CanonicalSitemap(Sitemap):
    """URLs on SITE_URL's scheme and host rather than the request's."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.SITE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc


class HomeSitemap(CanonicalSitemap):
    changefreq = "daily"

    def items(self):
        return ["articles:home"]

    def location(self, name):
        return reverse(name)


class TopicSitemap(CanonicalSitemap):
    changefreq = "weekly"

    def items(self):
        # A list, so the paginator counts it without a COUNT query of its own.
        return list(Topic.objects.filter(articles__in=Article.objects.published()).distinct().order_by("slug"))

    def location(self, topic):
        return reverse("articles:topic", kwargs={"slug": topic.slug})


class ArticleSitemap(CanonicalSitemap):
    changefreq = "monthly"

    def items(self):
        # A list of the two columns an entry needs, so the paginator counts it without a COUNT query.
        return list(Article.objects.for_listing().only("slug", "published_revision__published_at").order_by("pk"))

    def lastmod(self, article):
        return article.published_revision.published_at


SITEMAPS = {"home": HomeSitemap, "topics": TopicSitemap, "articles": ArticleSitemap}


def url_entry(location, changefreq, day=""):
    lastmod = f"<lastmod>{day}</lastmod>" if day else ""
    return f"<url><loc>{location}</loc>{lastmod}<changefreq>{changefreq}</changefreq></url>"


def base_url():
    return escape(f"{CanonicalSitemap().get_protocol()}://{CanonicalSitemap().get_domain()}")


def sitemap_entry(article):
    """The ``<url>`` of ``article`` (a live article) as Django's sitemap view writes it from ArticleSitemap."""
    day = timezone.localtime(ArticleSitemap().lastmod(article)).date().isoformat()
    return url_entry(base_url() + article.get_absolute_url(), ArticleSitemap.changefreq, day)

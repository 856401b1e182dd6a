"""sitemap.xml: the home page, topic pages with published articles, and every published article."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from articles.models import Article, Topic


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

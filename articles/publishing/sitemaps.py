"""sitemap.xml: the home page, topic pages with published articles, and every published article.

``SITEMAPS`` (articles.publishing.syndication) are the sitemaps for Django's framework; ``sitemap`` serves
the same document fast.
"""

from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse

from articles.models import Article, Topic
from articles.publishing import listing
from articles.publishing.syndication import HomeSitemap, TopicSitemap, base_url, url_entry


# -- the view ------------------------------------------------------------------
# The document Django's sitemap view writes from SITEMAPS, built from one statement and string joins: each
# article's entry is stored with its listing, so no model, template or date per entry.

_TOPICS = listing.CompiledQuery(
    lambda: Topic.objects.filter(Exists(Article.topics.through.objects.filter(
        topic=OuterRef("pk"), article__in=Article.objects.published()))).order_by("slug").values_list("slug"),
    paged=True,
)
_ARTICLES = listing.CompiledQuery(
    lambda: listing.listed().order_by("article_id").values_list("sitemap_entry"), paged=True,
)
_PAGE = listing.CompiledBatch(_TOPICS, _ARTICLES)
_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">\n')
_TAIL = "\n</urlset>\n"


def sitemap(request):
    """sitemap.xml, page ``p`` (each page at most 50,000 topics and 50,000 articles; the home page on the first)."""
    value = request.GET.get("p", "1")
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise Http404(f"No page {value!r}")
    number = int(value)
    limit, offset = Sitemap.limit, (number - 1) * Sitemap.limit
    topics, articles = _PAGE.rows(limit=limit, offset=offset)
    if number > 1 and not topics and not articles:
        raise Http404(f"Page {number} empty")
    base = base_url()
    entries = [url_entry(base + listing.url(HomeSitemap().items()[0]), HomeSitemap.changefreq)] if number == 1 else []
    entries += [url_entry(base + listing.url("articles:topic", slug), TopicSitemap.changefreq) for (slug,) in topics]
    entries += [entry for (entry,) in articles]
    response = HttpResponse(_HEAD + "".join(entries) + _TAIL, content_type="application/xml")
    response["X-Robots-Tag"] = "noindex, noodp, noarchive"  # as Django's sitemap view says
    return response

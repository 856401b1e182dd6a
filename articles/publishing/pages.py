"""The stored public page of each live article: rendered when what it shows changes, not on every request.

A page shows the live revision, the article's review dates, the reviewer's
public credit and any notice on a cited source. Each of those changes through
articles.review.workflow (publish, re-approval of the live words, flag_for_rereview
when a cited source changes, unpublish, archive) or through the receiver in
articles.signals (an editor saving the article), and each of those calls
``page_changed``. The credit is the one frozen at approval, so a reviewer
editing their profile changes no page.
"""

import json
import zlib

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.safestring import mark_safe

from articles.publishing import frontend_cache, listing, rendering, search, syndication
from articles.publishing.context import page_context
from articles.publishing.cache import invalidate_article_on_commit
from articles.models import Article, ArticleListing, ArticlePage


@transaction.atomic
def store_public_page(article_id):
    """Render the live page of ``article_id`` as anonymous readers see it and store it; forget it if not live.

    In a transaction, so it reads the primary and the rows the caller has just written.
    """

    article = Article.objects.for_page().filter(pk=article_id).first()
    if article is None:
        ArticlePage.objects.filter(article_id=article_id).delete()
        ArticleListing.objects.filter(article_id=article_id).delete()
        return None
    # No request: the page a reader without a session sees (no staff links, no messages). Notices and
    # the stylesheet's URL are filled in per request (pages.complete), into placeholders.
    html = render_to_string("articles/article_detail.html", {
        **page_context(article, notices={}), "stylesheet_url": mark_safe(rendering.STYLESHEET),
    })
    revision = article.published_revision
    page = revision.page or rendering.page_data(revision.snapshot, topics=revision.topics)
    ArticlePage.objects.update_or_create(article_id=article_id, defaults={
        "html": zlib.compress(html.encode()), "sources": json.dumps(page["references"]), "site": site(),
    })
    ArticleListing.objects.update_or_create(article_id=article_id, defaults={
        "updated_at": revision.published_at, "card": listing.render_card(article),
        "feed_entry": syndication.feed_entry(article), "sitemap_entry": syndication.sitemap_entry(article), "site": site(),
    })
    search.index_listing(article_id, revision.pk)
    return html


def site():
    """The settings a stored page or listing depends on besides the database (its links, name and dates)."""
    return f"{settings.SITE_URL} {settings.SITE_NAME} {settings.TIME_ZONE}"


def page_html(stored):
    """The HTML of a stored page (``ArticlePage.html``), still with its placeholders, as UTF-8 bytes."""
    return zlib.decompress(stored)


def complete(html):
    """A stored page's HTML (bytes or str) as served: with the stylesheet's URL of this deployment."""
    url = static("css/site.css")
    if isinstance(html, bytes):
        return html.replace(rendering.STYLESHEET.encode(), url.encode(), 1)
    return html.replace(rendering.STYLESHEET, url, 1)


def store_all_public_pages(*, stale_only=False):
    """Store the page of every live article (after upgrading, or to repair); returns how many were stored.

    ``stale_only``: only those not listed yet or listed under other settings (``site()``): run after every
    migrate, so an upgrade fills the lists and a change of SITE_URL, SITE_NAME or TIME_ZONE reaches them.
    """
    live = Article.objects.published()
    if stale_only:
        live = live.filter(Q(listing__isnull=True) | ~Q(listing__site=site()))
    ids = list(live.values_list("pk", flat=True))
    for article_id in ids:
        store_public_page(article_id)
    return len(ids)


def page_changed(article):
    """What ``article``'s page shows has changed: store it afresh and make every cached copy stale.

    The caches in front of the site lose the article's page, and the listing pages too when its card
    changed or it came or went (a notice on a cited source leaves the lists as they were).
    """
    purging = bool(frontend_cache.backends())
    listed_before = _listed(article) if purging else None
    store_public_page(article.pk)
    invalidate_article_on_commit(article.slug)
    if purging:
        frontend_cache.purge_article(article, lists=listed_before != _listed(article))


def _listed(article):
    return ArticleListing.objects.filter(article_id=article.pk).values_list("card", "feed_entry").first()

"""The Atom feed of the latest published articles.

``LatestArticlesFeed`` (articles.publishing.syndication) is the feed as Django's syndication framework
writes it.
The site serves the same document joined from parts rendered once: each live
article's ``<entry>`` is rendered with its listing (``syndication.feed_entry``,
stored by articles.publishing.pages), and the feed's head once per process and
newest date (``latest``). A request is then one query and a join.
"""

import functools
import io

from django.conf import settings
from django.http import HttpResponse
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import http_date
from django.utils.translation import get_language

from articles.publishing import listing
from articles.publishing.syndication import FEED_SIZE, feed_generator

_END = "</feed>"


@functools.lru_cache(maxsize=8)
def _head(newest, site, language):
    """The document up to its first entry, for a feed whose newest entry is dated ``newest``."""
    out = io.StringIO()
    feed_generator(newest).write(out, "utf-8")
    document = out.getvalue()
    assert document.endswith(_END)
    return document[: -len(_END)]


_LATEST = listing.CompiledQuery(
    lambda: listing.listed().values_list("feed_entry", "updated_at"), paged=True,
)


def latest(request):
    """The feed: LatestArticlesFeed's document, joined from stored entries."""
    rows = _LATEST.rows(limit=FEED_SIZE, offset=0)
    # Lists are newest first, and an article's first publication is never later than its latest revision.
    newest = listing.as_datetime(rows[0][1]) if rows else None
    # An empty feed is dated now, as Django dates it: not a head to keep.
    head = (_head if newest else _head.__wrapped__)(newest, (settings.SITE_URL, settings.SITE_NAME), get_language())
    response = HttpResponse("".join([head, *(entry for entry, _ in rows), _END]),
                            content_type=Atom1Feed.content_type)
    if newest is not None:
        # As Django's Feed does, so a conditional request can be answered 304.
        response["Last-Modified"] = http_date(newest.timestamp())
    return response

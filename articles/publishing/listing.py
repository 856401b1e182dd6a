"""The public lists (home, topic and search pages), joined from what was rendered once.

Two things are rendered once and kept:

- each live article's card (``ArticleListing.card``, from templates/articles/_article_card.html), stored
  with its page (articles.publishing.pages), so it changes on the same events;
- each list page's *frame*: its template rendered, in this process, with markers where the per-request
  parts go (``Frame``). What a frame shows besides those parts (the topic's name, the site's settings, the
  stylesheet's URL) is part of its key, so a frame never shows anything stale.

A list page for an anonymous reader is then a query or two, read through compiled SQL (``CompiledQuery``),
and a join: no template, no model and no URL reversal per request. Signed-in staff get the templates
rendered in full, with their links and messages.
"""

import datetime
import functools

from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, OuterRef
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from articles.models import Article, ArticleListing, Topic

# Cards are stored with a level-2 heading; a list under a level-2 heading shows them one level down.
_STORED_LEVEL = 2
_SEPARATOR = "\n  "
FRAMES_KEPT = 256


def render_card(article, level=_STORED_LEVEL):
    """The card of ``article`` (a for_listing() or for_page() row) from the template, as a list shows it."""
    return get_template("articles/_article_card.html").render({"article": article, "level": level})


def at_level(card, level):
    """A stored card with its heading at ``level``."""
    if level == _STORED_LEVEL:
        return card
    # The title inside is escaped, so the first "</h2>" is the heading's own end tag.
    return (card.replace(f'<h{_STORED_LEVEL} class="article-list-title">', f'<h{level} class="article-list-title">', 1)
            .replace(f"</h{_STORED_LEVEL}>", f"</h{level}>", 1))


def join_cards(cards, *, level=_STORED_LEVEL):
    """Stored cards joined, safe to put inside the list's <ul>."""
    return mark_safe(_SEPARATOR.join(at_level(card, level) for card in cards))


def listed():
    """The listings of live articles, newest first: what every public list reads.

    Read from the listings' date index with each row's article checked live as it goes, so a page of
    twenty reads about twenty rows however many articles there are.
    """
    live = Article.objects.published().filter(pk=OuterRef("article_id"))
    return ArticleListing.objects.filter(Exists(live)).order_by("-updated_at", "-article_id")


def listed_topics():
    """Topics with at least one listed article, by name."""
    live = Article.objects.published().filter(pk=OuterRef("article_id"), listing__isnull=False)
    tagged = Article.topics.through.objects.filter(topic=OuterRef("pk")).filter(Exists(live))
    return Topic.objects.filter(Exists(tagged)).order_by("name")


# -- compiled queries -------------------------------------------------------------

class Marker(str):
    """Stands for a value in a compiled query's SQL (no real value contains a NUL)."""


def marker(name):
    return Marker(f"\x00{name}")


class CompiledQuery:
    """A queryset compiled once per process and database vendor, then run with new values.

    Compiling a queryset (its joins, column list and subqueries) costs as much as running a small one;
    ``build()`` returns it with ``marker(name)`` where values go, and each run substitutes them.
    ``paged`` appends LIMIT and OFFSET as parameters, so one compiled query serves every page.
    """

    def __init__(self, build, *, paged=False):
        self.build = build
        self.paged = paged
        self._compiled = {}  # vendor -> (sql, params)

    def _sql(self, vendor):
        if vendor not in self._compiled:
            sql, params = self.build().query.sql_with_params()
            if self.paged:
                sql, params = f"{sql} LIMIT %s OFFSET %s", (*params, marker("limit"), marker("offset"))
            self._compiled[vendor] = sql, params
        return self._compiled[vendor]

    def rows(self, **values):
        connection = connections[router.db_for_read(Article)]
        sql, params = self._sql(connection.vendor)
        arguments = [values[param[1:]] if isinstance(param, Marker) else param for param in params]
        with connection.cursor() as cursor:
            cursor.execute(sql, arguments)
            return cursor.fetchall()


def as_datetime(value):
    """A datetime column as a compiled query returns it (SQLite: ISO text in UTC), aware."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.timezone.utc)


# -- frames -------------------------------------------------------------------------

class Frame:
    """A template rendered once with markers, filled per request: ``frame.fill(cards=..., query=...)``.

    Each slot's value is escaped unless it is safe (the joined cards are); a slot may appear any number of
    times. The template must use each slot only as ``{{ slot }}`` (no filters, no ``{% if %}``): whatever
    decides the page's shape belongs in the frame's key instead.
    """

    def __init__(self, template_name, context, slots):
        marked = {slot: mark_safe(f"\x00slot:{slot}\x00") for slot in slots}
        html = render_to_string(template_name, {**context, **marked, "stylesheet_url": static("css/site.css")})
        self.parts = []
        for index, piece in enumerate(html.split("\x00")):
            # Odd pieces are the slot names between the NULs.
            self.parts.append(("slot", piece[len("slot:"):]) if index % 2 else ("text", piece))

    def fill(self, **values):
        escaped = {name: value if isinstance(value, SafeString) else conditional_escape(value)
                   for name, value in values.items()}
        return "".join(escaped[piece] if kind == "slot" else piece for kind, piece in self.parts)


@functools.lru_cache(maxsize=FRAMES_KEPT)
def _frame(template_name, context_items, slots, site):
    return Frame(template_name, dict(context_items), slots)


def frame(template_name, *, slots, **context):
    """The frame of ``template_name`` for this context (hashable values), rendered once per process."""
    return _frame(template_name, tuple(sorted(context.items())), tuple(slots), (settings.SITE_URL, settings.SITE_NAME))


def forget_frames():
    """Frames are kept per process; tests that change templates or settings forget them."""
    _frame.cache_clear()

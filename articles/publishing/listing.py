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
import itertools
import operator

from django.conf import settings
from django.db import connections, router
from django.db.models import Exists, OuterRef, Window
from django.db.models.functions import RowNumber
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
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
    ``paged`` runs take ``limit`` and ``offset``: the limit, always one of the code's page sizes, is written
    into the SQL, and the offset is a parameter (none on a first page), so a few compiled variants serve
    every page. With a literal LIMIT, a PostgreSQL prepared statement's generic plan knows how many rows it
    is for; with LIMIT as a parameter it may look dearer than a plan for the values at hand, and the server
    then plans the statement anew on every run.
    """

    def __init__(self, build, *, paged=False):
        self.build = build
        self.paged = paged
        self._compiled = {}  # (vendor, page size, first page) -> (sql, params)

    def _sql(self, vendor, values):
        key = (vendor, *_paging(values)) if self.paged else (vendor,)
        if key not in self._compiled:
            self._compiled[key] = self.compile(self.build(), *key[1:])
        return self._compiled[key]

    def compile(self, queryset, limit=None, first_page=False):
        """The SQL and parameters of ``queryset`` (this query's, or one built from it), paged as this one is:
        at most ``limit`` rows, from the offset a run gives unless ``first_page``."""
        sql, params = queryset.query.sql_with_params()
        if self.paged:
            sql = f"{sql} LIMIT {limit:d}" if first_page else f"{sql} LIMIT {limit:d} OFFSET %s"
            params = params if first_page else (*params, marker("offset"))
        return sql, params

    def width(self):
        """How many columns each row has (the query's values_list())."""
        query = self.build().query
        return len(query.extra_select) + len(query.values_select) + len(query.annotation_select)

    def rows(self, **values):
        connection = connections[router.db_for_read(Article)]
        sql, params = self._sql(connection.vendor, values)
        return _run(connection, sql, params, values)


class CompiledBatch:
    """Compiled queries answered together, in one statement and one round trip: ``batch.rows(**values)``
    returns each query's rows, in its own order.

    Each query (a ``CompiledQuery``, paged or not) runs as a common table expression numbering its rows in
    its own ordering; the statement joins them with UNION ALL, each in its own columns, and sorts by query
    and number, so each comes back whole and in order however the database plans the union.
    """

    def __init__(self, *queries):
        self.queries = queries
        self._compiled = {}  # (vendor, page size, first page) -> (sql, params, widths)

    def _sql(self, vendor, values):
        paging = _paging(values) if any(query.paged for query in self.queries) else ()
        key = (vendor, *paging)
        if key not in self._compiled:
            parts = []
            for query in self.queries:
                built = query.build()
                parts.append(query.compile(
                    built.annotate(_position=Window(RowNumber(), order_by=list(built.query.order_by))), *paging))
            widths = [query.width() for query in self.queries]
            # The statement is built only from the ORM's own SQL for the queries above and from column and
            # table names made here: no value is ever formatted into it.
            names = [[f"c{index}_{column}" for column in range(width)] for index, width in enumerate(widths)]
            tables, selects, params = [], [], []
            for index, (sql, part_params) in enumerate(parts):
                tables.append(f"part_{index} ({', '.join(names[index] + [f'p{index}'])}) AS ({sql})")
                params.extend(part_params)
                columns = []
                for other, other_names in enumerate(names):
                    columns += other_names if other == index else ["NULL"] * len(other_names)
                selects.append(f"SELECT {index}, p{index}, {', '.join(columns)} FROM part_{index}")  # nosec B608
            if len(parts) > 2:
                # PostgreSQL types a union's columns pairwise from the left: a column NULL in the first two
                # selects would become text and clash with the part that fills it. A first select that yields
                # no row but names every column from its own part types them all. (Two parts need none, and
                # without it each part is referenced once, so the database can plan it inline.)
                every_column = ", ".join(name for part_names in names for name in part_names)
                every_part = ", ".join(f"part_{index}" for index in range(len(parts)))
                selects.insert(0, f"SELECT NULL, NULL, {every_column} FROM {every_part} WHERE 1 = 0")  # nosec B608
            sql = f"WITH {', '.join(tables)} {' UNION ALL '.join(selects)} ORDER BY 1, 2"
            self._compiled[key] = sql, params, widths
        return self._compiled[key]

    def rows(self, **values):
        connection = connections[router.db_for_read(Article)]
        sql, params, widths = self._sql(connection.vendor, values)
        found = [[] for _ in self.queries]
        # Rows come sorted by query: each query's rows are one run, cut to its own columns.
        for index, run in itertools.groupby(_run(connection, sql, params, values), key=operator.itemgetter(0)):
            start = 2 + sum(widths[:index])
            end = start + widths[index]
            found[index] = [row[start:end] for row in run]
        return found


def _paging(values):
    """A paged run's page size (an int: it is written into the SQL) and whether it is a first page."""
    limit, offset = values["limit"], values["offset"]
    if type(limit) is not int or limit < 0:
        raise TypeError(f"limit must be a non-negative int, not {limit!r}")
    return limit, offset == 0


def _run(connection, sql, params, values):
    arguments = [values[param[1:]] if isinstance(param, Marker) else param for param in params]
    with connection.cursor() as cursor:
        cursor.execute(sql, arguments)
        return cursor.fetchall()


def as_datetime(value):
    """A datetime column as a compiled query returns it (SQLite: ISO text in UTC), aware."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=datetime.timezone.utc)


# -- URLs --------------------------------------------------------------------------

_SLUG = "0slug0"  # a slug no URL pattern treats specially, replaced by the real one


@functools.lru_cache(maxsize=64)
def _url_around_slug(name, prefix):
    return tuple(reverse(name, kwargs={"slug": _SLUG}).split(_SLUG))


@functools.lru_cache(maxsize=64)
def _url(name, prefix):
    return reverse(name)


def url(name, slug=None):
    """``reverse(name)``, or ``reverse(name, kwargs={"slug": slug})``, each pattern reversed once per process
    and script prefix: a slug's characters need no quoting in a path."""
    if slug is None:
        return _url(name, get_script_prefix())
    before, after = _url_around_slug(name, get_script_prefix())
    return f"{before}{slug}{after}"


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

"""The article lists of the home, topic and search pages, joined from cards rendered once per publication.

Each live article's card (``ArticlePage.card``) is rendered from
templates/articles/_article_card.html when its page is stored
(articles.publishing.pages), so it changes on the same events. A list is then
one query and a join; an article whose page was never stored has its card
rendered on the spot, from the same row.
"""

from django.db.models import F
from django.template.loader import get_template
from django.utils.safestring import mark_safe

# Cards are stored with a level-2 heading; a list under a level-2 heading shows them one level down.
_STORED_LEVEL = 2
_SEPARATOR = "\n  "


def render_card(article, level=_STORED_LEVEL):
    """The card of ``article`` (a for_listing() or for_page() row) from the template, as a list shows it."""
    return get_template("articles/_article_card.html").render({"article": article, "level": level})


def with_cards(queryset):
    """``queryset`` (for_listing() articles) with each article's stored card as ``card`` ("" when none)."""
    return queryset.annotate(card=F("public_page__card"))


def _at_level(card, level):
    if level == _STORED_LEVEL:
        return card
    # The title inside is escaped, so the first "</h2>" is the heading's own end tag.
    return (card.replace(f'<h{_STORED_LEVEL} class="article-list-title">', f'<h{level} class="article-list-title">', 1)
            .replace(f"</h{_STORED_LEVEL}>", f"</h{level}>", 1))


def cards(articles, *, level=_STORED_LEVEL):
    """The list items of ``articles`` (from ``with_cards``), joined, safe to put inside the list's <ul>."""
    return mark_safe(_SEPARATOR.join(
        _at_level(article.card, level) if article.card else render_card(article, level) for article in articles
    ))

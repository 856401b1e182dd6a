"""Turning a revision's frozen snapshot into what readers see.

The body (sections, claims and their numbered citation links) depends only on
the snapshot, so it is rendered once, when the revision is frozen, and stored
on the revision: an article page then costs the same few queries and almost no
template work whatever its length. What can change after publication (a cited
work retracted or corrected, the review dates) is rendered per request around it.
"""

from datetime import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from articles.models import ArticleRevision


def citation_id(reference_number, occurrence):
    """The id of one in-text citation, so the reference list can link back to it."""
    return f"cite-{reference_number}-{occurrence}"


def annotated_sections(snapshot):
    """Sections with each citation given its anchor id; and, per reference number, the ids citing it in order.

    A source keeps the number the snapshot gave it (first appearance in the
    article), however often it is cited; each occurrence gets its own anchor.
    """
    seen = {}
    sections = []
    for position, section in enumerate(snapshot["sections"], 1):
        claims = []
        for claim in section["claims"]:
            citations = []
            for citation in claim["citations"]:
                number = citation["reference"]
                seen.setdefault(number, []).append(citation_id(number, len(seen.get(number, [])) + 1))
                citations.append({**citation, "id": seen[number][-1]})
            claims.append({"text": claim["text"], "citations": citations})
        sections.append({"id": f"section-{position}", "heading": section["heading"], "claims": claims})
    return sections, seen


def render_body(snapshot):
    """The article's sections as HTML (escaped by the template), citations linking to the reference list."""
    sections, _ = annotated_sections(snapshot)
    return mark_safe(render_to_string("articles/_body.html", {"sections": sections}))


# Placeholders in the frozen article HTML for what is decided per request.
CREDITS = "<!--psychly:credits-->"
SOURCES_NOTICE = "<!--psychly:sources-notice-->"
HISTORY_NOTES = "<!--psychly:history-notes-->"
# In a stored page (articles.publishing.pages), where the stylesheet's URL goes: it changes with each deployment.
STYLESHEET = "<!--psychly:stylesheet-->"


def notice_marker(number):
    return f"<!--psychly:notice:{number}-->"


def article_context(snapshot, *, topics, history, credits, sources_notice="", history_notes="", notices=None):
    """What templates/articles/_article.html needs; ``notices`` maps a reference number to its notice HTML."""
    sections, backlinks = annotated_sections(snapshot)
    notices = notices or {}
    references = [
        {
            **ref,
            "html": mark_safe(ref["html"]),  # escaped and sanitised by references.citations when frozen
            "backlinks": backlinks.get(ref["number"], []),
            "notice_html": mark_safe(notices.get(ref["number"], "")),
        }
        for ref in snapshot["references"]
    ]
    return {
        "snapshot": snapshot,
        "body": mark_safe(render_to_string("articles/_body.html", {"sections": sections})),
        "references": references,
        "topics": topics,
        "history": [{**entry, "published_at": datetime.fromisoformat(entry["published_at"])} for entry in history],
        "credits": mark_safe(credits),
        "sources_notice": mark_safe(sources_notice),
        "history_notes": mark_safe(history_notes),
    }


def render_article(snapshot, *, topics, history, **parts):
    """The whole <article> element; called with placeholders at publication, with real parts for a preview."""
    return render_to_string("articles/_article.html", article_context(snapshot, topics=topics, history=history,
                                                                      **parts))


def render_frozen_article(snapshot, *, topics, history):
    """The <article> as stored on the revision: per-request parts left as placeholders."""
    return render_article(
        snapshot, topics=topics, history=history, credits=CREDITS, sources_notice=SOURCES_NOTICE,
        history_notes=HISTORY_NOTES, notices={ref["number"]: notice_marker(ref["number"]) for ref in snapshot["references"]},
    )


def page_data(snapshot, *, topics):
    """The little a request needs besides the frozen HTML: each source's id and status at publication, JSON-LD."""
    return {
        "references": [
            {"id": ref["id"], "number": ref["number"], "retraction_status": ref["retraction_status"]}
            for ref in snapshot["references"]
        ],
        "byline": snapshot["byline"],
        "reviewer": snapshot.get("reviewer") or {},
        "approved_at": snapshot.get("approved_at"),
        "citation": [
            {
                "@type": "ScholarlyArticle",
                "name": ref["text"],
                "url": ref["link"],
                **({"sameAs": f"https://doi.org/{ref['doi']}",
                    "identifier": {"@type": "PropertyValue", "propertyID": "DOI", "value": ref["doi"]}}
                   if ref["doi"] else {}),
            }
            for ref in snapshot["references"]
        ],
        "about": [{"@type": "Thing", "name": topic["name"]} for topic in topics],
    }


def body_text(snapshot):
    """Headings and claims as plain text, for full-text search."""
    parts = []
    for section in snapshot["sections"]:
        parts.append(section["heading"])
        parts.extend(claim["text"] for claim in section["claims"])
    return "\n".join(parts)


def reviewer_credit(name, credentials):
    return f"{name}, {credentials}" if name and credentials else name or ""


def frozen_history(article, number, snapshot):
    """Every version up to this one: number, date and who reviewed it (read from the earlier revisions)."""
    earlier = ArticleRevision.objects.filter(article=article, number__lt=number).order_by("number").values(
        "number", "published_at", "snapshot__reviewer__name", "snapshot__reviewer__credentials",
        "snapshot__change_note",
    )
    history = [
        {
            "number": row["number"],
            "published_at": row["published_at"].isoformat(),
            "reviewer": reviewer_credit(row["snapshot__reviewer__name"], row["snapshot__reviewer__credentials"]),
            "note": row["snapshot__change_note"] or "",
        }
        for row in earlier
    ]
    reviewer = snapshot.get("reviewer") or {}
    history.append({
        "number": number,
        "published_at": snapshot["published_at"],
        "reviewer": reviewer_credit(reviewer.get("name"), reviewer.get("credentials")),
        "note": snapshot.get("change_note") or "",
    })
    return history


def frozen_fields(snapshot, *, article, number):
    """The columns a revision stores beside its snapshot: search text, the pre-rendered article, page data."""
    history = frozen_history(article, number, snapshot)
    topics = list(article.topics.order_by("name").values("name", "slug"))
    return {
        "summary": snapshot.get("summary", ""),
        "body_text": body_text(snapshot),
        "body_html": render_frozen_article(snapshot, topics=topics, history=history),
        "history": history,
        "topics": topics,
        "page": page_data(snapshot, topics=topics),
    }


def _day(moment):
    return f"{timezone.localtime(moment):%-d %B %Y}" if timezone.is_aware(moment) else f"{moment:%-d %B %Y}"


def render_credits(*, byline, reviewer, reviewed_at, next_review_due, published_at, updated_at, preview=False):
    """Who wrote and reviewed the article and its dates, as a <dl>.

    With ``preview`` the dates describe a working copy: ``published_at`` is when the article
    was first published (None if never), and nothing claims this copy was published.

    Built with format_html rather than a template: it is the one part of an
    article page rendered on every request, and this is several times faster.
    """
    rows = []
    if byline:
        rows.append(("Written by", format_html('<dd class="byline">{}</dd>', byline)))
    if reviewer.get("name"):
        credit = reviewer_credit(reviewer["name"], reviewer.get("credentials"))
        when = format_html(' on <time datetime="{}">{}</time>', f"{timezone.localtime(reviewed_at):%Y-%m-%d}"
                           if timezone.is_aware(reviewed_at) else f"{reviewed_at:%Y-%m-%d}",
                           _day(reviewed_at)) if reviewed_at else ""
        rows.append(("Medical review", format_html('<dd class="reviewer">Medically reviewed by {}{}</dd>', credit, when)))
    if preview:
        if published_at:
            state = format_html('<dd class="preview-state">Working copy, not published: readers see the version '
                                'first published on <time datetime="{}">{}</time></dd>',
                                published_at.isoformat(), _day(published_at))
        else:
            state = format_html('<dd class="preview-state">{}</dd>', "Working copy, never published")
        rows.append(("Preview", state))
        rows.append(("Previewed", format_html('<dd><time datetime="{}">{}</time></dd>', updated_at.isoformat(),
                                              _day(updated_at))))
    else:
        rows.append(("Published", format_html('<dd><time datetime="{}">{}</time></dd>', published_at.isoformat(),
                                              _day(published_at))))
        rows.append(("Last updated", format_html('<dd><time datetime="{}">{}</time></dd>', updated_at.isoformat(),
                                                 _day(updated_at))))
    if next_review_due:
        local = timezone.localtime(next_review_due) if timezone.is_aware(next_review_due) else next_review_due
        rows.append(("Next review due", format_html('<dd><time datetime="{}">{}</time></dd>',
                                                    f"{local:%Y-%m-%d}", f"{local:%B %Y}")))
    return format_html('<dl class="credits">{}</dl>',
                       format_html_join("", "<div><dt>{}</dt>{}</div>", rows))

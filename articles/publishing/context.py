"""What an article's public page shows: its frozen HTML with the review credits and live notices filled in.

Both the public view and the stored pages (articles.publishing.pages) build the page from here, so the
page a reader is served is the same whether it was stored or rendered on the spot.
"""

import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from articles.dates import add_months
from articles.publishing import rendering
from references.models import Reference, RetractionStatus

NOTICE_LABELS = {
    RetractionStatus.RETRACTED: "Retracted",
    RetractionStatus.EXPRESSION_OF_CONCERN: "Expression of concern",
    RetractionStatus.CORRECTED: "Corrected",
}
# The Crossref update types whose notices belong with each status (a retraction notice, not an erratum).
NOTICE_TYPES = {
    RetractionStatus.RETRACTED: {"retraction", "withdrawal", "removal", "partial_retraction"},
    RetractionStatus.EXPRESSION_OF_CONCERN: {"expression_of_concern"},
    RetractionStatus.CORRECTED: {"correction", "erratum", "corrigendum", "addendum", "clarification"},
}


def absolute_url(path):
    """``path`` on the canonical site (SITE_URL), whatever host the request came in on."""
    return settings.SITE_URL.rstrip("/") + path


def page_context(article, *, notices=None):
    """The template context of ``article``'s public page (from the for_page() queryset).

    The article HTML was rendered when the revision was published; this fills
    in only the review credits and the notices on cited sources (``notices``,
    by default those that stand now).
    """
    revision = article.published_revision
    if revision.body_html and revision.page:
        frozen, page = revision.body_html, revision.page
    else:
        # A revision published before pages were frozen: render it now, from its snapshot.
        frozen = rendering.render_frozen_article(revision.snapshot, topics=revision.topics, history=revision.history)
        page = rendering.page_data(revision.snapshot, topics=revision.topics)
    if notices is None:
        notices = live_notices(page["references"]) if article.cited_source_has_notice else {}
    reviewer, reviewed_at, next_review_due = _review(article, page)
    credits = {
        "byline": page["byline"], "reviewer": reviewer, "reviewed_at": reviewed_at,
        "next_review_due": next_review_due, "published_at": article.published_at,
        "updated_at": revision.published_at,
    }
    html = frozen.replace(rendering.CREDITS, rendering.render_credits(**credits), 1)
    html = fill_notices(html, notices)
    context = {
        **credits,
        "article": article, "title": revision.title, "summary": revision.summary,
        "canonical_url": absolute_url(article.get_absolute_url()), "site_name": settings.SITE_NAME,
        "article_html": mark_safe(html), "references": page["references"],
    }
    context["json_ld"] = json_ld(context, page)
    return context


def live_notices(references):
    """Notices on the cited sources as they stand now, by reference number (one query; most pages have none)."""
    at_publication = {ref["id"]: ref for ref in references}
    rows = Reference.objects.filter(pk__in=list(at_publication)).exclude(
        retraction_status=RetractionStatus.NONE
    ).values_list("pk", "retraction_status", "updates")
    notices = {}
    for pk, status, updates in rows:
        ref = at_publication[pk]
        notice = _notice(status, ref["retraction_status"], updates)
        if notice:
            notices[ref["number"]] = {"number": ref["number"], "notice": notice}
    return dict(sorted(notices.items()))


def notice_parts(notices):
    changed = [n for n in notices.values() if n["notice"]["since_publication"]]
    return {
        "notices": {
            number: render_to_string("articles/_reference_notice.html", n) for number, n in notices.items()
        },
        "sources_notice": render_to_string("articles/_sources_notice.html", {"changed": changed}) if changed else "",
        "history_notes": render_to_string("articles/_history_notes.html", {"changed": changed}) if changed else "",
    }


def fill_notices(html, notices):
    if not notices:
        return html
    parts = notice_parts(notices)
    for number, notice_html in parts["notices"].items():
        html = html.replace(rendering.notice_marker(number), notice_html, 1)
    html = html.replace(rendering.SOURCES_NOTICE, parts["sources_notice"], 1)
    return html.replace(rendering.HISTORY_NOTES, parts["history_notes"], 1)


def _notice(status, status_at_publication, updates):
    if status == RetractionStatus.NONE or status not in NOTICE_LABELS:
        return None
    links = [
        {"label": u.get("label") or NOTICE_LABELS[status], "url": f"https://doi.org/{u['DOI']}",
         "date": u.get("updated", "")}
        for u in updates or [] if u.get("DOI") and u.get("type") in NOTICE_TYPES[status]
    ]
    return {
        "status": status, "label": NOTICE_LABELS[status], "links": links,
        "since_publication": status != status_at_publication,
    }


def _review(article, page):
    """Who reviewed the words readers see, when, and when the next review is due.

    When the latest approval was of exactly these words (a re-review of the live
    version), the article's own review dates are the current ones; otherwise the
    approval frozen with the revision is.
    """
    revision = article.published_revision
    frozen_reviewer = page.get("reviewer") or {}
    if article.approved_fingerprint == revision.fingerprint and article.last_reviewed_at:
        # The credit as it stood at that approval: a profile edited since changes no live page.
        if article.approved_credit_name:
            reviewer = {"name": article.approved_credit_name, "credentials": article.approved_credit_credentials}
        else:
            reviewer = frozen_reviewer
        return reviewer, article.last_reviewed_at, article.next_review_due
    approved_at = page.get("approved_at")
    if not approved_at:
        return frozen_reviewer, None, None
    reviewed_at = timezone.datetime.fromisoformat(approved_at)
    return frozen_reviewer, reviewed_at, add_months(reviewed_at, article.review_interval_months)


def json_ld(context, page):
    """schema.org MedicalWebPage for the article, as a string safe inside a <script> data block."""
    reviewer = context["reviewer"]
    data = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "url": context["canonical_url"],
        "name": context["title"],
        "headline": context["title"],
        "description": context["summary"],
        "inLanguage": "en",
        "datePublished": context["published_at"].isoformat(),
        "dateModified": context["updated_at"].isoformat(),
        "publisher": {"@type": "Organization", "name": settings.SITE_NAME, "url": absolute_url("/")},
        "citation": page["citation"],
    }
    if page["byline"]:
        data["author"] = [{"@type": "Person", "name": page["byline"]}]
    if reviewer.get("name"):
        data["reviewedBy"] = {"@type": "Person", "name": reviewer["name"], "jobTitle": reviewer.get("credentials", "")}
    if context["reviewed_at"]:
        data["lastReviewed"] = context["reviewed_at"].date().isoformat()
    if page["about"]:
        data["about"] = page["about"]
    # Sorted keys: the same page whatever order the database (jsonb) gives the stored parts back in.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    # As django.utils.html.json_script does: nothing in the data can close the <script> element.
    return mark_safe(text.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026"))



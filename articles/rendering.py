"""Turning a revision's frozen snapshot into what readers see.

The body (sections, claims and their numbered citation links) depends only on
the snapshot, so it is rendered once, when the revision is frozen, and stored
on the revision: an article page then costs the same few queries and almost no
template work whatever its length. What can change after publication (a cited
work retracted or corrected, the review dates) is rendered per request around it.
"""

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe


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


def body_text(snapshot):
    """Headings and claims as plain text, for full-text search."""
    parts = []
    for section in snapshot["sections"]:
        parts.append(section["heading"])
        parts.extend(claim["text"] for claim in section["claims"])
    return "\n".join(parts)


def frozen_fields(snapshot):
    """The columns a revision stores beside its snapshot: search text and the pre-rendered body."""
    return {
        "summary": snapshot.get("summary", ""),
        "body_text": body_text(snapshot),
        "body_html": str(render_body(snapshot)),
    }

"""What a Crossref work message means for us: model fields, CSL-JSON, peer-review and retraction status."""

import re

from references.models import PeerReviewStatus, RetractionStatus

# Crossref type id -> CSL type. Crossref's own CSL output leaves
# "journal-article" unmapped, which APA then renders like a book chapter.
CSL_TYPES = {
    "journal-article": "article-journal",
    "proceedings-article": "paper-conference",
    "book-chapter": "chapter",
    "book-section": "chapter",
    "book-part": "chapter",
    "posted-content": "article",
    "dissertation": "thesis",
    "reference-entry": "entry",
    "book": "book",
    "monograph": "book",
    "edited-book": "book",
    "reference-book": "book",
    "report": "report",
    "report-component": "report",
    "dataset": "dataset",
    "standard": "standard",
    "peer-review": "review",
    "journal": "periodical",
}
CSL_TYPE_NAMES = set(CSL_TYPES.values()) | {"article-magazine", "article-newspaper", "webpage", "document"}

# Update types that withdraw a work from the record, and those that only
# annotate it. A partial retraction is treated as a retraction: for health
# claims we would rather an editor re-check than cite a retracted part.
RETRACTING_UPDATES = {"retraction", "partial_retraction", "removal", "withdrawal"}
CONCERN_UPDATES = {"expression_of_concern"}
CORRECTING_UPDATES = {"correction", "corrigendum", "erratum", "addendum", "clarification"}
NOT_PEER_REVIEWED_TYPES = {"posted-content", "peer-review"}


def _first(values):
    return values[0] if isinstance(values, list) and values else ""


def clean_text(value):
    """Crossref text with its newlines and runs of spaces collapsed."""
    return re.sub(r"\s+", " ", value or "").strip()


def _date_parts(work):
    for key in ("issued", "published", "published-print", "published-online", "posted", "created"):
        parts = (work.get(key) or {}).get("date-parts") or [[]]
        if parts and parts[0] and parts[0][0]:
            return [int(p) for p in parts[0] if p is not None]
    return []


def _authors(work):
    authors = []
    for person in work.get("author") or []:
        if person.get("family"):
            author = {"family": clean_text(person["family"])}
            if person.get("given"):
                author["given"] = clean_text(person["given"])
            authors.append(author)
        elif person.get("name"):
            authors.append({"literal": clean_text(person["name"])})
    return authors


def updates_from_work(work):
    """Crossref's updated-by entries, one per (type, DOI), in a compact form."""
    seen, updates = set(), []
    for entry in work.get("updated-by") or []:
        key = (entry.get("type", ""), (entry.get("DOI") or "").lower())
        if key in seen:
            continue
        seen.add(key)
        parts = (entry.get("updated") or {}).get("date-parts") or [[]]
        updates.append(
            {
                "type": entry.get("type", ""),
                "DOI": (entry.get("DOI") or "").lower(),
                "label": entry.get("label") or entry.get("type", "").replace("_", " ").capitalize(),
                "source": entry.get("source", "publisher"),
                "updated": "-".join(f"{int(p):02d}" for p in parts[0] if p is not None) if parts[0] else "",
            }
        )
    return updates


def retraction_status_for(updates):
    """The worst notice among the updates: retracted > expression of concern > corrected > none."""
    types = {u.get("type") for u in updates}
    if types & RETRACTING_UPDATES:
        return RetractionStatus.RETRACTED
    if types & CONCERN_UPDATES:
        return RetractionStatus.EXPRESSION_OF_CONCERN
    if types & CORRECTING_UPDATES:
        return RetractionStatus.CORRECTED
    return RetractionStatus.NONE


def peer_review_status_for(work_type, *, is_notice=False):
    """What the type says: a journal article is peer-reviewed unless it is itself a notice."""
    if work_type == "journal-article":
        return PeerReviewStatus.NOT_PEER_REVIEWED if is_notice else PeerReviewStatus.PEER_REVIEWED
    if work_type in NOT_PEER_REVIEWED_TYPES:
        return PeerReviewStatus.NOT_PEER_REVIEWED
    return PeerReviewStatus.UNKNOWN


def is_notice(work):
    """A work that updates another (a correction, retraction notice...) is a notice, not a study."""
    return bool(work.get("update-to"))


def fields_from_work(work):
    """Reference field values from a Crossref work message."""
    parts = _date_parts(work)
    work_type = work.get("type", "")
    updates = updates_from_work(work)
    return {
        "doi": work["DOI"].lower(),
        "title": clean_text(_first(work.get("title"))),
        "authors": _authors(work),
        "container_title": clean_text(_first(work.get("container-title")))[:500],
        "year": parts[0] if parts else None,
        "volume": clean_text(work.get("volume"))[:50],
        "issue": clean_text(work.get("issue"))[:50],
        "pages": clean_text(work.get("page") or work.get("article-number"))[:50],
        "publisher": clean_text(work.get("publisher"))[:300],
        "work_type": work_type,
        "raw_metadata": work,
        "csl": csl_from_work(work),
        "updates": updates,
        "retraction_status": retraction_status_for(updates),
        "peer_review_status": peer_review_status_for(work_type, is_notice=is_notice(work)),
    }


def csl_type(work_type):
    """The CSL type for a Crossref type id (or a CSL type passed through)."""
    if work_type in CSL_TYPES:
        return CSL_TYPES[work_type]
    if work_type in CSL_TYPE_NAMES:
        return work_type
    return "document"


def csl_from_work(work):
    """CSL-JSON for a Crossref work message."""
    work_type = work.get("type", "")
    item = {
        "id": work["DOI"].lower(),
        "type": csl_type(work_type),
        "DOI": work["DOI"].lower(),
        "title": clean_text(_first(work.get("title"))),
        "author": _authors(work),
    }
    optional = {
        "container-title": clean_text(_first(work.get("container-title"))),
        "container-title-short": clean_text(_first(work.get("short-container-title"))),
        "volume": clean_text(work.get("volume")),
        "issue": clean_text(work.get("issue")),
        "page": clean_text(work.get("page")),
        "number": clean_text(work.get("article-number")),
        "publisher": clean_text(work.get("publisher")),
        "URL": work.get("URL", ""),
        "ISSN": _first(work.get("ISSN")),
    }
    item.update({key: value for key, value in optional.items() if value})
    if work_type == "posted-content":
        item["genre"] = "Preprint" if work.get("subtype", "preprint") == "preprint" else work.get("subtype", "")
    parts = _date_parts(work)
    if parts:
        item["issued"] = {"date-parts": [parts]}
    return item

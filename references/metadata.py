"""What a Crossref work message means for us: model fields, CSL-JSON, peer-review and retraction status."""

import re

from references.choices import PeerReviewStatus, RetractionStatus

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


# Update types as real deposits spell them: case and separators vary ("Retraction",
# "expression-of-concern") and a few misspellings recur in Crossref's data.
UPDATE_TYPE_SPELLINGS = {
    "retration": "retraction", "retracion": "retraction", "retracton": "retraction", "retractoin": "retraction",
    "retracted": "retraction", "partial_retration": "partial_retraction", "partially_retracted": "partial_retraction",
    "withdrawn": "withdrawal", "withdrawl": "withdrawal", "removed": "removal",
    "errata": "erratum", "err": "erratum", "corrected": "correction", "corrections": "correction",
    "corrigenda": "corrigendum", "concern": "expression_of_concern", "expression_of_concerns": "expression_of_concern",
    "notice_of_concern": "expression_of_concern", "editorial_expression_of_concern": "expression_of_concern",
}


def normalise_update_type(value):
    """An update type in Crossref's canonical spelling: lower case, underscores, known misspellings mended."""
    key = re.sub(r"[\s\-]+", "_", str(value or "").strip().lower())
    return UPDATE_TYPE_SPELLINGS.get(key, key)


# Every update type that makes the work carrying it an editorial notice. new_version and
# new_edition link versions of one work and make nothing a notice.
NOTICE_UPDATES = RETRACTING_UPDATES | CONCERN_UPDATES | CORRECTING_UPDATES

# "Retracted:", "Erratum. ...", "Withdrawn - ...", or the bare word as the whole title; never a hyphen
# joining a word ("Withdrawal-induced anxiety" is a study).
_SEP = r"(?:\s*:|\.(?:\s|$)|\s*[\u2013\u2014]|\s+-\s|\s*$)"
# Title forms publishers use for notices deposited without relations. Words that also open study
# titles ("Correction of hyponatraemia", "Withdrawal of antidepressants") count only with a colon.
TITLE_NOTICES = [
    (re.compile(r"^(?:retracted(?: article)?|retraction(?: notice| note| statement)?|notice of retraction)" + _SEP),
     "retraction"),
    (re.compile(r"^(?:retraction (?:notice|note|statement)|notice of retraction)\s+(?:to|for|of|on|regarding)\b"),
     "retraction"),
    (re.compile(r"^retraction\s+(?:to|for)\b"), "retraction"),
    (re.compile(r"^partial retraction" + _SEP + r"|^partial retraction\s+(?:to|of|for)\b"), "partial_retraction"),
    (re.compile(r"^(?:errat(?:um|a)|published erratum)" + _SEP + r"|^errat(?:um|a)\s+(?:to|for|in|on|regarding)\b"),
     "erratum"),
    (re.compile(r"^corrigend(?:um|a)" + _SEP + r"|^corrigend(?:um|a)\s+(?:to|for|of|on|in|regarding)\b"),
     "corrigendum"),
    (re.compile(r"^(?:corrections?|correction notice|notice of correction|author correction|publisher correction)"
                + _SEP + r"|^(?:correction|correction notice|notice of correction|author correction|"
                r"publisher correction)\s+(?:to|for|regarding)\b"), "correction"),
    (re.compile(r"^(?:editorial )?(?:expression|notice|statement) of (?:editorial )?concern\b"),
     "expression_of_concern"),
    (re.compile(r"^(?:withdrawn|withdrawal|withdrawal notice|notice of withdrawal)" + _SEP
                + r"|^(?:withdrawal notice|notice of withdrawal)\s+(?:to|for|of|on|regarding)\b"), "withdrawal"),
    (re.compile(r"^(?:removed|removal notice|notice of removal)" + _SEP
                + r"|^(?:removal notice|notice of removal)\s+(?:to|for|of|on|regarding)\b"), "removal"),
]


def notice_kind_from_title(title):
    """The kind of notice a title announces ("Retracted: ...", "Erratum to ..."), or ""."""
    text = re.sub(r"<[^>]+>", "", str(title or ""))  # Crossref titles carry markup
    text = re.sub(r"\s+", " ", text).strip().lower()
    for pattern, kind in TITLE_NOTICES:
        if pattern.search(text):
            return kind
    return ""


def notice_kind_for(work):
    """The kind of editorial notice a Crossref work is (retraction, correction, ...), or "" for a work.

    From its update-to relations (ignoring any that name the work itself, as Elsevier deposits, and
    relations such as new_version that are no notice), then its type or subtype, then its title.
    """
    own_doi = str(work.get("DOI") or "").strip().lower()
    for entry in work.get("update-to") or []:
        if not isinstance(entry, dict):
            continue
        if str(entry.get("DOI") or "").strip().lower() == own_doi and own_doi:
            continue
        kind = normalise_update_type(entry.get("type"))
        if kind in NOTICE_UPDATES:
            return kind
    for key in ("subtype", "type"):
        kind = normalise_update_type(work.get(key))
        if kind in NOTICE_UPDATES:
            return kind
    for title in work.get("title") or []:
        kind = notice_kind_from_title(title)
        if kind:
            return kind
    return ""


def updates_from_work(work):
    """Crossref's updated-by entries, one per (type, DOI), in a compact form with the type's canonical spelling."""
    seen, updates = set(), []
    for entry in work.get("updated-by") or []:
        kind = normalise_update_type(entry.get("type"))
        key = (kind, (entry.get("DOI") or "").lower())
        if key in seen:
            continue
        seen.add(key)
        parts = (entry.get("updated") or {}).get("date-parts") or [[]]
        updates.append(
            {
                "type": kind,
                "DOI": (entry.get("DOI") or "").lower(),
                "label": entry.get("label") or kind.replace("_", " ").capitalize(),
                "source": entry.get("source", "publisher"),
                "updated": "-".join(f"{int(p):02d}" for p in parts[0] if p is not None) if parts[0] else "",
            }
        )
    return updates


def retraction_status_for(updates):
    """The worst notice among the updates: retracted > expression of concern > corrected > none."""
    types = {normalise_update_type(u.get("type")) for u in updates}
    if types & RETRACTING_UPDATES:
        return RetractionStatus.RETRACTED
    if types & CONCERN_UPDATES:
        return RetractionStatus.EXPRESSION_OF_CONCERN
    if types & CORRECTING_UPDATES:
        return RetractionStatus.CORRECTED
    return RetractionStatus.NONE


def peer_review_status_for(work_type, *, is_notice=False):
    """What the type says: a journal article is peer-reviewed unless it is itself a notice; a notice never is."""
    if is_notice:
        return PeerReviewStatus.NOT_PEER_REVIEWED
    if work_type == "journal-article":
        return PeerReviewStatus.PEER_REVIEWED
    if work_type in NOT_PEER_REVIEWED_TYPES:
        return PeerReviewStatus.NOT_PEER_REVIEWED
    return PeerReviewStatus.UNKNOWN


def is_notice(work):
    """A retraction, correction, erratum, withdrawal or concern notice is not a study, relations or not."""
    return bool(notice_kind_for(work))


def fields_from_work(work):
    """Reference field values from a Crossref work message."""
    parts = _date_parts(work)
    work_type = work.get("type", "")
    updates = updates_from_work(work)
    notice_kind = notice_kind_for(work)
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
        "notice_kind": notice_kind,
        "peer_review_status": peer_review_status_for(work_type, is_notice=bool(notice_kind)),
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

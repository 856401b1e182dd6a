"""Every call to PubMed (NCBI E-utilities) goes through here.

HTTP goes through the shared bounded reader (references.http): one deadline for the whole call,
retries included, and a size cap on each answer. The call also draws on the operation's time budget
(references.budget), the one Crossref's calls share: no request, retry wait or rate-limiter wait goes past
what is left of it, and a spent budget is "PubMed unavailable" (BudgetSpent). NCBI's limits are kept
for the whole process by one rate limiter (3 requests a second, 10 with an API key), and every request
names the tool and a contact address as NCBI asks.

efetch's PubMed XML is parsed with ElementTree through defusedxml, not Bio.Entrez, metapub or eutils
(README, "Libraries and why"): Bio.Entrez.read downloads any DTD it does not ship with its own
unbounded urllib call from inside the parser, and all three bring their own HTTP and throttling that
would bypass the bounded reader. defusedxml refuses entity declarations and external references
outright (NCBI's answers have neither, only a DOCTYPE naming the DTD), and the answer is size-capped
before it is parsed.
"""

import re
import threading
import time
from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as ET  # noqa: N817 - ElementTree's usual short name
from django.conf import settings

from references import budget, http

# One PubMed record is a few kB to a few hundred kB (long author and reference lists).
MAX_BYTES = 5 * 1024 * 1024
RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 1.0

# Tests replace these so rate limiting and retries cost no time.
sleep = time.sleep


class PubMedError(Exception):
    """PubMed could not give us the record; the message says why."""


class RecordNotFound(PubMedError):
    """PubMed has no record with this identifier."""


class PubMedUnavailable(PubMedError):
    """PubMed could not be reached, timed out, sent too much, or kept refusing (rate limit, server error)."""


class BudgetSpent(PubMedUnavailable):
    """The operation's time budget ran out before PubMed was asked (or could answer)."""


class PubMedBadResponse(PubMedError):
    """PubMed answered, but not with a record."""


class InvalidPubMedId(ValueError):
    """The text is not a PMID, a PMCID, or a PubMed or PMC link."""


# Identifiers ---------------------------------------------------------------

_PMID_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PMC_URL = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:ncbi\.nlm\.nih\.gov/pmc/articles/|pmc\.ncbi\.nlm\.nih\.gov/articles/)"
    r"(PMC\d+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_PMID_LABEL = re.compile(r"^pmid\s*:?\s*(\S+)$", re.IGNORECASE)
_PMCID_LABEL = re.compile(r"^pmcid\s*:?\s*(\S+)$", re.IGNORECASE)
_PMCID = re.compile(r"^PMC(\d{1,9})$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d{1,9}$")


@dataclass(frozen=True)
class PubMedId:
    kind: str  # "pmid" or "pmcid"
    value: str  # "12345678" or "PMC1234567"

    def __str__(self):
        return f"PMID {self.value}" if self.kind == "pmid" else self.value


def looks_like_pubmed_id(text):
    """True when the text is meant as a PubMed identifier (a label, a PMC id or a PubMed/PMC link)."""
    text = (text or "").strip()
    return bool(
        _PMID_LABEL.match(text) or _PMCID_LABEL.match(text) or _PMC_URL.match(text) or _PMID_URL.match(text)
        or re.match(r"^PMC\S*$", text, re.IGNORECASE) or _DIGITS.match(text)
    )


def parse_pubmed_id(raw):
    """A PubMedId from "PMID: 123", "pmid:123", "123", "PMC1234567" or a PubMed or PMC link."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPubMedId("Give a PMID (PMID: 12345678) or a PMCID (PMC1234567).")
    match = _PMID_URL.match(text)
    if match:
        return PubMedId("pmid", _pmid_digits(match.group(1), raw))
    match = _PMC_URL.match(text)
    if match:
        return PubMedId("pmcid", _pmcid(match.group(1), raw))
    match = _PMID_LABEL.match(text)
    if match:
        return PubMedId("pmid", _pmid_digits(match.group(1), raw))
    match = _PMCID_LABEL.match(text)
    if match:
        return PubMedId("pmcid", _pmcid(match.group(1), raw))
    if text.upper().startswith("PMC"):
        return PubMedId("pmcid", _pmcid(text, raw))
    return PubMedId("pmid", _pmid_digits(text, raw))


def pubmed_id_from_link(url):
    """The PubMedId a PubMed or PMC link names (InvalidPubMedId if its number is not one), or None."""
    url = (url or "").strip()
    if _PMID_URL.match(url) or _PMC_URL.match(url):
        return parse_pubmed_id(url)
    return None


def _pmid_digits(text, raw):
    if not _DIGITS.match(text) or not text.isascii():
        raise InvalidPubMedId(f"{raw.strip()!r} is not a PMID: a PMID is 1 to 9 digits (0-9), like 23121403.")
    if int(text) == 0:
        raise InvalidPubMedId(f"{raw.strip()!r} is not a PMID: PMIDs start at 1.")
    return str(int(text))


def _pmcid(text, raw):
    match = _PMCID.match(text)
    if not match or not text.isascii():
        raise InvalidPubMedId(f"{raw.strip()!r} is not a PMCID: a PMCID is PMC followed by digits, like PMC2614320.")
    return f"PMC{int(match.group(1))}"


# Rate limiting -------------------------------------------------------------


class RateLimiter:
    """At most ``rate()`` requests a second across every thread of the process.

    Each caller reserves the next free slot under a lock and then sleeps until it, so concurrent
    callers are spaced out instead of all waking at once.
    """

    def __init__(self, *, clock=time.monotonic, sleeper=None):
        self.clock = clock
        self.sleeper = sleeper
        self._next_slot = None
        self._lock = threading.Lock()

    @staticmethod
    def rate():
        return 10.0 if settings.NCBI_API_KEY else 3.0

    def wait(self, *, at_most=None):
        """Sleep until this caller's slot; returns the delay, or None (no slot taken) when over ``at_most``."""
        interval = 1.0 / self.rate()
        with self._lock:
            now = self.clock()
            slot = now if self._next_slot is None else max(now, self._next_slot)
            delay = slot - now
            if at_most is not None and delay > at_most:
                return None
            self._next_slot = slot + interval
        if delay > 0:
            (self.sleeper or sleep)(delay)
        return delay

    def reset(self):
        with self._lock:
            self._next_slot = None


limiter = RateLimiter()


# Requests ------------------------------------------------------------------


def _endpoint(name):
    return f"{settings.NCBI_API_URL.rstrip('/')}/{name}"


def _identify(params):
    params = {**params, "tool": settings.NCBI_TOOL}
    if settings.NCBI_EMAIL:
        params["email"] = settings.NCBI_EMAIL
    if settings.NCBI_API_KEY:
        params["api_key"] = settings.NCBI_API_KEY
    return params


def _retry_delay(answer, attempt):
    retry_after = answer.headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return float(retry_after)
    return BACKOFF_BASE_SECONDS * 2**attempt


def _get(name, params, what_for):
    """One E-utilities call, retried on 429/5xx while the deadline allows; returns the Answer."""
    deadline = float(settings.NCBI_TIMEOUT)
    started = http.monotonic()
    url = _endpoint(name)
    params = _identify(params)
    last_status = None
    for attempt in range(MAX_ATTEMPTS):
        remaining = deadline - (http.monotonic() - started)
        if remaining <= 0:
            break
        left = budget.remaining()
        if left is not None and left < budget.MIN_CALL_SECONDS:
            raise BudgetSpent(f"{budget.spent_message()} (PubMed was not asked for {what_for}).")
        if limiter.wait(at_most=None if left is None else left - budget.MIN_CALL_SECONDS) is None:
            raise BudgetSpent(
                f"{budget.spent_message()} (PubMed was not asked for {what_for}: NCBI's rate limit would have "
                "kept it waiting past the budget)."
            )
        remaining = deadline - (http.monotonic() - started)
        if remaining <= 0:
            break
        try:
            answer = http.get(url, params=params, deadline_seconds=remaining, max_bytes=MAX_BYTES, what="PubMed")
        except http.BudgetSpent as exc:
            if not exc.asked:
                raise BudgetSpent(f"{exc.spent} (PubMed was not asked for {what_for}).") from exc
            raise BudgetSpent(
                f"PubMed did not finish its answer for {what_for} in the {exc.seconds:.1f} seconds left; {exc.spent}."
            ) from exc
        except http.DeadlineExceeded as exc:
            # The reader was given what was left of our deadline; name the whole deadline instead.
            raise PubMedUnavailable(
                f"PubMed did not finish answering within {deadline:g} seconds ({what_for})."
            ) from exc
        except http.OutsideCallError as exc:
            raise PubMedUnavailable(f"{exc} ({what_for})") from exc
        if answer.status not in RETRY_STATUSES and not _rate_limited(answer):
            return answer
        last_status = answer.status
        if attempt + 1 < MAX_ATTEMPTS:
            delay = _retry_delay(answer, attempt)
            if delay >= deadline - (http.monotonic() - started):
                break
            if not budget.may_wait(delay):
                raise BudgetSpent(
                    f"PubMed answered {last_status} for {what_for} and asks to wait {delay:g} seconds, more than the "
                    f"{max(budget.remaining(), 0):.1f} left; {budget.spent_message()}."
                )
            sleep(delay)
    if last_status is None:
        raise PubMedUnavailable(f"PubMed did not answer within {deadline:g} seconds ({what_for}).")
    what = "rate limit" if last_status == 429 else "server error"
    raise PubMedUnavailable(
        f"PubMed answered {last_status} ({what}) and kept refusing within {deadline:g} seconds ({what_for}); "
        "try again later."
    )


def _rate_limited(answer):
    # Over its limit NCBI may also answer 200 with {"error": "API rate limit exceeded", ...}.
    return answer.status == 200 and answer.body[:200].lstrip().startswith(b"{") and b"rate limit" in answer.body[:200]


# Records -------------------------------------------------------------------

# CommentsCorrections RefType -> the update type it records on this work (the Crossref vocabulary).
UPDATE_RELATIONS = {
    "RetractionIn": "retraction",
    "RetractedandRepublishedIn": "retraction",
    "PartialRetractionIn": "partial_retraction",
    "ExpressionOfConcernIn": "expression_of_concern",
    "ErratumIn": "erratum",
    "CorrectedandRepublishedIn": "correction",
}
# RefType -> the kind of notice this work itself is.
NOTICE_RELATIONS = {
    "RetractionOf": "retraction",
    "RetractedandRepublishedFrom": "retraction",
    "PartialRetractionOf": "partial_retraction",
    "ExpressionOfConcernFor": "expression_of_concern",
    "ErratumFor": "erratum",
}
# Publication types that make a record itself a notice.
NOTICE_TYPES = {
    "Retraction of Publication": "retraction",
    "Published Erratum": "erratum",
    "Expression of Concern": "expression_of_concern",
}
# Publication types that put a notice on this work even without a relation.
UPDATE_TYPES = {"Retracted Publication": "retraction"}

@dataclass
class PubMedRecord:
    pmid: str
    title: str = ""
    authors: list = field(default_factory=list)
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmcid: str = ""
    abstract: str = ""
    publication_types: list = field(default_factory=list)
    mesh_terms: list = field(default_factory=list)
    # [{"type": RefType, "source": RefSource, "pmid": ...}] from CommentsCorrectionsList.
    relations: list = field(default_factory=list)

    def as_json(self):
        """What is stored as the reference's pubmed_metadata."""
        return {
            "pmid": self.pmid, "title": self.title, "authors": self.authors, "journal": self.journal,
            "year": self.year, "volume": self.volume, "issue": self.issue, "pages": self.pages, "doi": self.doi,
            "pmcid": self.pmcid, "abstract": self.abstract, "publication_types": self.publication_types,
            "mesh_terms": self.mesh_terms, "relations": self.relations,
        }

    @property
    def notice_kind(self):
        """Non-empty when this record is itself a retraction, erratum or expression-of-concern notice."""
        for name in self.publication_types:
            if name in NOTICE_TYPES:
                return NOTICE_TYPES[name]
        for relation in self.relations:
            if relation["type"] in NOTICE_RELATIONS:
                return NOTICE_RELATIONS[relation["type"]]
        return ""

    @property
    def is_preprint(self):
        return "Preprint" in self.publication_types

    def updates(self):
        """The notices on this work, in the form Reference.updates keeps them, with source "pubmed"."""
        updates, seen = [], set()
        for relation in self.relations:
            kind = UPDATE_RELATIONS.get(relation["type"])
            if not kind:
                continue
            doi = _doi_in(relation.get("source", ""))
            key = (kind, relation.get("pmid") or doi or relation.get("source", ""))
            if key in seen:
                continue
            seen.add(key)
            label = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", relation["type"]).capitalize()
            updates.append({
                "type": kind, "DOI": doi, "label": f"{label}: {relation.get('source', '')}".strip(": "),
                "source": "pubmed", "updated": "", "pmid": relation.get("pmid", ""),
            })
        kinds = {u["type"] for u in updates}
        for name in self.publication_types:
            kind = UPDATE_TYPES.get(name)
            if kind and kind not in kinds:
                updates.append({"type": kind, "DOI": "", "label": f"{name} (PubMed)", "source": "pubmed",
                                "updated": "", "pmid": ""})
                kinds.add(kind)
        return updates


def _doi_in(text):
    match = re.search(r"\b(10\.\d{4,9}/\S+?)\.?(?:\s|$)", text or "")
    return match.group(1).lower() if match else ""


def _text(element):
    """An element's text with its inline markup (<i>, <sup>...) flattened and spaces collapsed."""
    if element is None:
        return ""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def _year(article):
    pub_date = article.find("Journal/JournalIssue/PubDate")
    for candidate in (
        pub_date.findtext("Year") if pub_date is not None else None,
        pub_date.findtext("MedlineDate") if pub_date is not None else None,
        article.findtext("ArticleDate/Year"),
    ):
        match = re.search(r"\b(1[6-9]\d\d|2\d\d\d)\b", candidate or "")
        if match:
            return int(match.group(1))
    return None


def _authors(article):
    authors = []
    for author in article.findall("AuthorList/Author"):
        if author.get("ValidYN", "Y") != "Y":
            continue
        family = _text(author.find("LastName"))
        if family:
            entry = {"family": family}
            given = _text(author.find("ForeName")) or _text(author.find("Initials"))
            if given:
                entry["given"] = given
            authors.append(entry)
        elif _text(author.find("CollectiveName")):
            authors.append({"literal": _text(author.find("CollectiveName"))})
    return authors


def _pages(article):
    medline = _text(article.find("Pagination/MedlinePgn"))
    start, end = _text(article.find("Pagination/StartPage")), _text(article.find("Pagination/EndPage"))
    if start:
        return f"{start}-{end}" if end and end != start else start
    if medline:
        return medline
    for location in article.findall("ELocationID"):
        if location.get("EIdType") == "pii":
            return _text(location)
    return ""


def _abstract(article):
    sections = []
    for part in article.findall("Abstract/AbstractText"):
        text = _text(part)
        if not text:
            continue
        label = (part.get("Label") or "").strip()
        sections.append(f"{label.capitalize() if label.isupper() else label}: {text}" if label else text)
    return "\n\n".join(sections)


def record_from_article(node):
    """A PubMedRecord from one <PubmedArticle> element."""
    citation = node.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    if citation is None or article is None:
        raise PubMedBadResponse("PubMed's answer has an article without a citation.")
    pmid = _text(citation.find("PMID"))
    ids = {i.get("IdType"): _text(i) for i in node.findall("PubmedData/ArticleIdList/ArticleId")}
    doi = ids.get("doi", "")
    if not doi:
        for location in article.findall("ELocationID"):
            if location.get("EIdType") == "doi" and location.get("ValidYN", "Y") == "Y":
                doi = _text(location)
    relations = []
    for entry in citation.findall("CommentsCorrectionsList/CommentsCorrections"):
        relations.append({
            "type": entry.get("RefType", ""), "source": _text(entry.find("RefSource")),
            "pmid": _text(entry.find("PMID")),
        })
    return PubMedRecord(
        pmid=pmid,
        title=_text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle")),
        authors=_authors(article),
        journal=_text(article.find("Journal/Title"))[:500],
        year=_year(article),
        volume=_text(article.find("Journal/JournalIssue/Volume"))[:50],
        issue=_text(article.find("Journal/JournalIssue/Issue"))[:50],
        pages=_pages(article)[:50],
        doi=doi.lower(),
        pmcid=ids.get("pmc", ""),
        abstract=_abstract(article),
        publication_types=[_text(t) for t in article.findall("PublicationTypeList/PublicationType") if _text(t)],
        mesh_terms=[_text(d) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName") if _text(d)],
        relations=relations,
    )


def parse_efetch(body, pmid):
    """The record for ``pmid`` in an efetch XML answer; raises RecordNotFound or PubMedBadResponse."""
    try:
        root = ET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except ET.ParseError as exc:
        raise PubMedBadResponse(f"PubMed's answer for PMID {pmid} is not readable XML ({exc}).") from exc
    except DefusedXmlException as exc:
        raise PubMedBadResponse(
            f"PubMed's answer for PMID {pmid} declares XML entities, which PubMed never sends; it was not read."
        ) from exc
    if root.tag == "PubmedArticle":
        articles = [root]
    elif root.tag == "PubmedArticleSet":
        articles = root.findall("PubmedArticle")
        if not articles and root.find("PubmedBookArticle") is not None:
            raise PubMedBadResponse(
                f"PMID {pmid} is a book or book chapter in NCBI Bookshelf; add it by its DOI or URL instead."
            )
    elif root.tag == "eFetchResult":
        message = _text(root.find("ERROR")) or "no record"
        raise RecordNotFound(f"PubMed has no record with PMID {pmid} ({message}).")
    else:
        raise PubMedBadResponse(f"PubMed's answer for PMID {pmid} is not a PubMed record (got <{root.tag}>).")
    for node in articles:
        record = record_from_article(node)
        if record.pmid == pmid:
            return record
    raise RecordNotFound(f"PubMed has no record with PMID {pmid}.")


def fetch_record(pmid):
    """The PubMedRecord for a PMID (digits); raises a PubMedError subclass."""
    pmid = str(pmid)
    answer = _get("efetch.fcgi", {"db": "pubmed", "id": pmid, "retmode": "xml"}, f"PMID {pmid}")
    if answer.status in (400, 404):
        raise RecordNotFound(f"PubMed has no record with PMID {pmid} (status {answer.status}).")
    if answer.status != 200:
        raise PubMedBadResponse(
            f"PubMed refused the request for PMID {pmid} with status {answer.status}: {answer.text[:200].strip()!r}."
        )
    return parse_efetch(answer.body, pmid)


def pmid_for_pmcid(pmcid):
    """The PMID of a PubMed Central article, through esearch on ``PMCxxxx[pmcid]``."""
    answer = _get(
        "esearch.fcgi", {"db": "pubmed", "term": f"{pmcid}[pmcid]", "retmode": "json"}, pmcid,
    )
    if answer.status != 200:
        raise PubMedBadResponse(f"PubMed refused the search for {pmcid} with status {answer.status}.")
    try:
        result = answer.json()["esearchresult"]
        ids = [str(i) for i in result.get("idlist", [])]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PubMedBadResponse(f"PubMed's search answer for {pmcid} is not an esearch result.") from exc
    if not ids:
        raise RecordNotFound(f"PubMed has no article with the PMCID {pmcid}.")
    if len(ids) > 1:
        raise PubMedBadResponse(f"PubMed found {len(ids)} articles for {pmcid}; expected one.")
    return ids[0]


def fetch_by_id(pubmed_id):
    """The record for a PubMedId (a PMID or a PMCID)."""
    pmid = pubmed_id.value if pubmed_id.kind == "pmid" else pmid_for_pmcid(pubmed_id.value)
    return fetch_record(pmid)


def pubmed_url(pmid):
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def pmc_url(pmcid):
    return f"https://pmc.ncbi.nlm.nih.gov/articles/{pmcid}/"

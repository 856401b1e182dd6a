"""The publish gate: every reason an article cannot go live, each saying where and why.

The admin, the review queue, ``check_article``, ``workflow.publish`` and scheduled
publishing all ask this module; none of them re-implements a rule. Loading is a
constant number of queries whatever the article's size (see ``load_content``).
"""

import hashlib
import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Prefetch

from articles.models import Article, Citation, Claim, ContentChange, Section
from references.models import EvidenceLevel, PeerReviewStatus

EXCERPT_LENGTH = 80

# Blockers an approval can clear; every other blocker is about the content
# itself, and a reviewer cannot approve content that has one.
APPROVAL_CODES = frozenset({"no_approval", "stale_approval", "self_approval", "no_reviewer_credit", "rereview_pending"})


@dataclass(frozen=True)
class Blocker:
    code: str
    message: str
    section_heading: str = ""
    claim_number: int | None = None
    excerpt: str = ""

    def __str__(self):
        where = []
        if self.section_heading:
            where.append(f'section "{self.section_heading}"')
        if self.claim_number is not None:
            where.append(f"claim {self.claim_number}")
        place = ", ".join(where)
        if self.excerpt:
            place = f"{place} ({self.excerpt})".strip()
        return f"{place}: {self.message}" if place else self.message


@dataclass
class LoadedClaim:
    claim: Claim
    number: int
    section: Section
    citations: list  # of Citation, each with .reference loaded

    @property
    def excerpt(self):
        return excerpt(self.claim.text)


@dataclass
class ArticleContent:
    """An article's working copy, loaded once, with claims numbered as readers count them."""

    article: Article
    sections: list
    claims: list = field(default_factory=list)  # of LoadedClaim, in reading order
    author_ids: frozenset = frozenset()

    @property
    def context_statements(self):
        return [c for c in self.claims if c.claim.is_context]

    @property
    def factual_claims(self):
        return [c for c in self.claims if not c.claim.is_context]

    @property
    def references(self):
        """Each cited reference once, in order of first citation."""
        seen = {}
        for loaded in self.claims:
            for citation in loaded.citations:
                seen.setdefault(citation.reference_id, citation.reference)
        return list(seen.values())


def excerpt(text):
    """The claim's words in quotation marks, cut at a word near EXCERPT_LENGTH, every quotation closed."""
    text = " ".join(text.split())
    if len(text) <= EXCERPT_LENGTH:
        return f"“{text}”"
    cut = text[:EXCERPT_LENGTH - 1]
    space = cut.rfind(" ")
    if space >= EXCERPT_LENGTH // 2:
        cut = cut[:space]
    cut = cut.rstrip(" ,;:") + "…"
    # A cut inside a quotation would leave it open, and the reader could not tell where it ends.
    cut += "”" * max(cut.count("“") - cut.count("”"), 0)
    if cut.count('"') % 2:
        cut += '"'
    return f"“{cut}”"


# What is left of a citation marker in a claim's words: "[3]", "[2-4]", "[^8]", "[doi:...",
# "[@pmid:...", a bracketed link. Markers are read when text is pasted or imported; one typed
# into a claim afterwards would reach readers as words while the gate counted other sources.
LEFTOVER_MARKER = re.compile(
    r"\[\s*(?:\^?\d+(?:\s*[-–—,;]\s*\d+)*\s*\]|@?(?:doi|pmid|pmcid)\s*:|@[\w.-]+:|https?://|(?:dx\.)?doi\.org/)",
    re.IGNORECASE,
)


def leftover_marker(text):
    """The citation marker left in ``text`` (up to its "]" or 60 characters), or "" when there is none."""
    found = LEFTOVER_MARKER.search(text)
    if not found:
        return ""
    end = text.find("]", found.start(), found.start() + 60)
    return text[found.start():end + 1] if end >= 0 else text[found.start():found.start() + 60].rstrip() + "…"


def load_content(article):
    """Sections, claims, citations and references in four queries, plus one for the authors."""
    sections = list(
        Section.objects.filter(article=article).prefetch_related(
            Prefetch(
                "claims",
                queryset=Claim.objects.prefetch_related(
                    Prefetch("citations", queryset=Citation.objects.select_related("reference"))
                ),
            )
        )
    )
    content = ArticleContent(
        article=article,
        sections=sections,
        author_ids=frozenset(article.authors.values_list("pk", flat=True)),
    )
    number = 0
    shared = {}
    for section in sections:
        for claim in section.claims.all():
            number += 1
            citations = list(claim.citations.all())
            for citation in citations:
                # One instance per reference, so whatever a caller attaches to it shows everywhere it is cited.
                citation.reference = shared.setdefault(citation.reference_id, citation.reference)
            content.claims.append(LoadedClaim(claim, number, section, citations))
    return content


def _fingerprint_payload(content):
    article = content.article
    return {
        "title": article.title,
        "summary": article.summary,
        "byline": article.byline,
        "disclosure": article.disclosure,
        "sections": [
            {
                "heading": section.heading,
                "claims": [
                    {
                        "text": claim.text,
                        "is_context": claim.is_context,
                        "citations": [
                            # The reference's identity, not its metadata: fixing a
                            # typo in a journal title does not void an approval.
                            [c.reference_id, c.reference.doi or "", c.reference.url, c.locator]
                            for c in claim.citations.all()
                        ],
                    }
                    for claim in section.claims.all()
                ],
            }
            for section in content.sections
        ],
    }


def content_fingerprint(article, content=None):
    """SHA-256 of exactly what would go live: the words, their order, and what each claim cites."""
    content = content or load_content(article)
    payload = json.dumps(_fingerprint_payload(content), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def _why_unsupported(reference):
    if reference.is_retracted:
        return "retracted"
    if reference.notice_kind:
        return f"an editorial notice ({reference.notice_kind.replace('_', ' ')}), not a study"
    reasons = []
    if not reference.is_verified:
        reasons.append("unverified (entered by hand; verify it or fetch it from Crossref)")
    status = reference.effective_peer_review_status
    if status == PeerReviewStatus.NOT_PEER_REVIEWED:
        reasons.append("not peer-reviewed")
    elif status == PeerReviewStatus.UNKNOWN:
        reasons.append("peer-review status unknown")
    return " and ".join(reasons) or "does not count as support"


# Evidence too weak to carry a health claim alone: the review page warns, and WEAK_EVIDENCE_BLOCKS blocks.
WEAK_EVIDENCE_LEVELS = frozenset({EvidenceLevel.ANIMAL, EvidenceLevel.IN_VITRO, EvidenceLevel.CASE_REPORT})


def weak_evidence_only(loaded):
    """Whether every source that supports this claim is an animal, in-vitro or case-report study."""
    supporting = [c.reference for c in loaded.citations if c.reference.counts_as_support]
    return bool(supporting) and all(ref.evidence_level in WEAK_EVIDENCE_LEVELS for ref in supporting)


def _marker_blockers(content):
    for loaded in content.claims:
        marker = leftover_marker(loaded.claim.text)
        if marker:
            yield Blocker(
                "marker_in_text",
                f"a citation marker was left in the words ({marker}): delete it and choose the source under "
                "Sources, so readers see the citation and not the marker.",
                section_heading=loaded.section.heading, claim_number=loaded.number, excerpt=loaded.excerpt,
            )


def _claim_blockers(content):
    for loaded in content.factual_claims:
        where = {
            "section_heading": loaded.section.heading,
            "claim_number": loaded.number,
            "excerpt": loaded.excerpt,
        }
        if not loaded.citations:
            yield Blocker("uncited_claim", "cites no source.", **where)
            continue
        if not any(c.reference.counts_as_support for c in loaded.citations):
            reasons = "; ".join(
                f"{c.reference.doi or c.reference.url} is {_why_unsupported(c.reference)}" for c in loaded.citations
            )
            yield Blocker("unsupported_claim", f"no source supports it ({reasons}).", **where)
        elif settings.WEAK_EVIDENCE_BLOCKS and weak_evidence_only(loaded):
            yield Blocker("weak_evidence_only", "its only support is animal, in-vitro or case-report evidence.",
                          **where)


def _article_blockers(content):
    article = content.article
    if not content.claims:
        yield Blocker("empty_article", "The article has no claims.")
    if not article.byline.strip():
        yield Blocker("no_byline", "The byline is missing: readers must see who wrote it, with credentials.")
    if not article.summary.strip():
        yield Blocker("no_summary", "The summary is missing.")


def content_changers(article, since):
    """The ids of the users who changed ``article``'s content after ``since`` (every change when None).

    Each of them counts as an author of the approval that follows, whatever the authors list says.
    """
    changes = ContentChange.objects.filter(article=article).exclude(user=None)
    if since is not None:
        changes = changes.filter(at__gt=since)
    return frozenset(changes.values_list("user_id", flat=True).distinct())


def _approval_blockers(content, fingerprint):
    article = content.article
    if not article.approved_fingerprint or article.approved_by_id is None:
        yield Blocker("no_approval", "No reviewer has approved this content.")
        return
    if article.approved_fingerprint != fingerprint:
        yield Blocker(
            "stale_approval",
            "The content changed after it was approved: a reviewer must approve this version.",
        )
    if article.approved_by_id in content.author_ids:
        yield Blocker("self_approval", "It was approved by one of its own authors.")
    elif article.approved_by_id in content_changers(article, article.approved_changes_since):
        yield Blocker(
            "self_approval",
            f"It was approved by {article.approved_by}, who changed its content since the previous approval: "
            "another reviewer must approve it.",
        )
    if not article.approved_credit_name.strip() or not article.approved_credit_credentials.strip():
        yield Blocker(
            "no_reviewer_credit",
            "The approving reviewer had no name and credentials to show readers when approving (add a reviewer "
            "profile, then approve again).",
        )
    flagged_at = article.rereview_flagged_at
    if article.needs_rereview and flagged_at is not None and (
        article.approved_at is None or article.approved_at <= flagged_at
    ):
        reason = " ".join(article.rereview_reason.split()) or "a cited source changed"
        yield Blocker(
            "rereview_pending",
            f"It was flagged for re-review after this approval ({reason}): a reviewer must approve it again.",
        )


def _with_reviewer(article):
    """Re-read the article and its approver in one query, so the gate never trusts a stale in-memory copy."""
    return Article.objects.select_related("approved_by").get(pk=article.pk)


def content_blockers(content):
    """Blockers in the content itself: what must be fixed before anyone may approve it."""
    return [*_article_blockers(content), *_claim_blockers(content), *_marker_blockers(content)]


def publish_blockers(article, content=None):
    """Every reason the article cannot be published now; an empty list means it can."""
    if content is None:
        content = load_content(_with_reviewer(article))
    fingerprint = content_fingerprint(content.article, content)
    return [*content_blockers(content), *_approval_blockers(content, fingerprint)]


@dataclass
class GateReport:
    """What editors and reviewers see: the blockers plus the context statements a reviewer must check."""

    content: ArticleContent
    fingerprint: str
    blockers: list

    @property
    def context_statements(self):
        return self.content.context_statements

    @property
    def claim_count(self):
        return len(self.content.claims)


def check(article):
    """The gate's full report for one article (blockers, context statements, fingerprint)."""
    content = load_content(_with_reviewer(article))
    return GateReport(
        content=content,
        fingerprint=content_fingerprint(content.article, content),
        blockers=publish_blockers(content.article, content),
    )

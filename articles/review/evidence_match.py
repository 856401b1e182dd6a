"""Each claim beside its evidence: the sentences of a cited abstract that best match the claim.

A reviewer reads a claim and, next to it, the abstract of every source it cites, split into sentences, with the
one or two that best match the claim marked. The ranking is BM25 (bm25s) over the abstract's own sentences, so a
word that every sentence of the abstract uses counts for little and the sentence that shares the claim's rarer
words (a drug, a figure, an outcome) comes first. When an abstract shares none of the claim's key terms the
review page says to check that the source discusses the claim at all: a cheap catch for a citation pasted
against the wrong sentence. It never decides anything; the reviewer does. What it reads of the text (sentences,
labels, tokens, the caps on hostile input) is articles.review.evidence_text.
"""

import logging
from dataclasses import dataclass, field

import bm25s
from django.db.models import Prefetch, prefetch_related_objects

from articles.models import Citation
from articles.review.evidence_text import (
    abbreviations, abstract_of, claim_text, key_terms, split_abstract, tokenize, with_abbreviations,
)

# bm25s logs every index it builds at DEBUG; one per abstract is noise in any log.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# A second sentence is marked only when it scores nearly as well as the best.
SECOND_SENTENCE_RATIO = 0.8
MAX_HIGHLIGHTS = 2


@dataclass(frozen=True)
class SourceEvidence:
    """What one cited source's abstract offers one claim."""

    reference: object
    sentences: tuple = ()
    # Indices into sentences of the best one or two, best first; empty when nothing matches.
    highlighted: tuple = ()
    # Every sentence's index, best first (ties keep the abstract's order).
    ranking: tuple = ()
    key_terms: tuple = ()
    shared_terms: tuple = ()
    has_abstract: bool = False
    # False when the source has an abstract and it shares none of the claim's key terms.
    discusses_claim: bool = True
    truncated: bool = False
    scores: tuple = field(default=(), repr=False)

    @property
    def rows(self):
        """(sentence, highlighted) pairs in the abstract's order, for the template."""
        marked = set(self.highlighted)
        return [(sentence, index in marked) for index, sentence in enumerate(self.sentences)]

    @property
    def missing_terms(self):
        """The claim's key terms the abstract does not use."""
        shared = set(self.shared_terms)
        return tuple(term for term in self.key_terms if term not in shared)


def _rank(query, sentence_tokens):
    """BM25 score of each sentence for the query tokens, over the abstract's sentences as the corpus."""
    if not query or not any(sentence_tokens):
        return [0.0] * len(sentence_tokens)
    retriever = bm25s.BM25()
    # An empty sentence (a bare label, a figure) still holds its place so indices stay the abstract's.
    retriever.index([tokens or [""] for tokens in sentence_tokens], show_progress=False)
    return [float(score) for score in retriever.get_scores(query)]


# Citing sentences report findings: a sentence under a structured abstract's background or methods label is
# rarely what a claim rests on, so it needs a clearly better match to come first.
SETUP_LABELS = frozenset({
    "background", "backgrounds", "introduction", "context", "rationale", "purpose", "purposes", "aim", "aims",
    "aims and objectives", "objective", "objectives", "goal", "goals", "importance", "method", "methods",
    "methodology", "materials and methods", "methods and materials", "design", "study design", "setting",
    "settings", "design, setting, and participants", "participants", "patients", "subjects", "population",
    "data sources", "study selection", "data extraction", "data extraction and synthesis", "data collection",
    "data analysis", "search methods", "selection criteria", "eligibility criteria", "inclusion criteria",
    "procedure", "procedures", "review methods", "measures", "measurements", "main outcome measures",
    "main outcomes and measures", "outcome measures",
})
SETUP_WEIGHT = 0.8


@dataclass(frozen=True)
class _Abstract:
    sentences: tuple
    tokens: tuple
    stems: frozenset
    truncated: bool
    defined: dict


def _prepare(text):
    sentences, truncated = split_abstract(text)
    defined = abbreviations(text)
    tokens = tuple(with_abbreviations(tokenize(sentence.text), defined) for sentence in sentences)
    return _Abstract(tuple(sentences), tokens, frozenset(s for t in tokens for s in t), truncated, defined)


def _prepared_abstract(text):
    """The abstract split and tokenised once, or None when there is none."""
    return _prepare(text) if text.strip() else None


def match_abstract(claim, reference, *, abstract=None):
    """The SourceEvidence for one claim's text and one reference (``abstract`` instead of the reference's)."""
    text = abstract_of(reference) if abstract is None else abstract
    return _match(claim, reference, _prepared_abstract(text))


def _match(claim, reference, prepared):
    terms = key_terms(claim)
    key_words = tuple(word for word, _ in terms)
    if prepared is None or not prepared.sentences:
        return SourceEvidence(reference=reference, key_terms=key_words)
    sentences, tokens, truncated = prepared.sentences, prepared.tokens, prepared.truncated
    claim_words = claim_text(claim)
    query = with_abbreviations(tokenize(claim_words), {**prepared.defined, **abbreviations(claim_words)})
    scores = [
        score * (SETUP_WEIGHT if sentence.label.lower() in SETUP_LABELS else 1.0)
        for score, sentence in zip(_rank(query, tokens), sentences)
    ]
    ranking = tuple(sorted(range(len(sentences)), key=lambda i: (-scores[i], i)))
    shared = tuple(word for word, stem in terms if stem in prepared.stems)
    highlighted = []
    if ranking and scores[ranking[0]] > 0:
        best = scores[ranking[0]]
        highlighted = [index for index in ranking[:MAX_HIGHLIGHTS] if scores[index] >= best * SECOND_SENTENCE_RATIO]
    return SourceEvidence(
        reference=reference, sentences=sentences, highlighted=tuple(highlighted), ranking=ranking,
        key_terms=key_words, shared_terms=shared, has_abstract=True,
        # A claim with no key terms at all (all generic words) gives nothing to check, so no warning.
        discusses_claim=bool(shared) or not terms, truncated=truncated, scores=tuple(scores),
    )


def abstracts_miss_claim(evidence):
    """True when the claim's sources have abstracts and not one of them uses any of the claim's key terms."""
    with_abstract = [source for source in evidence if source.has_abstract]
    return bool(with_abstract) and not any(source.discusses_claim for source in with_abstract)


class ClaimEvidence(list):
    """One claim's SourceEvidence, in citation order, and whether the review page should warn about them all."""

    @property
    def misses_claim(self):
        """True when no cited abstract uses any of the claim's key terms (see abstracts_miss_claim)."""
        return abstracts_miss_claim(self)


def _claim_references(claim):
    cache = getattr(claim, "_prefetched_objects_cache", {})
    if "citations" in cache:
        citations = sorted(cache["citations"], key=lambda c: (c.position, c.pk or 0))
        return [citation.reference for citation in citations]
    return list(cache["references"])


def evidence_for_claims(claims):
    """{claim id: ClaimEvidence} (its SourceEvidence in citation order) for claims with citations prefetched.

    Claims loaded without them get their citations and references in one query for the whole list, never one
    per claim. A source cited by several claims has its abstract split once.
    """
    claims = list(claims)
    missing = [
        claim for claim in claims
        if not {"citations", "references"} & set(getattr(claim, "_prefetched_objects_cache", {}))
    ]
    if missing:
        prefetch_related_objects(missing, Prefetch(
            "citations", queryset=Citation.objects.select_related("reference").order_by("position", "id")))
    prepared, result = {}, {}
    for claim in claims:
        evidence = ClaimEvidence()
        for reference in _claim_references(claim):
            if reference.pk not in prepared:
                prepared[reference.pk] = _prepared_abstract(abstract_of(reference))
            evidence.append(_match(claim.text, reference, prepared[reference.pk]))
        result[claim.pk] = evidence
    return result


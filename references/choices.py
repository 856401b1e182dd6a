"""The vocabularies a reference's fields use, apart from the models so that readers of metadata need no models."""

from django.db import models


class PeerReviewStatus(models.TextChoices):
    PEER_REVIEWED = "peer_reviewed", "Peer-reviewed"
    NOT_PEER_REVIEWED = "not_peer_reviewed", "Not peer-reviewed"
    UNKNOWN = "unknown", "Unknown"


class RetractionStatus(models.TextChoices):
    NONE = "none", "No notices"
    CORRECTED = "corrected", "Corrected"
    EXPRESSION_OF_CONCERN = "expression_of_concern", "Expression of concern"
    RETRACTED = "retracted", "Retracted, removed or withdrawn"


class MetadataSource(models.TextChoices):
    CROSSREF = "crossref", "Crossref"
    PUBMED = "pubmed", "PubMed"
    MANUAL = "manual", "Entered by hand"
    FILE = "file", "Reference manager export"
    CITATION_LINE = "citation_line", "Parsed from a reference line"


# Sources whose record came from a bibliographic authority: only these are "verified" by a fetch.
AUTHORITY_SOURCES = frozenset({MetadataSource.CROSSREF, MetadataSource.PUBMED})


class EvidenceLevel(models.TextChoices):
    """What kind of evidence a work is, from PubMed's publication types and MeSH, or Crossref's type."""

    META_ANALYSIS = "meta_analysis", "Meta-analysis"
    SYSTEMATIC_REVIEW = "systematic_review", "Systematic review"
    RANDOMISED_TRIAL = "randomised_trial", "Randomised controlled trial"
    CLINICAL_TRIAL = "clinical_trial", "Other clinical trial"
    OBSERVATIONAL = "observational", "Observational study"
    CASE_REPORT = "case_report", "Case report"
    NARRATIVE_REVIEW = "narrative_review", "Narrative review"
    GUIDELINE = "guideline", "Guideline"
    ANIMAL = "animal", "Animal study"
    IN_VITRO = "in_vitro", "In-vitro study"
    PREPRINT = "preprint", "Preprint"
    BOOK = "book", "Book or book chapter"
    PRIMARY_RESEARCH = "primary_research", "Research article"
    UNKNOWN = "unknown", "Not known"


class VerificationDecision(models.TextChoices):
    VERIFIED = "verified", "Verified by a reviewer"
    WITHDRAWN = "withdrawn", "Verification withdrawn"

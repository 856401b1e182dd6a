"""A source that claims cite: a DOI-identified work or, failing that, a URL."""

import html
import re

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from references.choices import (  # noqa: F401 (the vocabularies are used through this module too)
    AUTHORITY_SOURCES, EvidenceLevel, MetadataSource, PeerReviewStatus, RetractionStatus, VerificationDecision,
)
from references.metadata import RETRACTING_UPDATES, normalise_update_type


# Crossref's titles carry JATS-style inline markup: <i>Drosophila</i>, CO<sub>2</sub>, <scp>dna</scp>.
CROSSREF_INLINE_MARKUP = re.compile(r"</?(?:i|b|em|strong|sub|sup|scp|sc|u|span)(?:\s[^<>]*)?>", re.IGNORECASE)

class ReferenceQuerySet(models.QuerySet):
    def with_doi(self, doi):
        """The reference for a DOI, whatever case it was typed in."""
        return self.filter(doi=doi.lower())


class Reference(models.Model):
    doi = models.CharField(
        "DOI",
        max_length=255,
        null=True,
        blank=True,
        help_text="Stored lower-cased, without any https://doi.org/ prefix.",
    )
    url = models.URLField("URL", max_length=1000, blank=True, help_text="For a source without a DOI.")

    title = models.TextField(blank=True)
    # [{"family": ..., "given": ...}] or [{"literal": "World Health Organization"}], CSL-style.
    authors = models.JSONField(default=list, blank=True)
    container_title = models.CharField("journal or container", max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    publisher = models.CharField(max_length=300, blank=True)
    work_type = models.CharField(
        max_length=50, blank=True, help_text="Crossref's type id, e.g. journal-article or posted-content."
    )

    # Editors' corrections for display (APA wants sentence case; Crossref has
    # Title Case) live apart from the fields, so a refresh never loses them
    # and the raw metadata is never rewritten.
    display_overrides = models.JSONField(default=dict, blank=True)

    raw_metadata = models.JSONField(null=True, blank=True, help_text="The Crossref work message as fetched.")
    csl = models.JSONField("CSL-JSON", null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    metadata_source = models.CharField(
        max_length=20, choices=MetadataSource.choices, default=MetadataSource.MANUAL
    )
    # Who typed the reference in or imported it (None when it came from an authority with no one behind it).
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who entered or imported this reference; they may not verify it themselves.",
    )
    # Everyone who typed any of its details, not only the last (entered_by): none of them may vouch for it.
    typed_by = models.JSONField(default=list, blank=True, help_text="Ids of the users who typed or edited its details.")
    # A reviewer's decision that a reference entered by hand is what it says it is (references.services).
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_reason = models.TextField(blank=True)

    # PubMed, the second authority.
    pmid = models.CharField("PMID", max_length=20, null=True, blank=True, unique=True)
    pmcid = models.CharField("PMCID", max_length=20, null=True, blank=True, unique=True)
    pubmed_metadata = models.JSONField(null=True, blank=True, help_text="The PubMed record as fetched.")
    pubmed_fetched_at = models.DateTimeField(null=True, blank=True)
    publication_types = models.JSONField(default=list, blank=True, help_text="PubMed's publication types.")
    mesh_terms = models.JSONField(default=list, blank=True, help_text="PubMed's MeSH descriptor names.")
    abstract = models.TextField(blank=True)
    evidence_level = models.CharField(
        max_length=30, choices=EvidenceLevel.choices, default=EvidenceLevel.UNKNOWN,
        help_text="Computed from PubMed's publication types and MeSH, or Crossref's type.",
    )
    evidence_description = models.CharField(
        max_length=200, blank=True, help_text='The evidence level in plain words for readers: "Study in mice".'
    )
    # Non-empty when this work is itself an editorial notice (retraction, correction...), never a study.
    notice_kind = models.CharField(max_length=40, blank=True)

    needs_check = models.BooleanField(
        default=False, help_text="Metadata was guessed (e.g. parsed from a reference line) and awaits an editor."
    )

    peer_review_status = models.CharField(
        max_length=20, choices=PeerReviewStatus.choices, default=PeerReviewStatus.UNKNOWN,
        help_text="Computed from the metadata.",
    )
    peer_review_override = models.CharField(
        max_length=20, choices=PeerReviewStatus.choices, blank=True,
        help_text="An editor's decision, which wins over the computed status.",
    )
    peer_review_override_reason = models.TextField(blank=True)
    peer_review_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    peer_review_override_at = models.DateTimeField(null=True, blank=True)
    # Set only by services.override_peer_review: the override was made by a reviewer who did not enter the
    # reference. An override raising a source to peer-reviewed counts only then; an editor's may only lower it.
    peer_review_override_by_reviewer = models.BooleanField(default=False)

    retraction_status = models.CharField(
        max_length=30, choices=RetractionStatus.choices, default=RetractionStatus.NONE
    )
    # Crossref's updated-by entries: {"type", "DOI", "label", "source", "updated"}.
    updates = models.JSONField(default=list, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    # When refresh_references last tried it, whether or not the authority answered: a reference that keeps
    # failing then waits its turn behind the others instead of taking a place in every run's budget.
    refresh_attempted_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]
        permissions = [
            ("override_peer_review", "Can override a reference's peer-review status, with a reason"),
            ("verify_reference", "Can verify a reference entered by hand, with a reason"),
            ("check_references", "Can start a retraction sweep or a refresh of the oldest sources"),
        ]
        constraints = [
            models.UniqueConstraint(Lower("doi"), name="reference_doi_unique_any_case"),
            models.CheckConstraint(
                condition=models.Q(doi__isnull=True) | models.Q(doi=Lower("doi")),
                name="reference_doi_lower_case",
            ),
            models.CheckConstraint(
                condition=models.Q(doi__isnull=True) | ~models.Q(doi=""),
                name="reference_doi_null_not_empty",
            ),
            models.CheckConstraint(
                condition=models.Q(doi__isnull=False) | models.Q(pmid__isnull=False) | ~models.Q(url=""),
                name="reference_has_doi_pmid_or_url",
            ),
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | ~models.Q(verification_reason=""),
                name="reference_verification_needs_reason",
            ),
            # Nobody vouches for a record they typed in.
            models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | models.Q(entered_by__isnull=True)
                | ~models.Q(verified_by=models.F("entered_by")),
                name="reference_verifier_did_not_enter_it",
            ),
            models.CheckConstraint(
                condition=models.Q(peer_review_override="") | ~models.Q(peer_review_override_reason=""),
                name="reference_override_needs_reason",
            ),
            # A reviewer's override names that reviewer, who is not the person who entered the reference.
            models.CheckConstraint(
                condition=models.Q(peer_review_override_by_reviewer=False) | (
                    models.Q(peer_review_override_by__isnull=False) & (
                        models.Q(entered_by__isnull=True)
                        | ~models.Q(peer_review_override_by=models.F("entered_by"))
                    )
                ),
                name="reference_reviewer_override_not_by_enterer",
            ),
        ]

    def __str__(self):
        title = self.plain_title
        label = title or self.doi or self.url
        return f"{label} ({self.doi})" if self.doi and title else label

    @property
    def plain_title(self):
        """The title as text: Crossref's inline markup (<i>, <sub>...) taken out and its entities read."""
        title = self.display("title") or ""
        if "<" not in title and "&" not in title:
            return title
        # Only the markup Crossref writes is taken out: anything else typed in a title stays visible, as text.
        return " ".join(html.unescape(CROSSREF_INLINE_MARKUP.sub("", title)).split())

    def display(self, field):
        """A field as readers see it: the editor's correction if any, else the metadata."""
        return self.display_overrides.get(field) or getattr(self, field)

    @property
    def doi_url(self):
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def link(self):
        return self.doi_url or self.url

    @property
    def override_applies(self):
        """Whether the recorded override stands: any lowering does; raising to peer-reviewed only a reviewer's.

        An editor's "peer-reviewed" (or one recorded before this rule, or by the person who entered the
        reference) is ignored, so a preprint or a dataset never becomes support on an editor's word.
        """
        if not self.peer_review_override:
            return False
        if self.peer_review_override != PeerReviewStatus.PEER_REVIEWED:
            return True
        return bool(
            self.peer_review_override_by_reviewer and self.peer_review_override_by_id
            and self.peer_review_override_by_id != self.entered_by_id
        )

    @property
    def effective_peer_review_status(self):
        return self.peer_review_override if self.override_applies else self.peer_review_status

    @property
    def notices(self):
        """Crossref's updated-by entries as (label, DOI, source, date), for reviewers."""
        return [u for u in self.updates if u.get("type") not in ("new_version", "new_edition")]

    @property
    def retraction_notices(self):
        return [u for u in self.updates if normalise_update_type(u.get("type")) in RETRACTING_UPDATES]

    @property
    def is_retracted(self):
        return self.retraction_status == RetractionStatus.RETRACTED

    @property
    def from_authority(self):
        """The record was fetched from Crossref or PubMed, not typed in or imported."""
        return self.metadata_source in AUTHORITY_SOURCES

    @property
    def verified_by_reviewer(self):
        """A reviewer other than the person who entered it recorded that it is what it says."""
        return bool(
            self.verified_by_id and self.verification_reason.strip() and self.verified_by_id != self.entered_by_id
        )

    @property
    def is_verified(self):
        return self.from_authority or self.verified_by_reviewer

    @property
    def counts_as_support(self):
        """Only a verified, peer-reviewed, non-retracted work that is no editorial notice supports a claim.

        An editor's peer-review override never stands in for verification: an unverified record's
        type, title and journal are only what someone typed.
        """
        return (
            self.is_verified
            and not self.notice_kind
            and self.effective_peer_review_status == PeerReviewStatus.PEER_REVIEWED
            and not self.is_retracted
        )


class AppendOnly(models.Model):
    """Rows written once and never changed or deleted by the application: an audit log that can be rewritten
    is no audit log."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(f"{self._meta.verbose_name_plural.capitalize()} are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self._meta.verbose_name_plural.capitalize()} are append-only.")


class ReferenceVerification(AppendOnly):
    """One reviewer's decision that a reference entered by hand is genuine, or its withdrawal; append-only."""

    reference = models.ForeignKey(Reference, on_delete=models.CASCADE, related_name="verifications")
    decision = models.CharField(max_length=20, choices=VerificationDecision.choices)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        get_latest_by = "at"
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="reference_verification_log_needs_reason"),
        ]

    def __str__(self):
        return f"{self.get_decision_display()} by {self.by or 'a deleted user'} on {self.at:%Y-%m-%d}: {self.reason}"



class PeerReviewOverride(AppendOnly):
    """One editor's decision on a reference's peer-review status; rows are never changed or deleted."""

    reference = models.ForeignKey(Reference, on_delete=models.CASCADE, related_name="peer_review_overrides")
    # Blank means the override was withdrawn and the computed status applies again.
    status = models.CharField(max_length=20, choices=PeerReviewStatus.choices, blank=True)
    previous_status = models.CharField(max_length=20, choices=PeerReviewStatus.choices)
    computed_status = models.CharField(max_length=20, choices=PeerReviewStatus.choices)
    reason = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        get_latest_by = "at"
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="peer_review_override_log_needs_reason"),
        ]

    def __str__(self):
        decision = self.get_status_display() if self.status else "computed status restored"
        return f"{decision} by {self.by or 'a deleted user'} on {self.at:%Y-%m-%d}: {self.reason}"


class SweepStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class RetractionSweep(models.Model):
    """One run of the retraction sweep (references.watch): the last completed one is the watermark."""

    from_date = models.DateField(help_text="Crossref's from-index-date the sweep asked from.")
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(help_text="Last sign of life; a running sweep silent too long is taken over.")
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=SweepStatus.choices, default=SweepStatus.RUNNING)
    cursor = models.TextField(blank=True, help_text="Crossref's next-cursor reached, for resuming.")
    pages = models.PositiveIntegerField(default=0)
    notices_seen = models.PositiveIntegerField(default=0)
    references_updated = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # PubMed's part has its own watermark: a PubMed outage must not hold back Crossref's, nor lose PubMed's window.
    pubmed_from_date = models.DateField(null=True, blank=True,
                                        help_text="The modification date PubMed's search asked from.")
    pubmed_done = models.BooleanField(default=False, help_text="PubMed's part of this sweep completed.")
    pubmed_error = models.TextField(blank=True, help_text="Why PubMed's part failed; it is asked again next run.")

    class Meta:
        ordering = ["-started_at", "-id"]
        get_latest_by = "started_at"
        constraints = [
            # The lock that makes the sweep safe from cron on every server: a second sweep cannot start one.
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="running"), name="retraction_sweep_one_running"
            ),
        ]

    def __str__(self):
        return f"Sweep from {self.from_date:%Y-%m-%d} ({self.get_status_display()})"

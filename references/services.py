"""Every write to references: adding, refreshing, overriding. Admin, commands and articles all call these."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from references import crossref
from references.doi import InvalidDOI, find_doi, normalise_doi
from references.metadata import fields_from_work, peer_review_status_for
from references.models import MetadataSource, PeerReviewOverride, PeerReviewStatus, Reference
from references.signals import reference_status_changed

# Fields a refresh compares and reports; display_overrides and the editor's
# override are never touched by a refresh.
TRACKED_FIELDS = [
    "title", "authors", "container_title", "year", "volume", "issue", "pages", "publisher",
    "work_type", "peer_review_status", "retraction_status", "updates",
]


def apply_work(reference, work, *, now=None):
    """Fill a reference (unsaved changes) from a Crossref work message."""
    for name, value in fields_from_work(work).items():
        setattr(reference, name, value)
    now = now or timezone.now()
    reference.fetched_at = now
    reference.status_checked_at = now
    reference.metadata_source = MetadataSource.CROSSREF
    reference.needs_check = False
    return reference


def computed_peer_review_status(reference):
    """The status the metadata gives, for references not fetched from Crossref."""
    if reference.needs_check:
        return PeerReviewStatus.UNKNOWN
    return peer_review_status_for(reference.work_type)


@transaction.atomic
def save_reference(reference):
    """Validate and save a reference entered by hand or imported, with its computed status."""
    if reference.metadata_source != MetadataSource.CROSSREF:
        reference.peer_review_status = computed_peer_review_status(reference)
    reference.full_clean()
    reference.save()
    return reference


def add_reference_by_doi(raw, *, fetch=True, fallback=None):
    """The reference for a DOI in any pasted form, fetched from Crossref if new: (reference, created)."""
    doi = normalise_doi(raw)
    existing = Reference.objects.with_doi(doi).first()
    if existing:
        return existing, False
    try:
        if not fetch:
            raise crossref.CrossrefUnavailable("Fetching from Crossref was turned off.")
        work = crossref.fetch_work(doi)
    except crossref.CrossrefError:
        if fallback is None:
            raise
        reference = Reference(**{**fallback, "doi": doi})
        reference.metadata_source = MetadataSource.CITATION_LINE
        reference.needs_check = True
        return _create(reference), True
    reference = apply_work(Reference(doi=doi), work)
    # Crossref may answer with the canonical form of an aliased DOI.
    if reference.doi != doi:
        existing = Reference.objects.with_doi(reference.doi).first()
        if existing:
            return existing, False
    return _create(reference), True


def _create(reference):
    try:
        with transaction.atomic():
            return save_reference(reference)
    except IntegrityError:
        # Someone added the same DOI between our lookup and our insert.
        existing = Reference.objects.with_doi(reference.doi).first() if reference.doi else None
        if existing is None:
            raise
        return existing


def add_reference_by_url(url, *, fallback=None):
    """The reference for a URL: by the DOI inside it if there is one, else by the URL itself."""
    doi = find_doi(url)
    if doi:
        return add_reference_by_doi(doi, fallback=fallback)
    existing = Reference.objects.filter(doi__isnull=True, url=url).first()
    if existing:
        return existing, False
    reference = Reference(url=url, **(fallback or {}))
    reference.metadata_source = MetadataSource.CITATION_LINE if fallback else MetadataSource.MANUAL
    reference.needs_check = True
    return _create(reference), True


@transaction.atomic
def override_peer_review(reference, *, status, reason, by):
    """Record an editor's peer-review decision (status "" withdraws it); the reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A reason is required to override the peer-review status.")
    if status and status not in PeerReviewStatus.values:
        raise ValueError(f"{status!r} is not a peer-review status.")
    reference = Reference.objects.select_for_update().get(pk=reference.pk)
    previous = reference.effective_peer_review_status
    now = timezone.now()
    reference.peer_review_override = status
    reference.peer_review_override_reason = reason if status else ""
    reference.peer_review_override_by = by if status else None
    reference.peer_review_override_at = now if status else None
    reference.save(update_fields=[
        "peer_review_override", "peer_review_override_reason", "peer_review_override_by",
        "peer_review_override_at", "updated_at",
    ])
    PeerReviewOverride.objects.create(
        reference=reference, status=status, previous_status=previous,
        computed_status=reference.peer_review_status, reason=reason, by=by, at=now,
    )
    return reference


@dataclass
class RefreshResult:
    reference: Reference
    changes: dict = field(default_factory=dict)
    was_support: bool = False
    is_support: bool = False
    newly_retracted: bool = False
    error: Exception | None = None

    @property
    def changed(self):
        return bool(self.changes)

    def __str__(self):
        doi = self.reference.doi or self.reference.url
        if self.error:
            return f"{doi}: failed: {self.error}"
        if not self.changes:
            return f"{doi}: unchanged"
        described = "; ".join(f"{name}: {_short(old)} -> {_short(new)}" for name, (old, new) in self.changes.items())
        prefix = "NEWLY RETRACTED; " if self.newly_retracted else ""
        return f"{doi}: {prefix}{described}"


def _short(value):
    if isinstance(value, list):
        return ", ".join(v.get("type", "") if isinstance(v, dict) and "type" in v else str(v) for v in value) or "none"
    text = str(value) if value not in (None, "") else "none"
    return text if len(text) <= 60 else text[:57] + "..."


def refresh_reference(reference):
    """Re-fetch a reference's Crossref metadata, save what changed, and signal status changes."""
    if not reference.doi:
        return RefreshResult(reference=reference, error=ValueError("it has no DOI to check"))
    try:
        work = crossref.fetch_work(reference.doi)
    except crossref.CrossrefError as exc:
        return RefreshResult(reference=reference, error=exc)
    with transaction.atomic():
        reference = Reference.objects.select_for_update().get(pk=reference.pk)
        before = {name: getattr(reference, name) for name in TRACKED_FIELDS}
        was_support, was_retracted = reference.counts_as_support, reference.is_retracted
        doi = reference.doi
        apply_work(reference, work)
        # An aliased DOI answers with the canonical one; the reference keeps the DOI it is cited by.
        reference.doi = doi
        reference.save()
        changes = {
            name: (before[name], getattr(reference, name))
            for name in TRACKED_FIELDS
            if before[name] != getattr(reference, name)
        }
        result = RefreshResult(
            reference=reference,
            changes=changes,
            was_support=was_support,
            is_support=reference.counts_as_support,
            newly_retracted=reference.is_retracted and not was_retracted,
        )
        status_fields = {"peer_review_status", "retraction_status", "updates"}
        if status_fields & changes.keys() or result.was_support != result.is_support:
            # Sent inside the transaction: a listener's records (which articles
            # go back to review) commit or roll back with the status itself.
            reference_status_changed.send(
                sender=Reference, reference=reference, was_support=result.was_support,
                is_support=result.is_support, newly_retracted=result.newly_retracted, changes=changes,
            )
    return result


__all__ = [
    "InvalidDOI", "RefreshResult", "add_reference_by_doi", "add_reference_by_url", "apply_work",
    "override_peer_review", "refresh_reference", "save_reference",
]

"""Every write to references: adding, refreshing, overriding. Admin, commands and articles all call these."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone

from references import crossref, pubmed, watch
from references.doi import InvalidDOI, find_doi, normalise_doi
from references.evidence import apply_evidence
from references.metadata import (
    fields_from_work, notice_kind_from_title, peer_review_status_for, retraction_status_for,
)
from references.models import (
    AUTHORITY_SOURCES, MetadataSource, PeerReviewOverride, PeerReviewStatus, Reference, ReferenceVerification,
    VerificationDecision,
)
from references.signals import reference_display_changed, reference_status_changed

# Fields a refresh compares and reports; display_overrides and the editor's
# override are never touched by a refresh.
TRACKED_FIELDS = [
    "title", "authors", "container_title", "year", "volume", "issue", "pages", "publisher",
    "work_type", "peer_review_status", "retraction_status", "updates", "notice_kind", "metadata_source",
]
# What readers see of a reference: a change to any of these after approval must not pass silently.
DISPLAY_FIELDS = [
    "title", "authors", "container_title", "year", "volume", "issue", "pages", "publisher", "url",
    "display_overrides",
]
# Fields an editor may type for a reference not fetched from an authority.
EDITABLE_FIELDS = [
    "url", "title", "authors", "container_title", "year", "volume", "issue", "pages", "publisher", "work_type",
    "needs_check",
]


def apply_work(reference, work, *, now=None):
    """Fill a reference (unsaved changes) from a Crossref work message."""
    previous_updates = list(reference.updates or [])
    for name, value in fields_from_work(work).items():
        setattr(reference, name, value)
    watch.keep_notices(reference, previous_updates)
    now = now or timezone.now()
    reference.fetched_at = now
    reference.status_checked_at = now
    reference.metadata_source = MetadataSource.CROSSREF
    reference.needs_check = False
    _keep_pubmed_findings(reference)
    apply_evidence(reference)
    return reference


def computed_peer_review_status(reference):
    """The status the metadata gives, for references not fetched from Crossref."""
    if reference.needs_check:
        return PeerReviewStatus.UNKNOWN
    return peer_review_status_for(reference.work_type, is_notice=bool(reference.notice_kind))


@transaction.atomic
def save_reference(reference, *, by=None):
    """Validate and save a reference, with its computed status; ``by`` entered it if it is new.

    A record typed in or imported stays unverified (``counts_as_support`` is False) until a fetch
    from an authority replaces it or a reviewer other than ``entered_by`` verifies it.
    """
    if reference.metadata_source not in AUTHORITY_SOURCES:
        reference.notice_kind = notice_kind_from_title(reference.title)
        reference.peer_review_status = computed_peer_review_status(reference)
    if reference.pk is None and by is not None and reference.entered_by_id is None:
        reference.entered_by = by
    if reference.entered_by_id is not None and reference.entered_by_id not in reference.typed_by:
        reference.typed_by = [*reference.typed_by, reference.entered_by_id]
    apply_evidence(reference)
    reference.full_clean()
    reference.save()
    return reference


def add_reference_by_doi(raw, *, fetch=True, fallback=None, by=None):
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
        return _create(reference, by=by), True
    reference = apply_work(Reference(doi=doi), work)
    # Crossref may answer with the canonical form of an aliased DOI.
    if reference.doi != doi:
        existing = Reference.objects.with_doi(reference.doi).first()
        if existing:
            return existing, False
    return _create(reference, by=by), True


def _create(reference, *, by=None):
    try:
        with transaction.atomic():
            return save_reference(reference, by=by)
    except IntegrityError:
        # Someone added the same DOI between our lookup and our insert.
        existing = Reference.objects.with_doi(reference.doi).first() if reference.doi else None
        if existing is None:
            raise
        return existing


def add_reference_by_url(url, *, fallback=None, by=None):
    """The reference for a URL: by the DOI inside it if there is one, else by the URL itself."""
    doi = find_doi(url)
    if doi:
        return add_reference_by_doi(doi, fallback=fallback, by=by)
    existing = Reference.objects.filter(doi__isnull=True, url=url).first()
    if existing:
        return existing, False
    reference = Reference(url=url, **(fallback or {}))
    reference.metadata_source = MetadataSource.CITATION_LINE if fallback else MetadataSource.MANUAL
    reference.needs_check = True
    return _create(reference, by=by), True


class VerificationRefused(ValueError):
    """A verification (or its withdrawal) that may not be recorded: the message says why."""


class ReferenceEditRefused(ValueError):
    """An edit of a reference's fields that may not be made: the message says why."""


def _check_verifier(reference, *, by, reason, verb):
    if by is None or not by.has_perm("references.verify_reference"):
        raise VerificationRefused(f"Only a reviewer may {verb} a source (the verify_reference permission).")
    if not reason:
        raise VerificationRefused(f"A reason is required to {verb} a source: say what you checked.")
    if by.pk in _typists(reference):
        what = ("entered this reference" if reference.entered_by_id == by.pk
                else "typed some of this reference's details")
        raise VerificationRefused(f"You {what}, so someone else must {verb} it.")


def _typists(reference):
    """Everyone who typed any of the reference's details (the last of them is entered_by)."""
    return {*reference.typed_by, *([reference.entered_by_id] if reference.entered_by_id else [])}


def _support_changed(reference, *, was_support, changes):
    if reference.counts_as_support != was_support:
        # Inside the caller's transaction: the articles flagged commit or roll back with the decision.
        reference_status_changed.send(
            sender=Reference, reference=reference, was_support=was_support,
            is_support=reference.counts_as_support, newly_retracted=False, changes=changes,
        )


@transaction.atomic
def verify_reference(reference, *, by, reason):
    """Record a reviewer's decision that a reference entered by hand is genuine; it may then support claims."""
    reason = (reason or "").strip()
    locked = Reference.objects.select_for_update().get(pk=reference.pk)
    _check_verifier(locked, by=by, reason=reason, verb="verify")
    if locked.from_authority:
        raise VerificationRefused(
            f"This record came from {locked.get_metadata_source_display()}: it is verified already."
        )
    was_support = locked.counts_as_support
    before = (locked.verified_by_id, locked.verification_reason)
    now = timezone.now()
    locked.verified_by, locked.verified_at, locked.verification_reason = by, now, reason
    locked.save(update_fields=["verified_by", "verified_at", "verification_reason", "updated_at"])
    ReferenceVerification.objects.create(
        reference=locked, decision=VerificationDecision.VERIFIED, reason=reason, by=by, at=now,
    )
    _support_changed(locked, was_support=was_support,
                     changes={"verification": (before, (by.pk, reason))})
    return locked


@transaction.atomic
def withdraw_verification(reference, *, by, reason):
    """Withdraw a reviewer's verification: the reference no longer supports claims until verified again."""
    reason = (reason or "").strip()
    locked = Reference.objects.select_for_update().get(pk=reference.pk)
    _check_verifier(locked, by=by, reason=reason, verb="withdraw the verification of")
    if not locked.verified_by_id:
        raise VerificationRefused("This reference has no reviewer's verification to withdraw.")
    was_support = locked.counts_as_support
    before = (locked.verified_by_id, locked.verification_reason)
    _clear_verification(locked, by=by, reason=reason)
    locked.save(update_fields=["verified_by", "verified_at", "verification_reason", "updated_at"])
    _support_changed(locked, was_support=was_support, changes={"verification": (before, (None, ""))})
    return locked


def _clear_verification(reference, *, by, reason, at=None):
    reference.verified_by, reference.verified_at, reference.verification_reason = None, None, ""
    ReferenceVerification.objects.create(
        reference=reference, decision=VerificationDecision.WITHDRAWN, reason=reason, by=by, at=at or timezone.now(),
    )


def _values(reference, names):
    return {name: getattr(reference, name) for name in names}


@transaction.atomic
def edit_reference(reference, *, by, fields=None, display_overrides=None):
    """An editor's change to a reference's typed fields or its corrections for display, announced if readers see it.

    ``fields`` (names in EDITABLE_FIELDS) may change only a record not fetched from an authority;
    whoever changes them becomes the one who entered it, and a reviewer's verification of the old
    details is withdrawn. ``display_overrides`` replaces the corrections for display (blank values drop one).
    Returns the saved reference.
    """
    fields = dict(fields or {})
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ReferenceEditRefused(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    locked = Reference.objects.select_for_update().get(pk=reference.pk)
    before = _values(locked, DISPLAY_FIELDS + EDITABLE_FIELDS)
    was_support = locked.counts_as_support
    typed = {name: value for name, value in fields.items() if getattr(locked, name) != value}
    fetched = set(typed) - {"url", "needs_check"}  # the editor's own fields, on any record
    if fetched and locked.from_authority:
        raise ReferenceEditRefused(
            f"This record came from {locked.get_metadata_source_display()} and is kept as fetched "
            f"({', '.join(sorted(fetched))}): correct it for display instead."
        )
    for name, value in typed.items():
        setattr(locked, name, value)
    if display_overrides is not None:
        locked.display_overrides = {k: v.strip() for k, v in display_overrides.items() if (v or "").strip()}
    after = _values(locked, DISPLAY_FIELDS + EDITABLE_FIELDS)
    changes = {name: (before[name], after[name]) for name in after if before[name] != after[name]}
    if not changes:
        return locked
    if typed and not locked.from_authority:
        locked.entered_by = by
        # A reviewer raised the old details to peer-reviewed, not these.
        locked.peer_review_override_by_reviewer = False
        if locked.verified_by_id:
            _clear_verification(
                locked, by=by,
                reason=f"Its details were changed after verification ({', '.join(sorted(typed))}).",
            )
    save_reference(locked)
    shown = {name: change for name, change in changes.items() if name in DISPLAY_FIELDS}
    if shown:
        # Inside the transaction, so whatever a listener records commits or rolls back with the edit.
        reference_display_changed.send(sender=Reference, reference=locked, changes=shown)
    _support_changed(locked, was_support=was_support, changes=changes)
    return locked


class OverrideRefused(ValueError):
    """A peer-review override that may not be recorded: the message says why."""


def may_raise_peer_review(reference, user):
    """Whether ``user`` may make a source count as peer-reviewed: a reviewer who did not enter it."""
    return bool(
        user is not None and user.has_perm("references.verify_reference") and user.pk not in _typists(reference)
    )


@transaction.atomic
def override_peer_review(reference, *, status, reason, by):
    """Record a peer-review decision (status "" withdraws it); the reason is required.

    Anyone with ``override_peer_review`` may lower a source's status, which only makes the gate
    stricter. A decision that makes it peer-reviewed (an override, or withdrawing one over a computed
    "peer-reviewed") is a reviewer's: someone with ``verify_reference`` who did not enter the reference.
    """
    reason = (reason or "").strip()
    if not reason:
        raise OverrideRefused("A reason is required to override the peer-review status.")
    if status and status not in PeerReviewStatus.values:
        raise OverrideRefused(f"{status!r} is not a peer-review status.")
    if by is None or not (by.has_perm("references.override_peer_review") or by.has_perm("references.verify_reference")):
        raise OverrideRefused("You may not override peer-review statuses (the override_peer_review permission).")
    reference = Reference.objects.select_for_update().get(pk=reference.pk)
    previous = reference.effective_peer_review_status
    reaches = status or reference.peer_review_status
    by_reviewer = may_raise_peer_review(reference, by)
    if reaches == PeerReviewStatus.PEER_REVIEWED and previous != PeerReviewStatus.PEER_REVIEWED and not by_reviewer:
        who = ("you entered this reference or typed some of its details" if by.pk in _typists(reference)
               else "you are not a reviewer (the verify_reference permission)")
        raise OverrideRefused(
            f"Only a reviewer who did not enter a reference may make it count as peer-reviewed, and {who}. "
            "You may mark it not peer-reviewed or unknown; ask a reviewer to raise it."
        )
    was_support = reference.counts_as_support
    now = timezone.now()
    reference.peer_review_override = status
    reference.peer_review_override_reason = reason if status else ""
    reference.peer_review_override_by = by if status else None
    reference.peer_review_override_at = now if status else None
    reference.peer_review_override_by_reviewer = bool(status) and by_reviewer
    reference.save(update_fields=[
        "peer_review_override", "peer_review_override_reason", "peer_review_override_by",
        "peer_review_override_at", "peer_review_override_by_reviewer", "updated_at",
    ])
    _support_changed(reference, was_support=was_support,
                     changes={"peer_review_override": (previous, reference.effective_peer_review_status)})
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
        doi = self.reference.doi or self.reference.url or (f"PMID {self.reference.pmid}" if self.reference.pmid else "")
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
    if reference.pmid and (not reference.doi or reference.metadata_source == MetadataSource.PUBMED):
        # PubMed filled it: PubMed is where it is re-checked.
        return refresh_pubmed(reference)
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
        shown = {name: change for name, change in changes.items() if name in DISPLAY_FIELDS}
        if shown:
            # Inside the transaction, like the status signal below.
            reference_display_changed.send(sender=Reference, reference=reference, changes=shown)
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
    if reference.pmid:
        result = _combine(result, refresh_pubmed(result.reference))
    return result


# PubMed, the second authority ---------------------------------------------------------------------
# A work known by DOI and PMID is one reference: PubMed's fields join the Crossref record, and only a
# work Crossref has not filled takes its bibliographic fields from PubMed.

PUBMED_TRACKED_FIELDS = ["doi", "pmid", "pmcid", "publication_types", "mesh_terms", "abstract", "evidence_level"]


def _stored_record(reference):
    try:
        return pubmed.PubMedRecord(**reference.pubmed_metadata) if reference.pubmed_metadata else None
    except TypeError:
        return None


def _apply_pubmed_status(reference, record, *, own_notice_kind):
    """Merge PubMed's notices into updates and recompute the statuses they feed (unsaved)."""
    reference.updates = [u for u in reference.updates or [] if u.get("source") != "pubmed"] + record.updates()
    reference.retraction_status = retraction_status_for(reference.updates)
    # A "Retraction of Publication" or "Published Erratum" record is itself a notice, never support.
    reference.notice_kind = own_notice_kind or record.notice_kind
    reference.peer_review_status = peer_review_status_for(reference.work_type, is_notice=bool(reference.notice_kind))


def _keep_pubmed_findings(reference):
    """After a Crossref fill, what PubMed says of the work (its notices, its being a notice) still counts."""
    record = _stored_record(reference)
    if record is not None:
        _apply_pubmed_status(reference, record, own_notice_kind=reference.notice_kind)


def _record_doi(record):
    if not record.doi:
        return None
    try:
        return normalise_doi(record.doi)
    except InvalidDOI:
        return None


def apply_pubmed_record(reference, record, *, now=None):
    """Fill a reference (unsaved changes) from a PubMedRecord; Crossref's fields, if any, are kept."""
    now = now or timezone.now()
    reference.pmid = record.pmid
    reference.pmcid = record.pmcid or reference.pmcid
    reference.pubmed_metadata = record.as_json()
    reference.pubmed_fetched_at = now
    reference.status_checked_at = now
    reference.publication_types = list(record.publication_types)
    reference.mesh_terms = list(record.mesh_terms)
    reference.abstract = record.abstract
    if reference.metadata_source == MetadataSource.CROSSREF:
        own_kind = fields_from_work(reference.raw_metadata).get("notice_kind", "") if reference.raw_metadata else ""
    else:
        reference.title = record.title
        reference.authors = record.authors
        reference.container_title = record.journal
        reference.year = record.year
        reference.volume, reference.issue, reference.pages = record.volume, record.issue, record.pages
        reference.work_type = "posted-content" if record.is_preprint else "journal-article"
        reference.metadata_source = MetadataSource.PUBMED
        reference.fetched_at = now
        reference.needs_check = False
        own_kind = ""
    _apply_pubmed_status(reference, record, own_notice_kind=own_kind)
    apply_evidence(reference)
    return reference


def _save_pubmed(pk, record):
    """Apply a record to the reference ``pk`` under a row lock, save, and signal what changed."""
    with transaction.atomic():
        reference = Reference.objects.select_for_update().get(pk=pk)
        names = list(dict.fromkeys(TRACKED_FIELDS + PUBMED_TRACKED_FIELDS))
        before = {name: getattr(reference, name) for name in names}
        was_support, was_retracted = reference.counts_as_support, reference.is_retracted
        apply_pubmed_record(reference, record)
        doi = _record_doi(record)
        if doi and not reference.doi and not Reference.objects.with_doi(doi).exclude(pk=pk).exists():
            # A PubMed-only reference whose record now names its DOI: the same reference, never a second one.
            reference.doi = doi
        save_reference(reference)
        changes = {name: (before[name], getattr(reference, name)) for name in names
                   if before[name] != getattr(reference, name)}
        shown = {name: change for name, change in changes.items() if name in DISPLAY_FIELDS}
        if shown:
            reference_display_changed.send(sender=Reference, reference=reference, changes=shown)
        result = RefreshResult(
            reference=reference, changes=changes, was_support=was_support, is_support=reference.counts_as_support,
            newly_retracted=reference.is_retracted and not was_retracted,
        )
        if {"peer_review_status", "retraction_status", "updates", "notice_kind"} & changes.keys() or (
            was_support != result.is_support
        ):
            reference_status_changed.send(
                sender=Reference, reference=reference, was_support=was_support, is_support=result.is_support,
                newly_retracted=result.newly_retracted, changes=changes,
            )
    return result


def add_pubmed_record(record, *, by=None):
    """The reference for a fetched PubMedRecord: (reference, created). One work, one reference."""
    existing = Reference.objects.filter(pmid=record.pmid).first()
    if existing:
        return existing, False
    doi = _record_doi(record)
    same_work = (Reference.objects.with_doi(doi).first() if doi else None) or (
        Reference.objects.filter(pmcid=record.pmcid).first() if record.pmcid else None
    )
    if same_work is not None:
        if same_work.pmid and same_work.pmid != record.pmid:
            raise pubmed.PubMedBadResponse(
                f"PMID {record.pmid} names the DOI {doi} of reference {same_work.pk}, which has PMID {same_work.pmid}."
            )
        return _save_pubmed(same_work.pk, record).reference, False
    reference = apply_pubmed_record(Reference(doi=doi), record)
    try:
        with transaction.atomic():
            return save_reference(reference, by=by), True
    except IntegrityError:
        # Someone added the same PMID between our lookup and our insert.
        existing = Reference.objects.filter(pmid=record.pmid).first()
        if existing is None:
            raise
        return existing, False


def add_reference_by_pmid(raw, *, by=None, fetch=True, fallback=None):
    """The reference for a PMID or PMCID in any pasted form, fetched from PubMed if new: (reference, created).

    Raises pubmed.InvalidPubMedId for text that is neither, and a pubmed.PubMedError when PubMed fails.
    With ``fetch=False``, or ``fallback`` fields (title, authors, year... read from a citation line) and
    PubMed unreachable or garbled, a new identifier is saved unverified, marked needs check. A PMID PubMed
    says it does not have is never saved from a fallback: RecordNotFound is raised.
    """
    pubmed_id = pubmed.parse_pubmed_id(raw)
    lookup = {"pmid": pubmed_id.value} if pubmed_id.kind == "pmid" else {"pmcid": pubmed_id.value}
    existing = Reference.objects.filter(**lookup).first()
    if existing:
        return existing, False
    if fetch:
        try:
            return add_pubmed_record(pubmed.fetch_by_id(pubmed_id), by=by)
        except pubmed.RecordNotFound:
            raise
        except pubmed.PubMedError:
            if fallback is None:
                raise
    fields = {name: value for name, value in (fallback or {}).items() if name not in ("doi", "pmid", "pmcid")}
    reference = Reference(**fields, **lookup)
    reference.metadata_source = MetadataSource.CITATION_LINE if fallback else MetadataSource.MANUAL
    reference.needs_check = True
    if pubmed_id.kind == "pmcid" and not reference.url:
        reference.url = pubmed.pmc_url(pubmed_id.value)
    with transaction.atomic():
        return save_reference(reference, by=by), True


def refresh_pubmed(reference):
    """Re-fetch a reference's PubMed record, save what changed, and signal status changes."""
    if not reference.pmid:
        return RefreshResult(reference=reference, error=ValueError("it has no PMID to check"))
    try:
        record = pubmed.fetch_record(reference.pmid)
    except pubmed.PubMedError as exc:
        return RefreshResult(reference=reference, error=exc)
    return _save_pubmed(reference.pk, record)


def _combine(crossref_result, pubmed_result):
    """One result for a reference checked against both authorities."""
    if pubmed_result.error:
        crossref_result.error = crossref_result.error or pubmed_result.error
        return crossref_result
    changes = dict(crossref_result.changes)
    for name, (old, new) in pubmed_result.changes.items():
        changes[name] = (changes[name][0] if name in changes else old, new)
    changes = {name: (old, new) for name, (old, new) in changes.items() if old != new}
    return RefreshResult(
        reference=pubmed_result.reference, changes=changes, was_support=crossref_result.was_support,
        is_support=pubmed_result.is_support,
        newly_retracted=crossref_result.newly_retracted or pubmed_result.newly_retracted,
    )


__all__ = [
    "InvalidDOI", "OverrideRefused", "ReferenceEditRefused", "RefreshResult", "VerificationRefused", "add_reference_by_doi",
    "add_reference_by_url", "apply_work", "edit_reference", "override_peer_review", "refresh_reference",
    "save_reference", "verify_reference", "withdraw_verification",
]
__all__ += ["add_pubmed_record", "add_reference_by_pmid", "apply_pubmed_record", "refresh_pubmed"]

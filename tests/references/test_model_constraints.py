"""Invariants the database holds for references."""

import pytest
from django.contrib.auth.models import User

from references.models import MetadataSource, PeerReviewStatus, Reference, RetractionStatus

from tests.factories import assert_refused_by_database

pytestmark = pytest.mark.django_db


def test_the_same_doi_in_another_case_is_assert_refused_by_database():
    Reference.objects.create(doi="10.1176/appi.ajp.2020.20050596", title="RCT")
    assert_refused_by_database(lambda: Reference.objects.create(doi="10.1176/APPI.AJP.2020.20050596", title="RCT again"))


def test_doi_is_stored_lower_cased():
    assert_refused_by_database(lambda: Reference.objects.create(doi="10.1007/S43440-020-00097-Z", title="Upper"))


def test_a_reference_needs_a_doi_or_a_url():
    assert_refused_by_database(lambda: Reference.objects.create(title="Nothing to find it by"))
    assert_refused_by_database(lambda: Reference.objects.create(doi="", title="Empty DOI"))
    Reference.objects.create(url="https://www.who.int/news-room/fact-sheets/detail/depression", title="WHO")


def test_references_without_doi_do_not_collide():
    Reference.objects.create(url="https://example.org/a", title="A")
    Reference.objects.create(url="https://example.org/b", title="B")
    assert Reference.objects.filter(doi__isnull=True).count() == 2


def test_an_override_needs_a_reason():
    assert_refused_by_database(lambda: Reference.objects.create(
        doi="10.1000/x", peer_review_override=PeerReviewStatus.PEER_REVIEWED, peer_review_override_reason=""
    ))


def test_support_requires_peer_review_and_no_retraction():
    reference = Reference(doi="10.1000/y", peer_review_status=PeerReviewStatus.PEER_REVIEWED,
                          metadata_source=MetadataSource.CROSSREF)
    assert reference.counts_as_support
    reference.retraction_status = RetractionStatus.RETRACTED
    assert not reference.counts_as_support
    reference.retraction_status = RetractionStatus.CORRECTED
    assert reference.counts_as_support
    reference.peer_review_override = PeerReviewStatus.NOT_PEER_REVIEWED
    assert not reference.counts_as_support
    assert Reference(doi="10.1000/z").effective_peer_review_status == PeerReviewStatus.UNKNOWN


@pytest.mark.parametrize("source", [MetadataSource.MANUAL, MetadataSource.FILE, MetadataSource.CITATION_LINE])
def test_a_record_typed_in_or_imported_counts_only_once_someone_else_verified_it(source):
    editor, reviewer = User(pk=1, username="e"), User(pk=2, username="r")
    reference = Reference(doi="10.1000/v", peer_review_status=PeerReviewStatus.PEER_REVIEWED,
                          metadata_source=source, entered_by=editor)
    assert not reference.is_verified and not reference.counts_as_support
    # An editor's override says "peer-reviewed" but verifies nothing.
    reference.peer_review_override = PeerReviewStatus.PEER_REVIEWED
    assert not reference.counts_as_support
    reference.verified_by, reference.verification_reason = editor, "I typed it carefully"
    assert not reference.counts_as_support  # the one who entered it cannot vouch for it
    reference.verified_by = reviewer
    assert reference.verified_by_reviewer and reference.counts_as_support
    reference.verification_reason = "  "
    assert not reference.counts_as_support


@pytest.mark.parametrize("source", [MetadataSource.CROSSREF, MetadataSource.PUBMED])
def test_a_record_from_an_authority_is_verified_but_a_notice_never_counts(source):
    reference = Reference(doi="10.1000/n", peer_review_status=PeerReviewStatus.PEER_REVIEWED, metadata_source=source)
    assert reference.is_verified and reference.counts_as_support
    reference.notice_kind = "erratum"
    assert not reference.counts_as_support


def test_the_database_refuses_a_verification_by_the_one_who_entered_it():
    user = User.objects.create_user("typist")
    reference = Reference.objects.create(doi="10.1000/own", entered_by=user)
    assert_refused_by_database(lambda: Reference.objects.filter(pk=reference.pk).update(
        verified_by=user, verification_reason="Mine, and right."))

"""Invariants the database holds for references."""

import pytest

from references.models import PeerReviewStatus, Reference, RetractionStatus

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
    reference = Reference(doi="10.1000/y", peer_review_status=PeerReviewStatus.PEER_REVIEWED)
    assert reference.counts_as_support
    reference.retraction_status = RetractionStatus.RETRACTED
    assert not reference.counts_as_support
    reference.retraction_status = RetractionStatus.CORRECTED
    assert reference.counts_as_support
    reference.peer_review_override = PeerReviewStatus.NOT_PEER_REVIEWED
    assert not reference.counts_as_support
    assert Reference(doi="10.1000/z").effective_peer_review_status == PeerReviewStatus.UNKNOWN

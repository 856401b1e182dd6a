"""What a Crossref work message means: fields, CSL-JSON, peer-review and retraction status."""

import json

import pytest

from references.metadata import (
    csl_from_work, csl_type, fields_from_work, peer_review_status_for, retraction_status_for, updates_from_work,
)
from references.models import PeerReviewStatus, RetractionStatus
from tests.fake_crossref import FIXTURES, load_work


@pytest.mark.parametrize(
    ("work_type", "status"),
    [
        ("journal-article", PeerReviewStatus.PEER_REVIEWED),
        ("posted-content", PeerReviewStatus.NOT_PEER_REVIEWED),
        ("peer-review", PeerReviewStatus.NOT_PEER_REVIEWED),
        ("proceedings-article", PeerReviewStatus.UNKNOWN),
        ("book-chapter", PeerReviewStatus.UNKNOWN),
        ("report", PeerReviewStatus.UNKNOWN),
        ("dataset", PeerReviewStatus.UNKNOWN),
        ("book", PeerReviewStatus.UNKNOWN),
        ("other", PeerReviewStatus.UNKNOWN),
        ("", PeerReviewStatus.UNKNOWN),
    ],
)
def test_peer_review_status_by_type(work_type, status):
    assert peer_review_status_for(work_type) == status


def test_a_journal_article_that_is_itself_a_notice_is_not_peer_reviewed():
    notice = load_work("10.5555/psychly.retraction.2021.001")
    assert notice["type"] == "journal-article"
    assert fields_from_work(notice)["peer_review_status"] == PeerReviewStatus.NOT_PEER_REVIEWED


@pytest.mark.parametrize(
    ("doi", "status"),
    [
        ("10.1523/jneurosci.1547-16.2016", PeerReviewStatus.PEER_REVIEWED),
        ("10.7717/peerj.6049", PeerReviewStatus.PEER_REVIEWED),
        ("10.1101/2020.12.01.406702", PeerReviewStatus.NOT_PEER_REVIEWED),  # a bioRxiv preprint
    ],
)
def test_recorded_works_get_the_status_their_type_gives(doi, status):
    assert fields_from_work(load_work(doi))["peer_review_status"] == status


def test_a_retraction_from_publisher_and_retraction_watch_is_one_notice_and_retracts():
    fields = fields_from_work(load_work("10.5555/psychly.retracted.2019.001"))
    assert fields["retraction_status"] == RetractionStatus.RETRACTED
    assert fields["updates"] == [{
        "type": "retraction", "DOI": "10.5555/psychly.retraction.2021.001", "label": "Retraction",
        "source": "publisher", "updated": "2021-06-09",
    }]


def test_a_publisher_correction_is_recorded_but_does_not_retract():
    fields = fields_from_work(load_work("10.1371/journal.pone.0033693"))
    assert fields["retraction_status"] == RetractionStatus.CORRECTED
    assert fields["updates"][0]["type"] == "correction"
    assert fields["updates"][0]["updated"] == "2012-05-08"


def test_an_expression_of_concern_from_retraction_watch_is_recorded():
    fields = fields_from_work(load_work("10.5555/psychly.concern.2020.002"))
    assert fields["retraction_status"] == RetractionStatus.EXPRESSION_OF_CONCERN
    assert fields["updates"][0]["source"] == "retraction-watch"


@pytest.mark.parametrize(
    ("types", "status"),
    [
        ([], RetractionStatus.NONE),
        (["new_version"], RetractionStatus.NONE),
        (["erratum"], RetractionStatus.CORRECTED),
        (["correction", "expression_of_concern"], RetractionStatus.EXPRESSION_OF_CONCERN),
        (["expression_of_concern", "retraction"], RetractionStatus.RETRACTED),
        (["withdrawal"], RetractionStatus.RETRACTED),
        (["removal"], RetractionStatus.RETRACTED),
        (["partial_retraction"], RetractionStatus.RETRACTED),
    ],
)
def test_the_worst_notice_decides_the_retraction_status(types, status):
    assert retraction_status_for([{"type": t} for t in types]) == status


def test_duplicate_updates_collapse_but_distinct_ones_stay():
    work = {"updated-by": [
        {"type": "correction", "DOI": "10.1/A", "source": "publisher"},
        {"type": "correction", "DOI": "10.1/a", "source": "retraction-watch"},
        {"type": "correction", "DOI": "10.1/b", "source": "publisher"},
    ]}
    assert [u["DOI"] for u in updates_from_work(work)] == ["10.1/a", "10.1/b"]


def test_fields_from_the_feder_trial():
    fields = fields_from_work(load_work("10.1176/appi.ajp.2020.20050596"))
    assert fields["doi"] == "10.1176/appi.ajp.2020.20050596"
    assert fields["title"].startswith("A Randomized Controlled Trial of Repeated Ketamine")
    assert fields["authors"][0] == {"family": "Feder", "given": "Adriana"}
    assert len(fields["authors"]) == 16
    assert (fields["container_title"], fields["year"], fields["volume"], fields["issue"], fields["pages"]) == (
        "American Journal of Psychiatry", 2021, "178", "2", "193-202")
    assert fields["work_type"] == "journal-article"


def test_preprint_titles_lose_their_newlines():
    fields = fields_from_work(load_work("10.1101/2020.12.01.406702"))
    assert "\n" not in fields["title"] and "  " not in fields["title"]


@pytest.mark.parametrize(
    ("crossref_type", "csl"),
    [
        ("journal-article", "article-journal"),
        ("proceedings-article", "paper-conference"),
        ("book-chapter", "chapter"),
        ("posted-content", "article"),
        ("dissertation", "thesis"),
        ("reference-entry", "entry"),
        ("book", "book"),
        ("article-journal", "article-journal"),  # already CSL
        ("grant", "document"),
    ],
)
def test_crossref_types_map_to_csl_types(crossref_type, csl):
    assert csl_type(crossref_type) == csl


def test_csl_from_a_journal_article():
    csl = csl_from_work(load_work("10.1371/journal.pone.0033693"))
    assert csl["type"] == "article-journal"
    assert csl["container-title"] == "PLoS ONE"
    assert csl["container-title-short"] == "PLoS ONE"
    assert csl["issued"] == {"date-parts": [[2012, 3, 21]]}
    assert csl["page"] == "e33693"
    assert csl["author"][0] == {"family": "Sadasivan", "given": "Shankar"}


def test_csl_from_a_preprint_says_preprint():
    csl = csl_from_work(load_work("10.1101/2020.12.01.406702"))
    assert (csl["type"], csl["genre"]) == ("article", "Preprint")


def test_crossrefs_own_csl_journal_article_type_is_mapped():
    crossref_csl = json.loads((FIXTURES / "csl-10.1126_science.169.3946.635.json").read_text())
    assert crossref_csl["type"] == "journal-article"
    assert csl_type(crossref_csl["type"]) == "article-journal"


def test_an_organisation_author_becomes_a_literal():
    work = {"DOI": "10.1/x", "type": "report", "author": [{"name": "World Health Organization"}]}
    assert csl_from_work(work)["author"] == [{"literal": "World Health Organization"}]

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


# -- notices are never studies, studies never notices ------------------------------------------------

def _work(doi="10.5555/w.1", *, title="A trial of something", **extra):
    return {"DOI": doi, "type": "journal-article", "title": [title], **extra}


def _verdict(work):
    fields = fields_from_work(work)
    return fields["notice_kind"], fields["peer_review_status"]


@pytest.mark.parametrize(("doi", "kind", "status"), [
    # update-to new_version naming itself: a sound research article, not a notice
    ("10.5555/psychly.plos.2022.0101", "", PeerReviewStatus.PEER_REVIEWED),
    # update-to naming the work itself (Elsevier)
    ("10.5555/psychly.elsevier.2020.0202", "", PeerReviewStatus.PEER_REVIEWED),
    # notices deposited without any relation, known by their titles
    ("10.5555/psychly.hindawi.2023.0303", "retraction", PeerReviewStatus.NOT_PEER_REVIEWED),
    ("10.5555/psychly.hindawi.2021.0404", "erratum", PeerReviewStatus.NOT_PEER_REVIEWED),
    # update-to spelled "retration"
    ("10.5555/psychly.retration.2022.0505", "retraction", PeerReviewStatus.NOT_PEER_REVIEWED),
    ("10.5555/psychly.retraction.2021.001", "retraction", PeerReviewStatus.NOT_PEER_REVIEWED),
    # real studies stay studies
    ("10.1371/journal.pone.0033693", "", PeerReviewStatus.PEER_REVIEWED),
    ("10.1176/appi.ajp.2020.20050596", "", PeerReviewStatus.PEER_REVIEWED),
])
def test_each_recorded_work_gets_the_right_verdict(doi, kind, status):
    assert _verdict(load_work(doi)) == (kind, status)


def test_the_original_whose_updated_by_says_Retraction_with_a_capital_is_retracted():
    fields = fields_from_work(load_work("10.5555/psychly.original.2019.0606"))
    assert fields["notice_kind"] == ""
    assert fields["retraction_status"] == RetractionStatus.RETRACTED
    assert fields["updates"][0]["type"] == "retraction"


def test_every_notice_in_a_recorded_is_update_listing_is_a_notice():
    items = json.loads((FIXTURES / "notices-is-update.json").read_text())["message"]["items"]
    # Each of these updates another DOI (the last one names itself, which proves nothing).
    notices = [item for item in items if all(u["DOI"] != item["DOI"] for u in item["update-to"])]
    assert len(notices) == 4
    for item in notices:
        kind, status = _verdict(item)
        assert kind and status == PeerReviewStatus.NOT_PEER_REVIEWED, item["DOI"]


@pytest.mark.parametrize(("update_type", "kind"), [
    ("retraction", "retraction"), ("Retraction", "retraction"), ("RETRACTION", "retraction"),
    ("retration", "retraction"), ("partial_retraction", "partial_retraction"),
    ("Partial Retraction", "partial_retraction"), ("expression_of_concern", "expression_of_concern"),
    ("expression-of-concern", "expression_of_concern"), ("Expression of Concern", "expression_of_concern"),
    ("correction", "correction"), ("Correction", "correction"), ("erratum", "erratum"),
    ("corrigendum", "corrigendum"), ("withdrawal", "withdrawal"), ("removal", "removal"),
    ("addendum", "addendum"),
])
def test_an_update_to_another_work_makes_a_notice_however_the_type_is_spelled(update_type, kind):
    work = _work(**{"update-to": [{"DOI": "10.5555/other", "type": update_type}]})
    assert _verdict(work) == (kind, PeerReviewStatus.NOT_PEER_REVIEWED)


@pytest.mark.parametrize("update_type", ["new_version", "new_edition", "New_Version", "new-version"])
def test_relations_that_are_no_editorial_notice_leave_a_work_a_work(update_type):
    work = _work(**{"update-to": [{"DOI": "10.5555/earlier", "type": update_type}]})
    assert _verdict(work) == ("", PeerReviewStatus.PEER_REVIEWED)


def test_an_update_to_naming_the_work_itself_in_another_case_is_ignored():
    work = _work("10.5555/Self.1", **{"update-to": [{"DOI": "10.5555/SELF.1", "type": "retraction"}]})
    assert _verdict(work) == ("", PeerReviewStatus.PEER_REVIEWED)


@pytest.mark.parametrize(("title", "kind"), [
    ("Retracted: The efficacy of aerobic exercise", "retraction"),
    ("RETRACTED: Ileal-lymphoid-nodular hyperplasia", "retraction"),
    ("Retraction: Omega-3 and mania", "retraction"),
    ("Retraction notice to “Omega-3 and mania” [J Affect Disord 2019]", "retraction"),
    ("Retraction Note to: Omega-3 and mania", "retraction"),
    ("Notice of Retraction: Omega-3 and mania", "retraction"),
    ("Retraction—Ileal-lymphoid-nodular hyperplasia", "retraction"),
    ("Erratum to “Mindfulness training and cortisol”", "erratum"),
    ("Erratum: Mindfulness training and cortisol", "erratum"),
    ("Erratum", "erratum"),
    ("Correction to: Sleep and depression", "correction"),
    ("Correction: Sleep and depression", "correction"),
    ("Author Correction: Sleep and depression", "correction"),
    ("Corrigendum to “Sleep and depression”", "corrigendum"),
    ("Notice of concern", "expression_of_concern"),
    ("Expression of Concern: Sleep and depression", "expression_of_concern"),
    ("Editorial Expression of Concern", "expression_of_concern"),
    ("Withdrawn: Sleep and depression", "withdrawal"),
    ("Withdrawal: Sleep and depression", "withdrawal"),
    ("Notice of withdrawal of “Sleep and depression”", "withdrawal"),
    ("Removal notice to “Sleep and depression”", "removal"),
    ("<i>Retracted:</i> Sleep and depression", "retraction"),
])
def test_a_notice_deposited_without_relations_is_known_by_its_title(title, kind):
    assert _verdict(_work(title=title)) == (kind, PeerReviewStatus.NOT_PEER_REVIEWED)


@pytest.mark.parametrize("title", [
    "Correction of hyponatraemia in psychiatric inpatients",
    "Withdrawal of antidepressants: a randomised trial",
    "Withdrawal-induced anxiety in mice",
    "Retraction of the gingiva during restorative treatment",
    "Errors and their correction in memory: a study",
    "Concern about climate change and anxiety",
])
def test_a_study_whose_title_merely_starts_with_such_a_word_stays_a_study(title):
    assert _verdict(_work(title=title)) == ("", PeerReviewStatus.PEER_REVIEWED)


@pytest.mark.parametrize(("extra", "kind"), [
    ({"subtype": "retraction"}, "retraction"),
    ({"subtype": "correction"}, "correction"),
    ({"type": "erratum"}, "erratum"),
])
def test_a_type_or_subtype_that_names_a_notice_makes_one(extra, kind):
    assert _verdict({**_work(), **extra})[0] == kind


def test_a_notice_is_never_peer_reviewed_whatever_its_type():
    assert peer_review_status_for("journal-article", is_notice=True) == PeerReviewStatus.NOT_PEER_REVIEWED
    assert peer_review_status_for("book-chapter", is_notice=True) == PeerReviewStatus.NOT_PEER_REVIEWED


@pytest.mark.parametrize(("updated_by_type", "status"), [
    ("Retraction", RetractionStatus.RETRACTED), ("retration", RetractionStatus.RETRACTED),
    ("Partial_Retraction", RetractionStatus.RETRACTED), ("Withdrawal", RetractionStatus.RETRACTED),
    ("expression-of-concern", RetractionStatus.EXPRESSION_OF_CONCERN), ("Correction", RetractionStatus.CORRECTED),
    ("new_version", RetractionStatus.NONE),
])
def test_updated_by_types_are_read_however_they_are_spelled(updated_by_type, status):
    updates = updates_from_work(_work(**{"updated-by": [{"DOI": "10.5555/n", "type": updated_by_type}]}))
    assert retraction_status_for(updates) == status
    # Already-stored entries with the raw spelling are read the same way.
    assert retraction_status_for([{"type": updated_by_type}]) == status


def test_one_update_spelled_two_ways_is_one_notice():
    updates = updates_from_work(_work(**{"updated-by": [
        {"DOI": "10.5555/n", "type": "retraction", "source": "publisher"},
        {"DOI": "10.5555/N", "type": "Retraction", "source": "retraction-watch"},
    ]}))
    assert [u["type"] for u in updates] == ["retraction"]

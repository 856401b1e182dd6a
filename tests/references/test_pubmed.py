"""The NCBI E-utilities client against real recorded PubMed answers served by a fake NCBI on 127.0.0.1.

The records are real efetch answers copied from public projects' test fixtures: where each came from is in
tests/fixtures/pubmed/README.md. Records for notices are built from a real one by adding the publication
type or relation PubMed uses (see ``variant``), because no recorded retraction could be found to copy.
"""

import re
import threading
import time

import pytest

from references import pubmed
from tests.fake_ncbi import load_record

RCT = "23121403"  # Brighton et al. 2012, NEJM: randomised controlled trial (biocommons/eutils)
ANIMAL = "11748933"  # Taddei et al. 2001, Cryobiology: sea bream spermatozoa (biopython)
REVIEW = "12091962"  # Olivero 1990: review (biopython)
PMC_LINKED = "19129924"  # Ray & Bhalla 2008, with PMC2614320 (internetarchive/fatcat)


def variant(pmid, *, base=RCT, types=(), relations=(), drop_doi=False):
    """A real record with another PMID and added publication types or CommentsCorrections entries."""
    text = load_record(base).decode()
    text = text.replace(f">{base}</PMID>", f">{pmid}</PMID>").replace(
        f'<ArticleId IdType="pubmed">{base}</ArticleId>', f'<ArticleId IdType="pubmed">{pmid}</ArticleId>'
    )
    added = "".join(f'<PublicationType UI="D0">{t}</PublicationType>' for t in types)
    text = text.replace("</PublicationTypeList>", added + "</PublicationTypeList>", 1)
    if relations:
        entries = "".join(
            f'<CommentsCorrections RefType="{kind}"><RefSource>{source}</RefSource>'
            f'<PMID Version="1">{ref}</PMID></CommentsCorrections>'
            for kind, source, ref in relations
        )
        if "<CommentsCorrectionsList>" in text:
            text = text.replace("<CommentsCorrectionsList>", "<CommentsCorrectionsList>" + entries, 1)
        else:
            text = text.replace("<MeshHeadingList>", f"<CommentsCorrectionsList>{entries}</CommentsCorrectionsList>"
                                "<MeshHeadingList>", 1)
    if drop_doi:
        text = re.sub(r'\s*<ELocationID EIdType="doi"[^<]*</ELocationID>', "", text)
        text = re.sub(r'\s*<ArticleId IdType="doi">[^<]*</ArticleId>', "", text)
    return text.encode()


# Identifiers ---------------------------------------------------------------


@pytest.mark.parametrize("raw, kind, value", [
    ("PMID: 23121403", "pmid", "23121403"),
    ("pmid:23121403", "pmid", "23121403"),
    ("PMID 23121403", "pmid", "23121403"),
    ("  23121403 ", "pmid", "23121403"),
    ("https://pubmed.ncbi.nlm.nih.gov/23121403/", "pmid", "23121403"),
    ("https://pubmed.ncbi.nlm.nih.gov/23121403", "pmid", "23121403"),
    ("https://www.ncbi.nlm.nih.gov/pubmed/23121403", "pmid", "23121403"),
    ("PMC2614320", "pmcid", "PMC2614320"),
    ("pmc2614320", "pmcid", "PMC2614320"),
    ("PMCID: PMC2614320", "pmcid", "PMC2614320"),
    ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC2614320/", "pmcid", "PMC2614320"),
    ("https://pmc.ncbi.nlm.nih.gov/articles/PMC2614320/", "pmcid", "PMC2614320"),
])
def test_identifiers_in_every_pasted_form(raw, kind, value):
    assert pubmed.parse_pubmed_id(raw) == pubmed.PubMedId(kind, value)
    assert pubmed.looks_like_pubmed_id(raw)


@pytest.mark.parametrize("raw, message", [
    ("", "Give a PMID"),
    ("PMID: 12a4", "is not a PMID"),
    ("PMID: ２３１２１４０３", "is not a PMID"),  # full-width digits
    ("PMID: 0", "PMIDs start at 1"),
    ("PMID: 1234567890", "is not a PMID"),
    ("PMCxyz", "is not a PMCID"),
    ("PMC", "is not a PMCID"),
])
def test_bad_identifiers_are_refused_with_a_message_naming_them(raw, message):
    with pytest.raises(pubmed.InvalidPubMedId, match=message):
        pubmed.parse_pubmed_id(raw)


@pytest.mark.parametrize("text", ["10.1056/nejmoa1210384", "https://doi.org/10.1/x", "nonsense", "Smith 2012"])
def test_dois_and_other_text_are_not_taken_for_pubmed_ids(text):
    assert not pubmed.looks_like_pubmed_id(text)


# Records -------------------------------------------------------------------


def test_an_efetch_record_is_parsed_into_every_field(fake_ncbi):
    record = pubmed.fetch_record(RCT)

    assert record.pmid == RCT
    assert record.title == "Low-dose aspirin for preventing recurrent venous thromboembolism."
    assert record.authors[0] == {"family": "Brighton", "given": "Timothy A"}
    assert record.authors[-1] == {"literal": "ASPIRE Investigators"}
    assert len(record.authors) == 13
    assert record.journal == "The New England journal of medicine"
    assert (record.year, record.volume, record.issue, record.pages) == (2012, "367", "21", "1979-87")
    assert record.doi == "10.1056/nejmoa1210384"
    assert record.pmcid == ""
    sections = record.abstract.split("\n\n")
    assert [s.split(":")[0] for s in sections] == ["Background", "Methods", "Results", "Conclusions"]
    assert sections[1].startswith("Methods: We randomly assigned 822 patients")
    assert "Randomized Controlled Trial" in record.publication_types
    assert {"Humans", "Aspirin", "Venous Thromboembolism"} <= set(record.mesh_terms)
    assert [r["type"] for r in record.relations] == ["CommentIn"] * 8
    assert record.notice_kind == "" and record.updates() == []


def test_start_and_end_pages_are_given_in_full(fake_ncbi):
    record = pubmed.fetch_record(ANIMAL)
    assert record.pages == "244-255"
    assert "Animals" in record.mesh_terms and "Humans" not in record.mesh_terms
    assert record.authors[0] == {"family": "Taddei", "given": "A R"}


def test_requests_name_the_tool_the_contact_and_the_key(fake_ncbi, settings):
    settings.NCBI_API_KEY = "k" * 36
    settings.NCBI_EMAIL = "editors@psychly.example"
    pubmed.fetch_record(RCT)
    _, path, query = fake_ncbi.requests[-1]
    assert path == "/efetch.fcgi"
    assert query == {"db": "pubmed", "id": RCT, "retmode": "xml", "tool": "psychly-editorial",
                     "email": "editors@psychly.example", "api_key": "k" * 36}


def test_without_a_key_no_api_key_parameter_is_sent(fake_ncbi, settings):
    settings.NCBI_API_KEY = ""
    pubmed.fetch_record(RCT)
    assert "api_key" not in fake_ncbi.requests[-1][2]


def test_a_pmcid_is_resolved_to_its_pmid_through_esearch(fake_ncbi):
    record = pubmed.fetch_by_id(pubmed.parse_pubmed_id("https://pmc.ncbi.nlm.nih.gov/articles/PMC2614320/"))
    assert record.pmid == PMC_LINKED and record.pmcid == "PMC2614320"
    assert record.doi == "10.3389/neuro.11.006.2008"
    assert [(path, query.get("term")) for _, path, query in fake_ncbi.requests] == [
        ("/esearch.fcgi", "PMC2614320[pmcid]"), ("/efetch.fcgi", None),
    ]


def test_an_unknown_pmid_is_not_found(fake_ncbi):
    with pytest.raises(pubmed.RecordNotFound, match="PubMed has no record with PMID 99999999"):
        pubmed.fetch_record("99999999")


def test_an_unknown_pmcid_is_not_found(fake_ncbi):
    with pytest.raises(pubmed.RecordNotFound, match="no article with the PMCID PMC1"):
        pubmed.pmid_for_pmcid("PMC1")


def test_a_truncated_answer_is_a_bad_response(fake_ncbi):
    fake_ncbi.set_mode("bad_xml")
    with pytest.raises(pubmed.PubMedBadResponse, match="not readable XML"):
        pubmed.fetch_record(RCT)


def test_an_answer_declaring_entities_is_refused_unread(fake_ncbi):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE PubmedArticleSet [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><PubmedArticleSet>&b;</PubmedArticleSet>')
    fake_ncbi.records["90000099"] = bomb
    with pytest.raises(pubmed.PubMedBadResponse, match="declares XML entities"):
        pubmed.fetch_record("90000099")


def test_notices_and_their_relations_are_read(fake_ncbi):
    fake_ncbi.records["90000001"] = variant(
        "90000001", types=["Retracted Publication"],
        relations=[("RetractionIn", "N Engl J Med. 2020;382:1. doi: 10.1056/NEJMx200001.", "90000002"),
                   ("ErratumIn", "N Engl J Med. 2013;368:300", "90000003")],
    )
    record = pubmed.fetch_record("90000001")
    updates = record.updates()
    assert [(u["type"], u["pmid"], u["DOI"], u["source"]) for u in updates] == [
        ("retraction", "90000002", "10.1056/nejmx200001", "pubmed"),
        ("erratum", "90000003", "", "pubmed"),
    ]
    assert updates[0]["label"].startswith("Retraction in: N Engl J Med. 2020")
    assert record.notice_kind == ""


@pytest.mark.parametrize("types, relations, kind", [
    (["Retraction of Publication"], [("RetractionOf", "N Engl J Med. 2012;367:1979", RCT)], "retraction"),
    (["Published Erratum"], [], "erratum"),
    ([], [("ErratumFor", "N Engl J Med. 2012;367:1979", RCT)], "erratum"),
    (["Expression of Concern"], [], "expression_of_concern"),
])
def test_a_notice_record_is_itself_a_notice(fake_ncbi, types, relations, kind):
    fake_ncbi.records["90000010"] = variant("90000010", types=types, relations=relations)
    record = pubmed.fetch_record("90000010")
    assert record.notice_kind == kind
    assert record.updates() == []  # a notice about another work puts no notice on itself


# Failures: offline, refusals, huge and trickling answers -------------------


def test_offline_pubmed_is_unavailable_with_a_clear_message(settings):
    settings.NCBI_API_URL = "http://127.0.0.1:9/"  # nothing listens there
    with pytest.raises(pubmed.PubMedUnavailable, match=r"PubMed could not be reached .*PMID 23121403"):
        pubmed.fetch_record(RCT)


def test_a_dropped_connection_is_unavailable(fake_ncbi):
    fake_ncbi.set_mode("drop")
    with pytest.raises(pubmed.PubMedUnavailable, match="PubMed"):
        pubmed.fetch_record(RCT)


def test_rate_limit_answers_are_retried_honouring_retry_after(fake_ncbi, no_pubmed_wait):
    fake_ncbi.set_mode("rate_limit", times=2)
    assert pubmed.fetch_record(RCT).pmid == RCT
    assert len(fake_ncbi.requests) == 3
    assert no_pubmed_wait.count(1.0) == 2  # Retry-After: 1, twice


def test_server_errors_are_retried_with_backoff(fake_ncbi, no_pubmed_wait):
    fake_ncbi.set_mode("server_error", times=1)
    assert pubmed.fetch_record(RCT).pmid == RCT
    assert len(fake_ncbi.requests) == 2
    assert pubmed.BACKOFF_BASE_SECONDS in no_pubmed_wait


def test_refusals_are_retried_a_bounded_number_of_times(fake_ncbi):
    fake_ncbi.set_mode("rate_limit")
    with pytest.raises(pubmed.PubMedUnavailable, match=r"answered 429 \(rate limit\)"):
        pubmed.fetch_record(RCT)
    assert len(fake_ncbi.requests) == pubmed.MAX_ATTEMPTS


def test_no_retry_waits_past_the_deadline(fake_ncbi, settings, no_pubmed_wait):
    settings.NCBI_TIMEOUT = 0.5  # Retry-After: 1 would overrun it
    fake_ncbi.set_mode("rate_limit")
    with pytest.raises(pubmed.PubMedUnavailable, match="429"):
        pubmed.fetch_record(RCT)
    assert len(fake_ncbi.requests) == 1
    assert 1.0 not in no_pubmed_wait


def test_a_huge_answer_is_cut_off_by_the_shared_reader(fake_ncbi):
    fake_ncbi.set_mode("huge")
    with pytest.raises(pubmed.PubMedUnavailable, match="larger than the 5,242,880 bytes allowed"):
        pubmed.fetch_record(RCT)


def test_a_trickling_answer_is_cut_off_at_the_deadline(fake_ncbi, settings):
    settings.NCBI_TIMEOUT = 1
    fake_ncbi.set_mode("trickle")
    started = time.monotonic()
    with pytest.raises(pubmed.PubMedUnavailable, match="within 1 seconds"):
        pubmed.fetch_record(RCT)
    assert time.monotonic() - started < 3


# Rate limiting ---------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds


def test_the_limiter_spaces_requests_three_a_second(settings):
    settings.NCBI_API_KEY = ""
    clock = FakeClock()
    limiter = pubmed.RateLimiter(clock=clock, sleeper=clock.sleep)
    for _ in range(4):
        limiter.wait()
    assert clock.slept == [pytest.approx(1 / 3)] * 3
    assert clock.now == pytest.approx(101.0)


def test_with_an_api_key_the_limiter_allows_ten_a_second(settings):
    settings.NCBI_API_KEY = "k" * 36
    clock = FakeClock()
    limiter = pubmed.RateLimiter(clock=clock, sleeper=clock.sleep)
    for _ in range(11):
        limiter.wait()
    assert clock.now == pytest.approx(101.0)


def test_the_limiter_does_not_wait_after_a_quiet_spell(settings):
    settings.NCBI_API_KEY = ""
    clock = FakeClock()
    limiter = pubmed.RateLimiter(clock=clock, sleeper=clock.sleep)
    limiter.wait()
    clock.now += 5
    assert limiter.wait() == 0 and clock.slept == []


def test_threads_share_one_limit(settings):
    settings.NCBI_API_KEY = ""
    clock = FakeClock()
    delays = []
    limiter = pubmed.RateLimiter(clock=clock, sleeper=lambda s: None)
    threads = [threading.Thread(target=lambda: delays.append(limiter.wait())) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each thread got its own slot, a third of a second after the one before.
    assert sorted(round(d, 6) for d in delays) == [round(i / 3, 6) for i in range(6)]


def test_real_requests_arrive_at_most_three_a_second(fake_ncbi, settings, monkeypatch):
    """The process-wide limiter really sleeps between calls: four requests take at least a second."""
    settings.NCBI_API_KEY = ""
    monkeypatch.setattr(pubmed, "sleep", time.sleep)
    for _ in range(4):
        pubmed.fetch_record(RCT)
    times = [t for t, _, _ in fake_ncbi.requests]
    assert times[-1] - times[0] >= 1.0 - 0.05
    assert all(b - a >= 1 / 3 - 0.05 for a, b in zip(times, times[1:]))

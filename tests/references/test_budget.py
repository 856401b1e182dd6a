"""One time budget for every outside call (references.budget): the shared reader, PubMed's retries and rate
limiter and Crossref's all stop at what is left of it, and a spent one is named for what it covered."""

import time

import pytest

from references import budget, crossref, http, pubmed
from references.budget import command_budget

RCT = "23121403"


def _timed(call):
    started = time.monotonic()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the caller asserts on what was raised
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_the_reader_never_waits_past_the_budget_left(fake_ncbi):
    fake_ncbi.trickle_seconds = 0.02
    fake_ncbi.set_mode("trickle")
    with budget.budget(0.5):
        error, elapsed = _timed(lambda: http.get(f"{fake_ncbi.url}/efetch.fcgi", deadline_seconds=10,
                                                 max_bytes=1000, what="PubMed"))
    assert isinstance(error, http.BudgetSpent) and error.asked
    assert str(error).startswith("PubMed did not finish its answer in the 0.5 seconds left")
    assert str(error).endswith("; time budget for this request spent; try again.")
    assert elapsed < 1.5


def test_the_reader_asks_nothing_when_too_little_is_left(fake_ncbi):
    with budget.budget(budget.MIN_CALL_SECONDS / 2), pytest.raises(http.BudgetSpent) as raised:
        http.get(fake_ncbi.url, deadline_seconds=10, max_bytes=1000, what="PubMed")
    assert not raised.value.asked
    assert fake_ncbi.requests == []


def test_the_readers_own_deadline_still_holds_inside_a_longer_budget(fake_ncbi):
    fake_ncbi.trickle_seconds = 0.02
    fake_ncbi.set_mode("trickle")
    with budget.budget(60), pytest.raises(http.DeadlineExceeded) as raised:
        http.get(f"{fake_ncbi.url}/efetch.fcgi", deadline_seconds=0.5, max_bytes=1000, what="PubMed")
    assert not isinstance(raised.value, http.BudgetSpent)


def test_a_pubmed_retry_after_longer_than_the_budget_left_is_not_waited_for(fake_ncbi, no_pubmed_wait):
    fake_ncbi.set_mode("rate_limit")  # 429 with Retry-After: 1
    with budget.budget(1.0), pytest.raises(pubmed.BudgetSpent) as raised:
        pubmed.fetch_record(RCT)
    assert isinstance(raised.value, pubmed.PubMedUnavailable)
    assert str(raised.value).startswith(f"PubMed answered 429 for PMID {RCT} and asks to wait 1 seconds, more than")
    assert no_pubmed_wait == []
    assert len(fake_ncbi.requests) == 1


def test_a_pubmed_retry_within_the_budget_is_waited_for(fake_ncbi, no_pubmed_wait):
    fake_ncbi.set_mode("rate_limit", times=1)
    with budget.budget(30):
        assert pubmed.fetch_record(RCT).pmid == RCT
    assert 1.0 in no_pubmed_wait
    assert len(fake_ncbi.requests) == 2


def test_the_rate_limiter_never_waits_past_the_budget(fake_ncbi, no_pubmed_wait, settings):
    """Another call took this second's slots: the next would wait a third of a second, more than is left."""
    settings.NCBI_API_KEY = ""
    pubmed.limiter.wait()
    with budget.budget(budget.MIN_CALL_SECONDS + 0.2), pytest.raises(pubmed.BudgetSpent) as raised:
        pubmed.fetch_record(RCT)
    assert "NCBI's rate limit would have kept it waiting past the budget" in str(raised.value)
    assert fake_ncbi.requests == []
    assert no_pubmed_wait == []
    # No slot was taken by the call that did not wait: the next caller's wait is unchanged.
    assert pubmed.limiter.wait() == pytest.approx(1 / 3, abs=0.05)


def test_crossref_and_pubmed_draw_on_one_budget(fake_crossref, fake_ncbi, settings):
    settings.CROSSREF_DEADLINE = 10
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    with budget.budget(0.6):
        crossref_error, _ = _timed(lambda: crossref.fetch_work("10.1159/000493425"))
        pubmed_error, elapsed = _timed(lambda: pubmed.fetch_record(RCT))
    assert isinstance(crossref_error, crossref.BudgetSpent)
    assert isinstance(pubmed_error, pubmed.BudgetSpent)
    assert fake_ncbi.requests == [] and elapsed < 0.1


def test_a_budget_names_what_it_covers_and_the_tighter_one_is_named(settings, monkeypatch):
    monkeypatch.setattr(budget, "monotonic", lambda: 10.0)
    settings.CROSSREF_COMMAND_BUDGET = 60
    with command_budget("this reference") as outer:
        assert outer.spent_message == (
            "time budget for this reference (60 s, CROSSREF_COMMAND_BUDGET) spent; try again"
        )
        with budget.budget(5, description="this page") as inner:
            assert inner.description == "this page" and budget.remaining() == 5
    with budget.budget(2) as request:
        with command_budget("this input") as inner:
            assert inner is request and budget.spent_message() == "time budget for this request spent; try again"
    assert budget.current() is None and budget.remaining() is None


def test_every_web_request_has_one_budget(settings):
    """The middleware stands in front of every view, so PubMed's calls from the admin are bounded too."""
    from django.utils.module_loading import import_string

    assert budget.RequestBudgetMiddleware in [import_string(path) for path in settings.MIDDLEWARE]
    assert crossref.RequestBudgetMiddleware is budget.RequestBudgetMiddleware  # the old name still works
    seen = []
    middleware = budget.RequestBudgetMiddleware(lambda request: seen.append(budget.current()) or "answer")
    settings.CROSSREF_REQUEST_BUDGET = 7
    assert middleware(object()) == "answer"
    assert seen[0].description == "this request" and 6 < seen[0].remaining() <= 7
    assert budget.current() is None

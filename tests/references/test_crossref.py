"""Every failure mode of the Crossref module, against a fake Crossref on 127.0.0.1."""

import socket

import pytest

from references import crossref
from references.crossref import CrossrefBadResponse, CrossrefUnavailable, WorkNotFound, fetch_work, work_url

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"


def test_fetches_the_work_message(fake_crossref):
    work = fetch_work(ZORUMSKI)
    assert work["DOI"] == ZORUMSKI
    assert work["title"] == ["Ketamine: NMDA Receptors and Beyond"]
    assert fake_crossref.requests == ["/works/10.1523/jneurosci.1547-16.2016"]


def test_requests_carry_the_polite_pool_contact(fake_crossref, settings):
    settings.CROSSREF_MAILTO = "desk@psychly.example"
    fetch_work(ZORUMSKI)
    assert "mailto:desk@psychly.example" in fake_crossref.user_agents[0]
    assert "CrossrefAPI" in fake_crossref.user_agents[0]


def test_the_default_endpoint_is_crossref_over_https(settings):
    settings.CROSSREF_API_URL = "https://api.crossref.org"
    assert work_url(ZORUMSKI) == "https://api.crossref.org/works/10.1523/jneurosci.1547-16.2016"


def test_the_configured_endpoint_may_have_a_path_and_trailing_slash(settings):
    settings.CROSSREF_API_URL = "http://127.0.0.1:8123/mirror/"
    assert work_url("10.1000/x") == "http://127.0.0.1:8123/mirror/works/10.1000/x"


def test_the_doi_is_percent_encoded_so_hash_and_question_mark_reach_crossref(fake_crossref):
    with pytest.raises(WorkNotFound):
        fetch_work("10.1002/(sici)1097-4571(199806)49:8<693::aid-asi4>3.0.co;2-0#x?y")
    assert fake_crossref.requests == [
        "/works/10.1002/%28sici%291097-4571%28199806%2949%3A8%3C693%3A%3Aaid-asi4%3E3.0.co%3B2-0%23x%3Fy"
    ]


def test_an_unknown_doi_is_work_not_found(fake_crossref):
    with pytest.raises(WorkNotFound, match="Crossref has no work with the DOI 10.5555/nothing-here"):
        fetch_work("10.5555/nothing-here")


@pytest.mark.parametrize(("mode", "words"), [("rate_limit", "429 (rate limit)"), ("server_error", "500 (server error)")])
def test_rate_limits_and_server_errors_are_retried_then_reported(fake_crossref, settings, no_backoff_wait, mode, words):
    settings.CROSSREF_MAX_RETRIES = 3
    fake_crossref.set_mode(mode)
    with pytest.raises(CrossrefUnavailable) as raised:
        fetch_work(ZORUMSKI)
    assert f"Crossref answered {words} 4 times for {ZORUMSKI}" in str(raised.value)
    assert len(fake_crossref.requests) == 4
    assert len(no_backoff_wait) == 3


def test_backoff_doubles_and_honours_retry_after(fake_crossref, settings, no_backoff_wait):
    settings.CROSSREF_MAX_RETRIES = 2
    fake_crossref.set_mode("server_error")
    with pytest.raises(CrossrefUnavailable):
        fetch_work(ZORUMSKI)
    assert no_backoff_wait == [1.0, 2.0]
    no_backoff_wait.clear()
    fake_crossref.set_mode("rate_limit")  # sends Retry-After: 1
    with pytest.raises(CrossrefUnavailable):
        fetch_work(ZORUMSKI)
    assert no_backoff_wait == [1.0, 1.0]


def test_a_transient_rate_limit_is_survived(fake_crossref, no_backoff_wait):
    fake_crossref.set_mode("rate_limit", times=2)
    assert fetch_work(ZORUMSKI)["DOI"] == ZORUMSKI
    assert len(fake_crossref.requests) == 3
    assert len(no_backoff_wait) == 2


def test_a_slow_answer_times_out(fake_crossref, settings):
    settings.CROSSREF_TIMEOUT = 0.2
    fake_crossref.slow_seconds = 1.0
    fake_crossref.set_mode("slow")
    with pytest.raises(CrossrefUnavailable, match="did not answer within 0.2 seconds"):
        fetch_work(ZORUMSKI)


def test_no_network_is_crossref_unavailable(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CROSSREF_API_URL = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(CrossrefUnavailable, match="could not be reached for 10.1523/jneurosci.1547-16.2016"):
        fetch_work(ZORUMSKI)


def test_an_answer_that_is_not_json_is_a_bad_response(fake_crossref):
    fake_crossref.set_mode("bad_json")
    with pytest.raises(CrossrefBadResponse, match="is not JSON"):
        fetch_work(ZORUMSKI)


def test_an_answer_that_is_not_a_work_is_a_bad_response(fake_crossref):
    fake_crossref.set_mode("not_a_work")
    with pytest.raises(CrossrefBadResponse, match="is not a work \\(got 'work-list'\\)"):
        fetch_work(ZORUMSKI)


def test_a_json_refusal_is_a_bad_response_not_a_silent_list(fake_crossref):
    fake_crossref.set_mode("json_refusal")
    with pytest.raises(CrossrefBadResponse, match="status 400"):
        fetch_work(ZORUMSKI)


def test_every_failure_is_one_of_ours():
    for error in (WorkNotFound, CrossrefUnavailable, CrossrefBadResponse):
        assert issubclass(error, crossref.CrossrefError)


# Bounded calls: a total deadline and a size cap, against the fake server's hostile modes -------------

import math  # noqa: E402
import time  # noqa: E402

from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st  # noqa: E402

from references.crossref import BudgetSpent, budget, clean_work  # noqa: E402
from references.metadata import fields_from_work  # noqa: E402
from references.models import Reference  # noqa: E402
from references.services import apply_work  # noqa: E402
from tests.fake_crossref import MISTYPED_FIELDS  # noqa: E402


def _timed(call):
    started = time.monotonic()
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the caller asserts on what was raised
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.mark.parametrize("mode", ["trickle", "trickle_body"])
def test_an_answer_trickled_a_byte_at_a_time_stops_at_the_deadline(fake_crossref, settings, mode):
    """"trickle" sends even the status line and headers a byte at a time, which requests reads before any of
    our code runs; only the timer that cuts the socket ends it. Each byte arrives well within the read timeout."""
    settings.CROSSREF_DEADLINE = 0.5
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode(mode)
    error, elapsed = _timed(lambda: fetch_work(ZORUMSKI))
    assert isinstance(error, CrossrefUnavailable)
    assert str(error) == f"Crossref did not finish its answer within 0.5 seconds for {ZORUMSKI}."
    assert elapsed < 1.5
    assert len(fake_crossref.requests) == 1  # a trickle is not retried


@pytest.mark.parametrize("mode", ["huge", "huge_undeclared", "gzip_bomb"])
def test_an_answer_over_the_size_cap_is_refused_without_reading_it_all(fake_crossref, settings, mode):
    settings.CROSSREF_MAX_BYTES = 2 * 1024 * 1024
    fake_crossref.huge_bytes = 50 * 1024 * 1024
    fake_crossref.set_mode(mode)
    error, elapsed = _timed(lambda: fetch_work(ZORUMSKI))
    assert isinstance(error, CrossrefBadResponse)
    assert str(error) == f"Crossref's answer for {ZORUMSKI} is larger than 2 MB, the most accepted."
    assert elapsed < 5


def test_an_answer_just_under_the_cap_is_read(fake_crossref, settings):
    fake_crossref.huge_bytes = 100_000
    settings.CROSSREF_MAX_BYTES = 200_000
    fake_crossref.set_mode("huge_undeclared")
    work = fetch_work(ZORUMSKI)
    # Read whole, then capped by clean_work: a title is never longer than MAX_TITLE.
    assert work["title"] == ["A" * crossref.MAX_TITLE]


def test_a_gzip_answer_is_inflated(fake_crossref):
    fake_crossref.set_mode("gzip")
    assert fetch_work(ZORUMSKI)["title"] == ["Ketamine: NMDA Receptors and Beyond"]


def test_a_reset_connection_is_crossref_unavailable(fake_crossref):
    fake_crossref.set_mode("reset")
    with pytest.raises(CrossrefUnavailable, match=f"Crossref could not be reached for {ZORUMSKI}"):
        fetch_work(ZORUMSKI)


def test_the_default_cap_is_far_above_real_answers(settings):
    """Recorded work answers (tests/fixtures/crossref) are 3-40 KB; the cap leaves room for works with
    thousands of authors and references."""
    from tests.fake_crossref import FIXTURES

    largest = max(path.stat().st_size for path in FIXTURES.glob("work-*.json"))
    assert largest * 40 < settings.CROSSREF_MAX_BYTES <= 10 * 1024 * 1024


# Budgets: the whole operation, retries and their waits included -------------------------------------


def test_a_retry_after_longer_than_the_budget_left_is_not_waited_for(fake_crossref, no_backoff_wait):
    fake_crossref.retry_after = 30
    fake_crossref.set_mode("rate_limit")
    with budget(5), pytest.raises(BudgetSpent) as raised:
        fetch_work(ZORUMSKI)
    assert "asks to wait 30 seconds, more than the" in str(raised.value)
    assert "time budget for this request spent; try again" in str(raised.value)
    assert no_backoff_wait == []
    assert len(fake_crossref.requests) == 1


@pytest.fixture
def fake_clock(monkeypatch):
    """The budget's clock stands still except while Crossref's client sleeps; returns the waits slept."""
    from references import budget as budgets

    clock, waits = [1000.0], []

    def sleep(seconds):
        waits.append(seconds)
        clock[0] += seconds

    monkeypatch.setattr(budgets, "monotonic", lambda: clock[0])
    monkeypatch.setattr(crossref, "sleep", sleep)
    return waits


def test_a_retry_after_within_the_budget_is_waited_for(fake_crossref, fake_clock):
    fake_crossref.retry_after = 30
    fake_crossref.set_mode("rate_limit", times=1)
    with budget(100):
        assert fetch_work(ZORUMSKI)["DOI"] == ZORUMSKI
    assert fake_clock == [30.0]


def test_three_retry_afters_of_30_seconds_stop_when_the_budget_is_spent(fake_crossref, settings, fake_clock):
    """Three retries honouring Retry-After: 30 once outlasted gunicorn's 30 s timeout."""
    settings.CROSSREF_MAX_RETRIES = 3
    fake_crossref.retry_after = 30
    fake_crossref.set_mode("rate_limit")
    with budget(settings.CROSSREF_REQUEST_BUDGET), pytest.raises(BudgetSpent):
        fetch_work(ZORUMSKI)
    assert sum(fake_clock) < settings.CROSSREF_REQUEST_BUDGET
    assert len(fake_crossref.requests) == len(fake_clock) + 1


def test_a_spent_budget_asks_crossref_nothing(fake_crossref):
    with budget(0), pytest.raises(BudgetSpent, match=f"time budget for this request spent; try again \\({ZORUMSKI}"):
        fetch_work(ZORUMSKI)
    assert fake_crossref.requests == []


def test_the_budget_cuts_a_call_short_of_its_own_deadline(fake_crossref, settings):
    settings.CROSSREF_DEADLINE = 10
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    with budget(0.6):
        error, elapsed = _timed(lambda: fetch_work(ZORUMSKI))
    assert isinstance(error, BudgetSpent)
    assert "seconds left; time budget for this request spent; try again" in str(error)
    assert elapsed < 1.5


def test_an_inner_budget_never_outlasts_the_outer(monkeypatch):
    from references import budget as budgets

    monkeypatch.setattr(budgets, "monotonic", lambda: 50.0)
    assert crossref.remaining_budget() is None
    with budget(2):
        with budget(60):
            assert crossref.remaining_budget() == 2
        with budget(1):
            assert crossref.remaining_budget() == 1
        assert crossref.remaining_budget() == 2
    assert crossref.remaining_budget() is None


def test_a_fetch_outside_any_budget_is_bounded_by_the_request_budget(fake_crossref, settings):
    settings.CROSSREF_DEADLINE = 10
    settings.CROSSREF_REQUEST_BUDGET = 0.5
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    error, elapsed = _timed(lambda: fetch_work(ZORUMSKI))
    assert isinstance(error, BudgetSpent)
    assert elapsed < 1.5


def test_the_request_budget_is_well_under_the_worker_timeout(settings, monkeypatch):
    import runpy
    from pathlib import Path

    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "psychly" / "gunicorn.conf.py"))
    assert settings.CROSSREF_REQUEST_BUDGET <= conf["timeout"] / 2
    assert settings.CROSSREF_DEADLINE <= settings.CROSSREF_REQUEST_BUDGET


# Type-checked parsing ---------------------------------------------------------------------------------


def test_a_mistyped_work_is_cleaned_into_well_typed_fields(fake_crossref):
    fake_crossref.set_mode("mistyped")
    work = fetch_work(ZORUMSKI)
    assert work["title"] == ["A title as a string, not a list"]
    assert work["author"] == [{"family": "Dict", "given": "Not a list"}]
    assert work["issued"] == {"date-parts": [[2019]]}
    assert work["volume"] == "12"
    assert work["issue"] == "3"
    assert work["article-number"] == "7.5"
    assert work["updated-by"] == [{"type": "retraction"}]
    assert work["type"] == "journal-article"  # a list of one is its item
    assert work["short-container-title"] == ["3"]
    for dropped in ("container-title", "published", "published-print", "created", "page", "publisher",
                    "editor", "update-to"):
        assert dropped not in work, dropped
    fields = fields_from_work(work)
    assert fields["title"] == "A title as a string, not a list"
    assert fields["year"] == 2019
    assert fields["volume"] == "12"


def test_a_mistyped_work_is_saved_through_the_service(fake_crossref, db):
    from references.services import add_reference_by_doi

    fake_crossref.set_mode("mistyped")
    reference, created = add_reference_by_doi(ZORUMSKI)
    assert created
    reference.refresh_from_db()
    assert (reference.title, reference.year, reference.volume) == ("A title as a string, not a list", 2019, "12")
    assert reference.authors == [{"family": "Dict", "given": "Not a list"}]


def test_clean_work_caps_strings_and_lists():
    message = {
        "DOI": "10.1000/big", "title": ["T" * 100_000], "abstract": "a" * 1_000_000,
        "author": [{"family": f"F{i}", "given": "G" * 5_000} for i in range(5_000)],
        "reference": [{"key": str(i)} for i in range(10_000)],
        "deep": [[[[[[[[[["too deep"]]]]]]]]]],
        "score": math.nan,
    }
    work = clean_work(message)
    assert len(work["title"][0]) == crossref.MAX_TITLE == 2_000
    assert len(work["abstract"]) == crossref.MAX_LONG_TEXT
    assert len(work["author"]) == crossref.MAX_ITEMS == 1_000
    assert len(work["author"][0]["given"]) == crossref.MAX_SHORT_TEXT
    assert len(work["reference"]) == 1_000
    assert "too deep" not in str(work["deep"])
    assert "score" not in work


@pytest.mark.parametrize("doi", [None, 10.1, "", "  ", "not-a-doi", "10.1000/" + "x" * 300, "10.1000/a b", ["10.1/x"]])
def test_clean_work_refuses_a_message_without_a_usable_doi(doi):
    with pytest.raises(CrossrefBadResponse, match="has no usable DOI"):
        clean_work({"DOI": doi, "title": ["x"]})


WORK_KEYS = sorted(
    crossref.STRING_LIST_FIELDS | set(crossref.TEXT_FIELDS) | crossref.DATE_FIELDS | crossref.PEOPLE_FIELDS
    | crossref.UPDATE_FIELDS | set(MISTYPED_FIELDS)
    | {"date-parts", "family", "given", "name", "type", "DOI", "label", "source", "updated", "affiliation",
       "relation", "reference", "date-time", "timestamp"}
)
json_scalars = (st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20)
                | st.floats() | st.text(max_size=30) | st.sampled_from(["2019", "12", "journal-article", "retraction"]))
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(WORK_KEYS) | st.text(max_size=8), children, max_size=5),
    max_leaves=25,
)
work_messages = st.dictionaries(st.sampled_from(WORK_KEYS), json_values, max_size=12)
dois = st.from_regex(r"10\.\d{4,9}/[-._;()/:a-zA-Z0-9]{1,40}", fullmatch=True) | st.text(max_size=20) | json_scalars


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message=work_messages, doi=dois)
def test_any_json_work_message_becomes_valid_reference_fields_or_a_bad_response(message, doi):
    message = {**message, "DOI": doi}
    try:
        work = clean_work(message)
    except CrossrefBadResponse:
        return
    fields = fields_from_work(work)
    assert isinstance(fields["title"], str) and len(fields["title"]) <= crossref.MAX_TITLE
    assert all(isinstance(a, dict) and all(isinstance(v, str) for v in a.values()) for a in fields["authors"])
    assert fields["year"] is None or 1 <= fields["year"] <= 9999
    reference = apply_work(Reference(doi=fields["doi"]), work)
    # The model's own field validation (lengths, choices, ranges) accepts what Crossref's answer became.
    reference.clean_fields(exclude=["entered_by", "verified_by"])

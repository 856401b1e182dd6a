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

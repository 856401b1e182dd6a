"""The client behind trusted proxies: what sign-in lockouts are keyed on and the security log names."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, RequestFactory

from psychly.client_ip import client_ip
from tests.factories import make_editor

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple-42"
PROXY = "10.0.0.2"  # the TLS-terminating load balancer
CLIENT_A, CLIENT_B = "203.0.113.7", "198.51.100.9"


def _request(remote_addr, forwarded=None):
    extra = {"REMOTE_ADDR": remote_addr}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize(
    ("trusted", "remote_addr", "forwarded", "expected"),
    [
        # No trusted proxy configured: the peer is the client, whatever the header says.
        ([], PROXY, CLIENT_A, PROXY),
        # Through the trusted proxy: the address it appended.
        (["10.0.0.0/8"], PROXY, CLIENT_A, CLIENT_A),
        # The client's own X-Forwarded-For is left of what the proxy appended, and is never believed.
        (["10.0.0.0/8"], PROXY, f"1.1.1.1, {CLIENT_A}", CLIENT_A),
        # Two trusted hops (a CDN in front of the load balancer): the first untrusted address from the right.
        (["10.0.0.0/8", "192.0.2.10"], PROXY, f"1.1.1.1, {CLIENT_A}, 192.0.2.10", CLIENT_A),
        # A direct client is not a trusted proxy: its header is ignored.
        (["10.0.0.0/8"], CLIENT_B, CLIENT_A, CLIENT_B),
        # A trusted proxy that sent no header: the request came from the proxy itself.
        (["10.0.0.0/8"], PROXY, None, PROXY),
        # Rubbish where an address should be: stop at the last hop that can be believed.
        (["10.0.0.0/8"], PROXY, f"{CLIENT_A}, not-an-address", PROXY),
        # Ports and brackets some proxies write, and IPv6 clients.
        (["10.0.0.0/8"], PROXY, f"{CLIENT_A}:51234", CLIENT_A),
        (["10.0.0.0/8"], PROXY, "[2001:db8::7]:443", "2001:db8::7"),
        (["::1"], "::1", "2001:db8::7", "2001:db8::7"),
        # An IPv4 proxy seen through an IPv6 socket still counts as trusted.
        (["10.0.0.0/8"], f"::ffff:{PROXY}", CLIENT_A, CLIENT_A),
    ],
)
def test_the_client_is_found_only_through_trusted_proxies(settings, trusted, remote_addr, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    assert client_ip(_request(remote_addr, forwarded)) == expected


@pytest.fixture
def behind_the_proxy(settings, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_editor("edna", password=PASSWORD)


def _via_proxy(client_address, *, sent_by_client=None):
    """A browser at ``client_address`` reaching the site through the proxy, which appends that address."""
    forwarded = f"{sent_by_client}, {client_address}" if sent_by_client else client_address
    return Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)


def _sign_in(browser, password):
    return browser.post("/admin/login/?next=/admin/", {"username": "edna", "password": password})


def _signed_in(browser):
    return "_auth_user_id" in browser.session and browser.get("/admin/").status_code == 200


def test_five_failures_behind_the_proxy_lock_out_that_client_only(behind_the_proxy):
    a, b = _via_proxy(CLIENT_A), _via_proxy(CLIENT_B)
    answers = [_sign_in(a, f"wrong-{attempt}").status_code for attempt in range(5)]
    assert answers == [200, 200, 200, 200, 429]  # the form with its error, then the lockout on the fifth
    assert _sign_in(a, PASSWORD).status_code in (403, 429)
    assert not _signed_in(a)
    # Everyone else behind the same proxy signs in as edna as usual.
    assert _sign_in(b, PASSWORD).status_code == 302
    assert _signed_in(b)


def test_a_client_cannot_dodge_the_lockout_by_writing_its_own_header(behind_the_proxy):
    # Through the proxy: a different made-up address on each try, left of the one the proxy appends.
    for attempt in range(5):
        _sign_in(_via_proxy(CLIENT_A, sent_by_client=f"192.0.2.{attempt + 1}"), f"wrong-{attempt}")
    assert _sign_in(_via_proxy(CLIENT_A, sent_by_client="192.0.2.99"), PASSWORD).status_code in (403, 429)


def test_a_direct_client_spoofing_the_header_is_keyed_on_its_own_address(behind_the_proxy):
    # Not through the proxy: the header is the client's own claim and names someone else each time.
    for attempt in range(5):
        spoofer = Client(REMOTE_ADDR=CLIENT_B, HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt + 1}")
        _sign_in(spoofer, f"wrong-{attempt}")
    spoofer = Client(REMOTE_ADDR=CLIENT_B, HTTP_X_FORWARDED_FOR=CLIENT_A)
    assert _sign_in(spoofer, PASSWORD).status_code in (403, 429)
    # The address it pretended to be is not locked out.
    assert _sign_in(_via_proxy(CLIENT_A), PASSWORD).status_code == 302


@pytest.fixture
def security_log(caplog):
    # The "psychly" logger does not propagate to the root, where caplog listens.
    logger = logging.getLogger("psychly.auth")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="psychly.auth")
    yield caplog
    logger.removeHandler(caplog.handler)


def _messages(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "psychly.auth"]


def test_the_security_log_names_the_client_behind_the_proxy(behind_the_proxy, security_log):
    a = _via_proxy(CLIENT_A, sent_by_client="192.0.2.50")
    for attempt in range(6):
        _sign_in(a, f"wrong-{attempt}")
    _sign_in(_via_proxy(CLIENT_B), PASSWORD)
    messages = _messages(security_log)
    assert f"failed sign-in: username='edna' from {CLIENT_A}" in messages, messages
    assert f"sign-in locked out: username='edna' from {CLIENT_A}" in messages, messages
    assert any(m.startswith("sign-in: user='edna'") and m.endswith(f"from {CLIENT_B}") for m in messages), messages
    assert not any(PROXY in m or "192.0.2.50" in m for m in messages), messages


def test_the_security_log_names_a_direct_spoofer_by_its_own_address(behind_the_proxy, security_log):
    _sign_in(Client(REMOTE_ADDR=CLIENT_B, HTTP_X_FORWARDED_FOR=CLIENT_A), "wrong")
    assert set(_messages(security_log)) == {f"failed sign-in: username='edna' from {CLIENT_B}"}


def _trusted_proxies_in_a_fresh_process(**environment):
    env = {key: value for key, value in os.environ.items() if key not in {"BEHIND_TLS_PROXY", "TRUSTED_PROXIES"}}
    env.update({"DJANGO_SETTINGS_MODULE": "psychly.settings", "PSYCHLY_READ_DOT_ENV": "0", **environment})
    code = "import django; from django.conf import settings; django.setup(); print(settings.TRUSTED_PROXIES)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_trusted_proxies_come_from_the_environment():
    assert _trusted_proxies_in_a_fresh_process().stdout.strip() == "[]"
    behind = _trusted_proxies_in_a_fresh_process(BEHIND_TLS_PROXY="1").stdout
    assert "10.0.0.0/8" in behind and "127.0.0.0/8" in behind
    named = _trusted_proxies_in_a_fresh_process(BEHIND_TLS_PROXY="1", TRUSTED_PROXIES="10.1.2.3,10.9.0.0/16")
    assert named.stdout.strip() == "['10.1.2.3', '10.9.0.0/16']"


def test_a_mistyped_trusted_proxy_stops_start_up_naming_it():
    result = _trusted_proxies_in_a_fresh_process(TRUSTED_PROXIES="10.0.0.0/8,10.0.0.300")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES: '10.0.0.300' is neither an IP address nor a CIDR block" in result.stderr

"""/healthz answers whatever the Host header; query strings with control characters are refused with 400."""

import pytest
from django.test import Client

from articles.models import Topic
from tests.factories import make_editor, make_reference, make_supported_article

pytestmark = pytest.mark.django_db

LOAD_BALANCER_PROBE = "10.0.0.5"  # an app server's own address, not in ALLOWED_HOSTS


@pytest.fixture
def anyone():
    # DisallowedHost is answered with 400, as in production, instead of raised into the test.
    return Client(raise_request_exception=False)


def test_healthz_answers_a_probe_by_ip_address(anyone):
    response = anyone.get("/healthz", HTTP_HOST=LOAD_BALANCER_PROBE)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]
    # The same answer as for a known host name.
    assert response.json() == anyone.get("/healthz").json()


def test_healthz_answers_any_host_header_but_only_get(anyone):
    assert anyone.get("/healthz", HTTP_HOST="anything.invalid:8080").status_code == 200
    assert anyone.post("/healthz", HTTP_HOST=LOAD_BALANCER_PROBE).status_code == 405


@pytest.mark.parametrize("path", ["/", "/search/?q=sleep", "/admin/login/", "/feed/", "/healthz/", "/healthzx"])
def test_every_other_url_still_refuses_an_unknown_host(anyone, path):
    assert anyone.get(path, HTTP_HOST=LOAD_BALANCER_PROBE).status_code == 400
    assert anyone.get(path).status_code != 400


@pytest.fixture
def editor_client(client):
    editor = make_editor("edna")
    make_supported_article("Sleep and mood", author=editor)
    make_reference("10.1000/sleep.1", title="Sleep study")
    Topic.objects.get_or_create(name="Sleep", defaults={"slug": "sleep"})
    client.force_login(editor)
    return client


AUTOCOMPLETE = "/admin/autocomplete/?app_label=articles&model_name=article&field_name=topics&term="

# Every place a query parameter reaches SQL as text: public search, admin changelist searches, autocomplete.
SEARCHES = [
    ("/search/?q=", "q"),
    ("/admin/articles/article/?q=", "q"),
    ("/admin/references/reference/?q=", "q"),
    ("/admin/articles/topic/?q=", "q"),
    (AUTOCOMPLETE, "term"),
]


@pytest.mark.parametrize(("url", "parameter"), SEARCHES)
def test_a_nul_in_any_search_is_refused_with_a_message(editor_client, url, parameter):
    response = editor_client.get(url + "sleep%00")
    assert response.status_code == 400
    text = response.content.decode()
    assert f"The query parameter '{parameter}' contains a control character (U+0000)" in text
    assert response["Content-Type"].startswith("text/plain")
    # The same search without it is answered as usual.
    assert editor_client.get(url + "sleep").status_code == 200


@pytest.mark.parametrize("query", ["%00", "a%01b", "%1B%5B31m", "%7F", "%0B"])
def test_other_control_characters_are_refused_too(client, query):
    response = client.get(f"/search/?q={query}")
    assert response.status_code == 400
    assert "control character" in response.content.decode()


def test_a_nul_in_a_parameter_name_is_refused(client):
    response = client.get("/search/?q=sleep&x%00y=1")
    assert response.status_code == 400
    assert "'x\\x00y'" in response.content.decode()


def test_tabs_and_new_lines_pasted_into_a_search_are_words_apart(client):
    assert client.get("/search/?q=sleep%09mood%0D%0A").status_code == 200


# -- Content-Security-Policy: the site's policy built once ------------------------

def _through(middleware_class, view, path="/"):
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    middleware = middleware_class(view)
    return request, middleware(request)


def _plain(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


def test_the_site_policy_is_the_header_django_csp_writes():
    from csp.middleware import CSPMiddleware as LibraryCSPMiddleware

    from psychly.middleware import CSPMiddleware

    _, ours = _through(CSPMiddleware, _plain)
    _, library = _through(LibraryCSPMiddleware, _plain)
    assert ours["Content-Security-Policy"] == library["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in ours["Content-Security-Policy"]
    assert "Content-Security-Policy-Report-Only" not in ours


def test_the_policy_follows_a_change_of_settings(settings):
    from psychly.middleware import CSPMiddleware

    _through(CSPMiddleware, _plain)  # builds and keeps the policy
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'self'"]}}
    _, response = _through(CSPMiddleware, _plain)
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["Content-Security-Policy-Report-Only"] == "default-src 'self'"


def test_a_view_that_changes_the_policy_or_uses_a_nonce_gets_its_own(settings):
    from csp.constants import NONCE
    from csp.decorators import csp_update

    from psychly.middleware import CSPMiddleware

    @csp_update({"img-src": ["https://images.example"]})
    def with_images(request):
        return _plain(request)

    def with_nonce(request):
        return _plain(request) if str(request.csp_nonce) else None

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}}
    _, updated = _through(CSPMiddleware, with_images)
    assert "https://images.example" in updated["Content-Security-Policy"]
    request, nonced = _through(CSPMiddleware, with_nonce)
    assert f"'nonce-{request._csp_nonce}'" in nonced["Content-Security-Policy"]
    _, plain = _through(CSPMiddleware, _plain)
    assert "nonce" not in plain["Content-Security-Policy"] and "images.example" not in plain["Content-Security-Policy"]


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error():
    from csp.exceptions import CSPNonceError

    from psychly.middleware import CSPMiddleware

    request, _ = _through(CSPMiddleware, _plain)
    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)


def test_an_exempt_response_or_an_excluded_path_gets_no_policy(settings):
    from csp.decorators import csp_exempt

    from psychly.middleware import CSPMiddleware

    _, exempt = _through(CSPMiddleware, csp_exempt()(_plain))
    assert "Content-Security-Policy" not in exempt
    settings.CONTENT_SECURITY_POLICY = {**settings.CONTENT_SECURITY_POLICY, "EXCLUDE_URL_PREFIXES": ["/bench/"]}
    _, excluded = _through(CSPMiddleware, _plain, path="/bench/bare")
    assert "Content-Security-Policy" not in excluded


def test_a_percent_encoded_control_character_is_still_refused(client):
    response = client.get("/search/?q=a%01b")
    assert response.status_code == 400


def _with_session(request):
    from django.contrib.sessions.middleware import SessionMiddleware

    SessionMiddleware(lambda request: None).process_request(request)
    return request


def test_a_request_that_uses_no_message_builds_no_storage_and_sets_no_cookie(rf):
    from django.http import HttpResponse
    from django.utils.functional import empty

    from psychly.middleware import MessageMiddleware

    request = _with_session(rf.get("/"))
    response = MessageMiddleware(lambda request: HttpResponse("ok"))(request)
    assert request._messages._wrapped is empty
    assert not response.cookies


def test_messages_are_stored_shown_on_the_next_request_and_then_cleared(rf):
    from django.contrib import messages
    from django.http import HttpResponse

    from psychly.middleware import MessageMiddleware

    def saves(request):
        messages.success(request, "Saved the draft.")
        return HttpResponse("ok")

    added = MessageMiddleware(saves)(_with_session(rf.get("/")))
    assert "messages" in added.cookies and added.cookies["messages"].value

    shown = []

    def lists(request):
        shown.extend(str(message) for message in messages.get_messages(request))
        return HttpResponse("ok")

    next_request = _with_session(rf.get("/", HTTP_COOKIE=f"messages={added.cookies['messages'].value}"))
    read = MessageMiddleware(lists)(next_request)
    assert shown == ["Saved the draft."]
    # Read once, so the cookie is cleared, as Django's own middleware does.
    assert read.cookies["messages"]["max-age"] == 0


def test_admin_messages_still_reach_the_signed_in_user(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("admin", "admin@example.org", "x" * 20))
    topic = Topic.objects.create(name="Sleep", slug="sleep")
    response = client.post(f"/admin/articles/topic/{topic.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert any("deleted successfully" in str(message) for message in response.context["messages"])

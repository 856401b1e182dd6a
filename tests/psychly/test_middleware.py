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

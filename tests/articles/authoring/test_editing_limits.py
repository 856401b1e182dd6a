"""Pasted prose: bounded by documented limits, saved in a fixed number of queries, and admin search bounded."""

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.authoring.editing import PasteError, append_claims, resolve_pasted_text
from articles.models import Article, Claim, Section
from references.models import PeerReviewStatus, Reference

pytestmark = pytest.mark.django_db

DOI = "10.1523/jneurosci.1547-16.2016"


@pytest.fixture
def section():
    article = Article.objects.create(title="Sleep", slug="sleep")
    return Section.objects.create(article=article, position=1, heading="Why sleep matters")


@pytest.fixture
def reference():
    return Reference.objects.create(doi=DOI, title="Ketamine: NMDA receptors and beyond",
                                    peer_review_status=PeerReviewStatus.PEER_REVIEWED)


@pytest.fixture
def editor_client(client):
    user = User.objects.create_user("edna", password="pw-edna-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return client


def test_a_paste_over_the_character_limit_is_refused_naming_the_setting(settings, section):
    settings.PASTE_MAX_CHARS = 1000
    with pytest.raises(PasteError, match=r"1,001 characters.*at most 1,000.*PASTE_MAX_CHARS"):
        resolve_pasted_text(section.article, "x" * 1001)
    assert len(resolve_pasted_text(section.article, "Sleep matters. " * 66)) == 66


def test_a_paste_over_the_claim_limit_is_refused_naming_the_setting(settings, section):
    settings.PASTE_MAX_CLAIMS = 10
    with pytest.raises(PasteError, match=r"more than 10 claims.*PASTE_MAX_CLAIMS"):
        resolve_pasted_text(section.article, "Sleep matters. " * 11)
    assert len(resolve_pasted_text(section.article, "Sleep matters. " * 10)) == 10


def test_a_paste_of_one_dot_repeated_stops_reading_at_the_claim_limit(section):
    """"1. " x 30,000 (90 KB, under the size limit) is 30,000 claims; reading them all took minutes."""
    with pytest.raises(PasteError, match=r"more than 1,000 claims.*PASTE_MAX_CLAIMS"):
        resolve_pasted_text(section.article, "1. " * 30_000)


def test_a_sentence_that_never_ends_is_a_paste_error(settings, section):
    settings.PARSE_MAX_SENTENCE_CHARS = 1000
    with pytest.raises(PasteError, match="PARSE_MAX_SENTENCE_CHARS"):
        resolve_pasted_text(section.article, "word " * 1000)


def test_a_doi_cited_by_every_claim_is_looked_up_once(section, reference):
    text = " ".join(f"Claim {n} holds [doi:{DOI}]." for n in range(300))
    with CaptureQueriesContext(connection) as queries:
        resolved = resolve_pasted_text(section.article, text)
    assert len(resolved) == 300 and all(claim.references == [reference] for claim in resolved)
    assert len(queries) < 20


def test_appending_a_thousand_claims_costs_the_queries_of_ten(section, reference):
    """A paste saved one claim and one citation insert per claim: a 45 KB paste outlived the worker."""
    def append(count):
        claims = resolve_pasted_text(section.article, " ".join(f"Claim {n} holds [doi:{DOI}]." for n in range(count)))
        with CaptureQueriesContext(connection) as queries:
            append_claims(section=section, claims=claims)
        return len(queries)

    # A few inserts per batch of rows (the database's own limit on parameters), none per claim.
    assert append(1000) <= append(10) + 10
    claims = list(section.claims.order_by("position"))
    assert [c.position for c in claims] == list(range(1010))
    assert claims[1009].text == "Claim 9 holds." and [r.doi for r in claims[1009].references.all()] == [DOI]


def test_an_over_limit_paste_in_the_admin_is_a_form_error(settings, editor_client, section):
    settings.PASTE_MAX_CHARS = 500
    data = {"article": section.article.pk, "heading": section.heading, "position": "1",
            "paste_text": "Sleep matters. " * 40, "claims-TOTAL_FORMS": "0", "claims-INITIAL_FORMS": "0",
            "claims-MIN_NUM_FORMS": "0", "claims-MAX_NUM_FORMS": "1000"}
    response = editor_client.post(reverse("admin:articles_section_change", args=[section.pk]), data)
    assert response.status_code == 200
    assert "PASTE_MAX_CHARS" in response.content.decode()
    assert not Claim.objects.exists()


LONG_QUERY = "sleep " * 5000


@pytest.mark.parametrize("changelist", ["admin:articles_article_changelist", "admin:references_reference_changelist",
                                        "admin:articles_claim_changelist", "admin:articles_section_changelist",
                                        "admin:articles_topic_changelist"])
def test_a_huge_admin_search_is_refused_with_a_message(settings, editor_client, section, reference, changelist):
    """Each word of q became a LIKE over every search field: 5,000 words is a statement SQLite refuses (500)."""
    response = editor_client.get(reverse(changelist), {"q": LONG_QUERY})
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("at most 200" in m and "ADMIN_SEARCH_MAX_CHARS" in m for m in shown)
    assert response.context["cl"].result_count == 0


def test_a_short_admin_search_still_finds(editor_client, section, reference):
    response = editor_client.get(reverse("admin:references_reference_changelist"), {"q": "NMDA receptors"})
    assert list(response.context["cl"].result_list) == [reference]
    assert not list(get_messages(response.wsgi_request))


def test_a_huge_autocomplete_term_answers_no_results(editor_client, reference):
    response = editor_client.get(reverse("admin:autocomplete"), {
        "term": LONG_QUERY, "app_label": "articles", "model_name": "claim", "field_name": "references"})
    assert response.status_code == 200
    assert response.json()["results"] == []

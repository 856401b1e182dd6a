"""A citation marker typed into a claim's words in the admin is refused by name (articles.admin)."""

import pytest
from django.urls import reverse

from articles.models import Claim
from tests.factories import make_editor, make_supported_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client):
    user = make_editor("eddie")
    client.force_login(user)
    return user


def section_data(section, claims, edits):
    data = {
        "heading": section.heading, "position": str(section.position), "paste_text": "", "_continue": "1",
        "claims-TOTAL_FORMS": str(len(claims)), "claims-INITIAL_FORMS": str(len(claims)),
        "claims-MIN_NUM_FORMS": "0", "claims-MAX_NUM_FORMS": "1000",
    }
    for index, claim in enumerate(claims):
        data.update({
            f"claims-{index}-id": claim.pk, f"claims-{index}-section": section.pk,
            f"claims-{index}-position": str(claim.position),
            f"claims-{index}-text": edits.get(index, claim.text),
            f"claims-{index}-sources": [str(c.reference_id) for c in claim.citations.all()],
        })
        if claim.is_context:
            data[f"claims-{index}-is_context"] = "on"
    return data


@pytest.mark.parametrize("marker", ["[doi:10.1000/xyz]", "[2]", "[https://doi.org/10.1000/xyz]", "[@pmid:959840]",
                                    "[doi:10.1000/xyz"])
def test_a_marker_typed_into_a_claim_on_the_section_page_is_refused_by_name(client, editor, marker):
    article = make_supported_article("Markers typed in", author=editor)
    section = article.sections.first()
    claims = list(section.claims.order_by("position"))
    before = claims[0].text
    response = client.post(
        reverse("admin:articles_section_change", args=[section.pk]),
        section_data(section, claims, {0: f"{before[:-1]} {marker}."}),
    )
    assert response.status_code == 200
    assert f"The words contain the citation marker {marker}" in response.content.decode().replace("&quot;", '"')
    assert Claim.objects.get(pk=claims[0].pk).text == before


def test_a_marker_typed_on_a_claims_own_page_is_refused(client, editor):
    article = make_supported_article("Marker on the claim page", author=editor)
    claim = article.sections.first().claims.order_by("position").first()
    response = client.post(reverse("admin:articles_claim_change", args=[claim.pk]), {
        "position": str(claim.position), "text": "Ketamine blocks NMDA receptors [doi:10.1000/xyz].",
        "citations-TOTAL_FORMS": "0", "citations-INITIAL_FORMS": "0",
        "citations-MIN_NUM_FORMS": "0", "citations-MAX_NUM_FORMS": "1000",
    })
    assert response.status_code == 200
    assert "The words contain the citation marker [doi:10.1000/xyz]" in response.content.decode()
    assert Claim.objects.get(pk=claim.pk).text == claim.text


def test_brackets_that_are_not_markers_are_kept(client, editor):
    article = make_supported_article("Editorial brackets", author=editor)
    section = article.sections.first()
    claims = list(section.claims.order_by("position"))
    text = "In the [1960s] the drug [sic] was new."
    response = client.post(reverse("admin:articles_section_change", args=[section.pk]),
                           section_data(section, claims, {0: text}))
    assert response.status_code == 302
    assert Claim.objects.get(pk=claims[0].pk).text == text

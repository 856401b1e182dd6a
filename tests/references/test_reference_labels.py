"""A reference's label is text: Crossref's inline markup (<i>, <sub>) never shows as tags where text is shown."""

import json

import pytest
from django.urls import reverse

from references.citations import render_html
from tests.factories import make_editor, make_reference

pytestmark = pytest.mark.django_db

TITLE = "Circadian genes in <i>Drosophila</i> and CO<sub>2</sub> &amp; sleep"


def test_the_label_is_the_title_as_text():
    reference = make_reference(doi="10.1000/fly", title=TITLE)
    assert str(reference) == "Circadian genes in Drosophila and CO2 & sleep (10.1000/fly)"
    assert reference.plain_title == "Circadian genes in Drosophila and CO2 & sleep"


def test_the_apa_html_keeps_the_italics_as_html():
    html = str(render_html(make_reference(doi="10.1000/fly", title=TITLE)))
    assert "<i>Drosophila</i>" in html and "&lt;i&gt;" not in html


def test_the_claim_autocomplete_labels_are_text(client):
    make_reference(doi="10.1000/fly", title=TITLE)
    client.force_login(make_editor("eddie"))
    response = client.get(reverse("admin:autocomplete"), {
        "app_label": "articles", "model_name": "claim", "field_name": "references", "term": "Circadian",
    })
    assert response.status_code == 200, response.content[:300]
    [result] = json.loads(response.content)["results"]
    assert result["text"] == "Circadian genes in Drosophila and CO2 & sleep (10.1000/fly)"


def test_the_reference_changelist_shows_no_tags(client):
    make_reference(doi="10.1000/fly", title=TITLE)
    client.force_login(make_editor("eddie"))
    html = client.get(reverse("admin:references_reference_changelist")).content.decode()
    assert "Circadian genes in Drosophila and CO2 &amp; sleep" in html and "&lt;i&gt;" not in html

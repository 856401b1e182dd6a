"""Editors write whole articles in the admin: sections, claims, citations, pasted prose."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from articles.models import Article, Citation, Claim, Section
from references.models import PeerReviewStatus, Reference

pytestmark = pytest.mark.django_db

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"
WECKMANN = "10.1159/000493425"


@pytest.fixture
def editor(client):
    user = User.objects.create_user("editor", password="pw-editor-123", is_staff=True, first_name="Ed")
    user.groups.add(Group.objects.get(name="Editors"))
    client.force_login(user)
    return user


@pytest.fixture
def references():
    return [
        Reference.objects.create(
            doi=ZORUMSKI, title="Ketamine: NMDA receptors and beyond", year=2016,
            container_title="The Journal of Neuroscience", peer_review_status=PeerReviewStatus.PEER_REVIEWED,
        ),
        Reference.objects.create(
            doi=WECKMANN, title="Ketamine's effects on the glutamatergic and GABAergic systems", year=2019,
            container_title="Molecular Neuropsychiatry", peer_review_status=PeerReviewStatus.PEER_REVIEWED,
        ),
    ]


def cited_dois(claim):
    return list(claim.citations.order_by("position").values_list("reference__doi", flat=True))


def inline_management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def article_form(**overrides):
    data = {
        "title": "Ketamine, explained", "slug": "ketamine-explained",
        "summary": "What the research says about ketamine.", "byline": "Dana Reyes, PhD",
        "disclosure": "", "review_interval_months": "12",
        **inline_management("sections", 2),
        "sections-0-heading": "How ketamine works", "sections-0-position": "",
        "sections-0-paste_text": (
            f"Ketamine blocks NMDA receptors [doi:{ZORUMSKI}]. It also changes GABA levels in mice, e.g. in "
            f"the prefrontal cortex [doi:https://doi.org/{WECKMANN.upper()}]. Talk to your doctor."
        ),
        "sections-1-heading": "What we do not know yet", "sections-1-position": "",
        "sections-1-paste_text": "",
    }
    data.update(overrides)
    return data


def test_editor_writes_an_article_with_sections_claims_and_citations(client, editor, references):
    response = client.get(reverse("admin:articles_article_add"))
    assert response.status_code == 200

    response = client.post(reverse("admin:articles_article_add"), article_form())
    assert response.status_code == 302, response.context["errors"] if response.context else response
    article = Article.objects.get(slug="ketamine-explained")
    assert list(article.authors.all()) == [editor]
    assert article.status == "draft"
    sections = list(article.sections.all())
    assert [s.heading for s in sections] == ["How ketamine works", "What we do not know yet"]
    assert [s.position for s in sections] == [0, 1]

    claims = list(sections[0].claims.all())
    assert [c.text for c in claims] == [
        "Ketamine blocks NMDA receptors.",
        "It also changes GABA levels in mice, e.g. in the prefrontal cortex.",
        "Talk to your doctor.",
    ]
    assert [cited_dois(c) for c in claims] == [[ZORUMSKI], [WECKMANN], []]


def test_editor_adds_reorders_and_cites_claims_on_the_section_page(client, editor, references):
    client.post(reverse("admin:articles_article_add"), article_form())
    section = Section.objects.get(heading="How ketamine works")
    first, second, third = section.claims.all()
    url = reverse("admin:articles_section_change", args=[section.pk])
    assert client.get(url).status_code == 200

    data = {
        "heading": section.heading, "position": "0", "paste_text": "",
        **inline_management("claims", 4, initial=3),
        "claims-0-id": first.pk, "claims-0-section": section.pk, "claims-0-position": "2",
        "claims-0-text": first.text, "claims-0-sources": [str(references[1].pk), str(references[0].pk)],
        "claims-1-id": second.pk, "claims-1-section": section.pk, "claims-1-position": "0",
        "claims-1-text": second.text, "claims-1-sources": [str(references[1].pk)],
        "claims-2-id": third.pk, "claims-2-section": section.pk, "claims-2-position": "1",
        "claims-2-text": third.text, "claims-2-is_context": "on",
        "claims-3-section": section.pk, "claims-3-position": "",
        "claims-3-text": "Repeated doses may work better than one.", "claims-3-sources": [str(references[0].pk)],
        "_continue": "1",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors

    texts = [c.text for c in section.claims.all()]
    assert texts == [second.text, third.text, first.text, "Repeated doses may work better than one."]
    first.refresh_from_db()
    cited = Citation.objects.filter(claim=first).order_by("position").values_list("reference__doi", flat=True)
    assert list(cited) == [WECKMANN, ZORUMSKI]
    assert Claim.objects.get(pk=third.pk).is_context


def test_paste_marker_that_points_at_no_reference_is_refused_with_the_marker_named(client, editor, references):
    data = article_form(**{"sections-0-paste_text": "Ketamine blocks NMDA receptors [3]."})
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 200
    assert "[3]" in response.content.decode()
    assert "points at no reference" in response.content.decode()
    assert not Article.objects.exists()
    assert not Claim.objects.exists()


def test_numbered_markers_cite_the_articles_reference_list(client, editor, references):
    client.post(reverse("admin:articles_article_add"), article_form())
    section = Section.objects.get(heading="What we do not know yet")
    data = {
        "heading": section.heading, "position": "1",
        "paste_text": "Long-term effects are less studied [2]. Both mechanisms matter [1, 2].",
        **inline_management("claims", 0),
    }
    response = client.post(reverse("admin:articles_section_change", args=[section.pk]), data)
    assert response.status_code == 302
    claims = list(section.claims.all())
    assert [cited_dois(c) for c in claims] == [
        [WECKMANN], [ZORUMSKI, WECKMANN]
    ]


def test_reference_autocomplete_searches_instead_of_listing_everything(client, editor, references):
    response = client.get(
        reverse("admin:autocomplete"),
        {"term": "glutamatergic", "app_label": "articles", "model_name": "claim", "field_name": "references"},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [str(references[1].pk)]


def test_section_page_renders_only_the_chosen_references(client, editor, references):
    client.post(reverse("admin:articles_article_add"), article_form())
    Reference.objects.create(doi="10.1000/never-cited", title="A reference nobody cited")
    section = Section.objects.get(heading="How ketamine works")
    html = client.get(reverse("admin:articles_section_change", args=[section.pk])).content.decode()
    assert "A reference nobody cited" not in html
    assert "NMDA receptors and beyond" in html


def test_article_list_counts_claims_without_a_source_and_filters(client, editor, references):
    client.post(reverse("admin:articles_article_add"), article_form())
    response = client.get(reverse("admin:articles_article_changelist"), {"status__exact": "draft"})
    assert response.status_code == 200
    article = response.context["cl"].result_list[0]
    # "Talk to your doctor." is a claim until an editor marks it as context.
    assert article.unsupported_claim_count == 1
    response = client.get(reverse("admin:articles_article_changelist"), {"q": "nothing matches this"})
    assert list(response.context["cl"].result_list) == []


def test_status_cannot_be_set_through_the_change_form(client, editor, references):
    client.post(reverse("admin:articles_article_add"), article_form())
    article = Article.objects.get()
    data = article_form(status="published", **inline_management("sections", 0))
    data.pop("sections-0-heading"), data.pop("sections-1-heading")
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "draft"
    assert article.published_at is None


def test_editing_a_claim_on_the_section_page_voids_an_approval(client, editor):
    from articles.review import workflow
    from tests.factories import make_reviewer, make_supported_article

    article = make_supported_article("Approved then edited", author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=make_reviewer("rita"))
    article.refresh_from_db()
    assert article.status == "approved"

    section = article.sections.first()
    claims = list(section.claims.all())
    data = {"heading": section.heading, "position": str(section.position), "paste_text": "",
            **inline_management("claims", len(claims), initial=len(claims)), "_continue": "1"}
    for index, claim in enumerate(claims):
        data.update({
            f"claims-{index}-id": claim.pk, f"claims-{index}-section": section.pk,
            f"claims-{index}-position": str(claim.position),
            f"claims-{index}-text": claim.text + (" Edited after approval." if index == 0 else ""),
            f"claims-{index}-sources": [str(c.reference_id) for c in claim.citations.all()],
        })
        if claim.is_context:
            data[f"claims-{index}-is_context"] = "on"
    response = client.post(reverse("admin:articles_section_change", args=[section.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "draft"


def _article_with_claims(title, claims_per_section, references):
    article = Article.objects.create(title=title, slug=title.lower().replace(" ", "-"), summary="s", byline="b")
    section = Section.objects.create(article=article, heading="Only section", position=0)
    for position in range(claims_per_section):
        claim = Claim.objects.create(section=section, text=f"Claim {position}.", position=position)
        for index, reference in enumerate(references):
            Citation.objects.create(claim=claim, reference=reference, position=index)
    return article, section


# Session, user, the section, the user's and the groups' permissions, the
# claims, their citations joined to references, and the article for its link:
# nothing per claim.
SECTION_PAGE_QUERIES = 8
# Session, user, two permission lists, the topic and author filters, the
# filtered and total counts, the page of articles with their unsupported-claim
# counts, and the topics and authors of that page.
ARTICLE_LIST_QUERIES = 11


@pytest.mark.parametrize("claims", [3, 30])
def test_section_page_queries_do_not_grow_with_claims(client, editor, references, claims,
                                                      django_assert_num_queries):
    _article, section = _article_with_claims(f"Size {claims}", claims, references)
    url = reverse("admin:articles_section_change", args=[section.pk])
    client.get(url)  # warm the content-type and permission caches
    with django_assert_num_queries(SECTION_PAGE_QUERIES):
        response = client.get(url)
    assert response.content.decode().count("NMDA receptors and beyond") >= claims


@pytest.mark.parametrize("articles", [3, 30])
def test_article_list_queries_do_not_grow_with_articles(client, editor, references, articles,
                                                        django_assert_num_queries):
    for number in range(articles):
        _article_with_claims(f"Article {number}", 2, references[:1])
    url = reverse("admin:articles_article_changelist")
    client.get(url)
    with django_assert_num_queries(ARTICLE_LIST_QUERIES):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == articles


def test_a_paste_citing_new_dois_while_crossref_trickles_is_refused_within_the_request_budget(
    client, editor, fake_crossref, settings
):
    import time

    settings.CROSSREF_REQUEST_BUDGET = 1.0
    fake_crossref.trickle_seconds = 0.02  # a recorded answer would take minutes
    fake_crossref.set_mode("trickle")
    started = time.monotonic()
    response = client.post(reverse("admin:articles_article_add"), article_form())
    assert time.monotonic() - started < 2.5
    assert response.status_code == 200
    page = response.content.decode()
    assert f"[doi:{ZORUMSKI}] is not among the references yet and Crossref could not supply it" in page
    assert "time budget for this request spent; try again" in page
    assert not Article.objects.exists()
    assert not Reference.objects.exists()

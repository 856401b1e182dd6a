"""Stored XSS: hostile text in every editable field, and in Crossref's answer, renders inert on every page."""

import json
from xml.etree import ElementTree

import pytest

from articles.authoring import attribution
from articles.review import workflow
from articles.review.credits import set_reviewer_credit
from articles.models import Citation, Claim, Topic
from references.citations import render_html, render_text
from references.models import MetadataSource, Reference
from references.services import add_reference_by_doi, verify_reference
from tests.fake_crossref import FIXTURES, FakeCrossref, fixture_path
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

PAYLOADS = [
    '<script>alert("xss")</script>',
    '"><img src=x onerror=alert("xss")>',
    "'><svg/onload=alert('xss')>",
    '</script><script>alert("xss")</script>',
    '<a href="javascript:alert(\'xss\')">click</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<style>body{display:none}</style><b onmouseover=alert(1)>b</b>',
    '<i>Drosophila</i><script src=https://evil.example/x.js></script>',
]
# None of these may reach a page as markup.
LIVE_MARKUP = [
    "<script>alert", "<script src=https://evil", "<img src=x", "<svg/onload", '<a href="javascript:', "<iframe",
    "<style>body", "<b onmouseover",
]
CROSSREF_DOI = "10.1371/journal.pone.0033693"


def _assert_inert(html, where):
    found = [fragment for fragment in LIVE_MARKUP if fragment in html]
    assert found == [], f"{where} shows live markup {found}"


@pytest.fixture
def hostile_crossref(tmp_path, settings):
    """A fake Crossref whose answer carries the payload in title, journal, author and publisher."""
    def start(payload):
        work = json.loads(fixture_path(CROSSREF_DOI, FIXTURES).read_text())
        message = work["message"]
        message["title"] = [f"Methylphenidate {payload}"]
        message["container-title"] = [f"PLoS {payload}"]
        message["publisher"] = f"PLoS {payload}"
        message["author"][0]["family"] = f"Sadasivan {payload}"
        fixture_path(CROSSREF_DOI, tmp_path).write_text(json.dumps(work))
        server = FakeCrossref(directory=tmp_path).start()
        settings.CROSSREF_API_URL = server.url
        servers.append(server)
        return server

    servers = []
    yield start
    for server in servers:
        server.stop()


def _build(payload, hostile_crossref):
    """An article with the payload in every field an editor, reviewer or Crossref fills, published."""
    hostile_crossref(payload)
    editor = make_editor("edna")
    reviewer = make_reviewer("rita", credentials=f"MD {payload}")
    reviewer.reviewer_profile.display_name = f"Rita {payload}"
    reviewer.reviewer_profile.save()
    from_crossref, created = add_reference_by_doi(CROSSREF_DOI)
    assert created and from_crossref.metadata_source == MetadataSource.CROSSREF and payload in from_crossref.title
    by_hand = make_reference(
        title=f"Manual {payload}", container_title=f"Journal {payload}", publisher=f"Press {payload}",
        # Short fields hold as much of the payload as fits (PostgreSQL enforces the length).
        **{name: f"{n}{payload}"[:Reference._meta.get_field(name).max_length]
           for n, name in enumerate(["volume", "issue", "pages"], 1)},
        authors=[{"family": f"Reyes {payload}", "given": f"Dana {payload}"}, {"literal": f"WHO {payload}"}],
        display_overrides={"container_title": f"Shown {payload}"},
        metadata_source=MetadataSource.MANUAL, entered_by=editor, evidence_level="animal",
        evidence_description=f"Study in mice {payload}"[:200],
    )
    # A second reviewer vouches for the source typed in, with the payload in the reason.
    verify_reference(by_hand, by=make_reviewer("vera"), reason=f"Checked {payload}")
    article = make_supported_article(
        f"Ketamine {payload}", author=editor, references=[from_crossref, by_hand],
        summary=f"Summary {payload}", byline=f"Dana Reyes {payload}", disclosure=f"Funding {payload}",
        slug="ketamine-hostile",
    )
    topic = Topic.objects.create(name=f"Mood {payload}", slug="mood")
    article.topics.add(topic)
    section = article.sections.order_by("position").first()
    # Attributed to the editor: the change log quotes the payload, before and after.
    with attribution.recording(article, by=editor):
        section.heading = f"What it is {payload}"
        section.save()
        claim = Claim.objects.filter(section=section).order_by("position").first()
        claim.text = f"Ketamine blocks NMDA receptors {payload}"
        claim.save()
        Citation.objects.filter(claim=claim).update(locator=f"p. 2 {payload}")
    # The reviewer's credit history holds the payload too (and the approval freezes it).
    set_reviewer_credit(reviewer=reviewer, display_name=f"Rita O. {payload}", credentials=f"MD, PhD {payload}",
                        by=reviewer)

    workflow.submit(article, by=editor)
    workflow.request_changes(article, by=reviewer, comment=f"Fix it {payload}", claim=claim)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor, note=f"Corrected {payload}")
    # Submitted again: live, and back in the review queue with the payload in its re-review reason.
    workflow.submit(article, by=editor)
    return {"article": article, "editor": editor, "reviewer": reviewer, "section": section, "claim": claim,
            "references": [from_crossref, by_hand], "topic": topic}


@pytest.mark.django_db
@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert_everywhere(client, payload, hostile_crossref):
    built = _build(payload, hostile_crossref)
    article = built["article"]
    public = ["/", f"/articles/{article.slug}/", "/feed/", "/search/?q=Ketamine", f"/search/?q={payload}",
              f"/topics/{built['topic'].slug}/", "/sitemap.xml"]
    for url in public:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    page = client.get(f"/articles/{article.slug}/").content.decode()
    assert "Ketamine blocks NMDA receptors" in page  # the claim is there, escaped
    assert '<span class="change-note">Corrected ' in page  # and so is the note for readers
    # Feed readers render an Atom element of type "html" as HTML once the XML is parsed.
    feed = ElementTree.fromstring(client.get("/feed/").content)
    html_elements = [e for e in feed.iter() if e.get("type") == "html"]
    assert html_elements, "the feed has no HTML summaries to check"
    for element in html_elements:
        _assert_inert(element.text or "", f"feed {element.tag}")

    client.force_login(built["reviewer"])
    verify_page = f"/admin/references/reference/{built['references'][1].pk}/verify/"
    for url in ["/review/", f"/review/{article.pk}/", verify_page,
                f"/admin/references/reference/{built['references'][1].pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    review_page = client.get(f"/review/{article.pk}/").content.decode()
    assert "Fix it" in review_page
    assert "Checked " in review_page and "Study in mice" in review_page  # shown, escaped
    assert "Checked " in client.get(verify_page).content.decode()

    client.force_login(built["editor"])
    admin_pages = [
        f"/articles/{article.slug}/preview/",
        "/admin/articles/article/",
        f"/admin/articles/article/{article.pk}/change/",
        f"/admin/articles/article/{article.pk}/revisions/1/",
        f"/admin/articles/article/{article.pk}/workflow/publish/",
        f"/admin/articles/section/{built['section'].pk}/change/",
        f"/admin/articles/claim/{built['claim'].pk}/change/",
        "/admin/references/reference/",
        "/admin/articles/topic/",
        f"/admin/articles/topic/{built['topic'].pk}/change/",
        "/admin/articles/reviewerprofile/",
        f"/admin/articles/reviewerprofile/{built['reviewer'].reviewer_profile.pk}/change/",
        *[f"/admin/references/reference/{ref.pk}/change/" for ref in built["references"]],
        *[f"/admin/references/reference/{ref.pk}/override-peer-review/" for ref in built["references"]],
    ]
    for url in admin_pages:
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_inert(response.content.decode(), url)
    change_page = client.get(f"/admin/articles/article/{article.pk}/change/").content.decode()
    assert "Changes to the content" in change_page and "Renamed section" in change_page  # shown, escaped
    assert "History of this credit" in client.get(
        f"/admin/articles/reviewerprofile/{built['reviewer'].reviewer_profile.pk}/change/").content.decode()
    assert "Medically reviewed by Rita O. " in client.get(f"/articles/{article.slug}/").content.decode()

    client.force_login(make_user("ada", superuser=True))
    response = client.get("/admin/articles/reviewercreditchange/")
    assert response.status_code == 200 and "Rita O. " in response.content.decode()
    _assert_inert(response.content.decode(), "the credit history list")

    # The autocomplete answers JSON (never sniffed as HTML); select2 inserts its text as text.
    response = client.get("/admin/autocomplete/?term=Manual&app_label=articles&model_name=claim&field_name=references")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    # The label is text: Crossref's inline markup (<i>, <b>...) is taken out, anything else stays, to be escaped.
    from references.models import CROSSREF_INLINE_MARKUP

    assert CROSSREF_INLINE_MARKUP.sub("", payload) in response.json()["results"][0]["text"]

    for ref in built["references"]:
        _assert_inert(str(render_html(ref)), f"APA HTML of {ref.pk}")
        # Plain text is for contexts that escape it themselves; it must not carry tags either.
        assert "<script" not in render_text(ref)


@pytest.mark.django_db
def test_json_ld_cannot_close_its_script_element(client, hostile_crossref):
    built = _build('</script><script>alert("xss")</script>', hostile_crossref)
    page = client.get(f"/articles/{built['article'].slug}/").content.decode()
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    block = page[start:page.index("</script>", start)]
    data = json.loads(block)
    # The payload survives as data, intact, inside the one JSON-LD element.
    assert data["headline"] == built["article"].title or built["article"].title in json.dumps(data, ensure_ascii=False)
    assert page.count('<script type="application/ld+json">') == 1


@pytest.mark.django_db
def test_reference_urls_cannot_be_script_links(client):
    # A URL source is rendered as a link: only http(s) may become an href.
    editor = make_editor("edna")
    client.force_login(editor)
    response = client.post("/admin/references/reference/add/", {
        "url": "javascript:alert(1)", "title": "Sneaky", "fetch_from_crossref": "",
    })
    assert response.status_code == 200
    assert not Reference.objects.filter(title="Sneaky").exists()

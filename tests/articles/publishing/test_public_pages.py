"""The article page readers see: credits, numbered citations, references, notices, JSON-LD, OpenGraph."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import override_settings

from articles.models import Article
from references.models import Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.articles.publish_helpers import make_published, make_topic, publish
from tests.factories import make_reference, make_supported_article

pytestmark = pytest.mark.django_db

DEMO_URL = "/articles/ketamine-depression-ptsd-evidence/"


class PageParser(HTMLParser):
    """Collects ids, hrefs, headings, landmarks and the JSON-LD block of a page."""

    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.headings, self.tags = [], [], [], []
        self.json_ld, self._in_json, self._heading = [], False, None
        self.meta = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "script" and attrs.get("type") == "application/ld+json":
            self._in_json = True
            self.json_ld.append("")
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), ""]
        if tag == "meta" and "property" in attrs:
            self.meta.setdefault(attrs["property"], attrs.get("content"))
        if tag == "link" and attrs.get("rel") == "canonical":
            self.meta["canonical"] = attrs["href"]

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_json = False
        if self._heading and tag == f"h{self._heading[0]}":
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None

    def handle_data(self, data):
        if self._in_json:
            self.json_ld[-1] += data
        if self._heading:
            self._heading[1] += data


def parse(response):
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def demo(settings):
    call_command("load_demo", password="demo-password-for-tests", stdout=open("/dev/null", "w"))


def test_the_demo_article_numbers_citations_by_first_appearance_and_links_both_ways(client, demo):
    response = client.get(DEMO_URL)
    assert response.status_code == 200
    page = parse(response)
    text = response.content.decode()
    # Zorumski is cited twice in the first section and keeps number 1; Kryst (4) is cited twice too.
    cited = re.findall(r'<a id="(cite-\d+-\d+)" href="#ref-(\d+)">', text)
    assert [number for _, number in cited] == ["1", "1", "2", "3", "4", "4"]
    assert [anchor for anchor, _ in cited] == ["cite-1-1", "cite-1-2", "cite-2-1", "cite-3-1", "cite-4-1", "cite-4-2"]
    # Every in-text link lands on a reference, and every reference links back to each place it is cited.
    for anchor, number in cited:
        assert f"ref-{number}" in page.ids
        assert f"#{anchor}" in page.hrefs
    assert len(page.ids) == len(set(page.ids)), "ids must be unique"


def test_the_demo_article_lists_references_in_apa_with_doi_links(client, demo):
    text = client.get(DEMO_URL).content.decode()
    references = re.findall(r'<li id="ref-(\d+)" value="\d+">\s*(.*?)\n', text)
    assert [n for n, _ in references] == ["1", "2", "3", "4"]
    assert references[0][1].startswith("Zorumski, C. F., Izumi, Y., &amp; Mennerick, S. (2016). Ketamine: NMDA")
    assert '<a href="https://doi.org/10.1523/jneurosci.1547-16.2016">' in references[0][1]
    assert '<a href="https://doi.org/10.1007/s43440-020-00097-z">' in references[3][1]


def test_the_demo_article_json_ld_parses_and_carries_the_facts(client, demo):
    page = parse(client.get(DEMO_URL))
    assert len(page.json_ld) == 1
    data = json.loads(page.json_ld[0])
    article = Article.objects.get(slug="ketamine-depression-ptsd-evidence")
    assert data["@type"] == "MedicalWebPage"
    assert data["name"] == article.published_revision.title
    assert data["reviewedBy"] == {"@type": "Person", "name": "Sam Okafor", "jobTitle": "MD, psychiatrist"}
    assert data["author"] == [{"@type": "Person", "name": "Dana Reyes, PhD, clinical psychologist"}]
    assert data["lastReviewed"] == article.last_reviewed_at.date().isoformat()
    assert data["datePublished"] == article.published_at.isoformat()
    assert data["dateModified"] == article.published_revision.published_at.isoformat()
    assert [c["identifier"]["value"] for c in data["citation"]] == [
        "10.1523/jneurosci.1547-16.2016", "10.1159/000493425", "10.1176/appi.ajp.2020.20050596",
        "10.1007/s43440-020-00097-z",
    ]
    assert {c["@type"] for c in data["citation"]} == {"ScholarlyArticle"}
    assert data["citation"][0]["sameAs"] == "https://doi.org/10.1523/jneurosci.1547-16.2016"
    assert [t["name"] for t in data["about"]] == ["Depression", "PTSD", "Treatments"]


def test_the_demo_article_shows_credits_dates_care_statement_and_history(client, demo):
    article = Article.objects.get(slug="ketamine-depression-ptsd-evidence")
    text = " ".join(client.get(DEMO_URL).content.decode().split())
    reviewed = f"{article.last_reviewed_at:%-d %B %Y}"
    assert f'Medically reviewed by Sam Okafor, MD, psychiatrist on <time datetime="{article.last_reviewed_at:%Y-%m-%d}">{reviewed}</time>' in text
    assert '<dd class="byline">Dana Reyes, PhD, clinical psychologist</dd>' in text
    assert f"<dt>Next review due</dt><dd><time datetime=\"{article.next_review_due:%Y-%m-%d}\">" in text
    assert "This article does not replace professional care" in text
    assert "988" in text and "116 123" in text
    assert "Version 1, first published" in text and "Reviewed by Sam Okafor, MD, psychiatrist." in text


@override_settings(SITE_URL="https://psychly.example")
def test_the_page_has_a_canonical_link_and_opengraph_on_site_url(client, demo):
    page = parse(client.get(DEMO_URL))
    assert page.meta["canonical"] == f"https://psychly.example{DEMO_URL}"
    assert page.meta["og:url"] == f"https://psychly.example{DEMO_URL}"
    assert page.meta["og:type"] == "article"
    assert page.meta["og:title"] == "Ketamine for depression and PTSD: what the studies show"
    assert page.meta["og:description"].startswith("Ketamine acts on the brain")


def test_the_page_has_one_h1_and_headings_in_order(client, demo):
    page = parse(client.get(DEMO_URL))
    levels = [level for level, _ in page.headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:])), page.headings
    assert [h for _, h in page.headings][1:5] == [
        "How ketamine acts in the brain", "Ketamine for post-traumatic stress disorder",
        "Single and repeated doses in depression", "Talking to a clinician",
    ]
    assert {"header", "nav", "main", "footer", "article"} <= set(page.tags)
    assert page.hrefs[0] == "#main", "the skip link comes first"
    assert "<script" not in client.get(DEMO_URL).content.decode().replace('<script type="application/ld+json">', "")


def test_the_page_escapes_what_editors_wrote(client, editor, reviewer):
    article = make_published(
        "Ketamine <b>bold</b>", editor=editor, reviewer=reviewer,
        summary="A summary with </script><script>alert(1)</script>", disclosure="Funded by <i>nobody</i>.",
    )
    text = client.get(article.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    data = json.loads(parse(client.get(article.get_absolute_url())).json_ld[0])
    assert data["description"] == "A summary with </script><script>alert(1)</script>"
    assert "Funded by &lt;i&gt;nobody&lt;/i&gt;." in text


def test_disclosure_shows_only_when_present(client, editor, reviewer):
    plain = make_published("Plain", editor=editor, reviewer=reviewer)
    disclosed = make_published("Disclosed", editor=editor, reviewer=reviewer, disclosure="The author consults for X.")
    assert "Disclosure" not in client.get(plain.get_absolute_url()).content.decode()
    text = client.get(disclosed.get_absolute_url()).content.decode()
    assert '<h2 id="disclosure-heading">Disclosure</h2>' in text and "The author consults for X." in text


def _retract(reference):
    Reference.objects.filter(pk=reference.pk).update(
        retraction_status=RetractionStatus.RETRACTED,
        updates=[{"type": "retraction", "DOI": "10.5555/notice.1", "label": "Retraction", "source": "publisher",
                  "updated": "2026-11-01"}],
    )
    reference.refresh_from_db()
    reference_status_changed.send(sender=Reference, reference=reference, was_support=True, is_support=False,
                                  newly_retracted=True, changes={"retraction_status": ("none", "retracted")})


def test_a_source_retracted_since_publication_gets_a_visible_notice(client, editor, reviewer):
    first, second = make_reference(), make_reference()
    article = make_published("Retraction page", editor=editor, reviewer=reviewer, references=[first, second])
    url = article.get_absolute_url()
    assert "since this article was published" not in client.get(url).content.decode()
    _retract(second)
    text = " ".join(client.get(url).content.decode().split())
    item = text[text.index('<li id="ref-2"'):]
    item = item[:item.index("</li>")]
    assert "Retracted since this article was published." in item
    assert '<a href="https://doi.org/10.5555/notice.1">Retraction (2026-11-01)</a>' in item
    assert '<li id="ref-1"' in text and "Retracted" not in text[text.index('<li id="ref-1"'):text.index('<li id="ref-2"')]
    assert "1 of its sources has received a notice" in text


def test_a_source_corrected_before_publication_is_noted_but_not_as_new(client, editor, reviewer):
    corrected = make_reference(retraction=RetractionStatus.CORRECTED)
    article = make_published("Corrected before", editor=editor, reviewer=reviewer,
                             references=[corrected, make_reference()])
    text = client.get(article.get_absolute_url()).content.decode()
    assert "<strong>Corrected.</strong>" in text
    assert "since this article was published" not in text


def test_republishing_adds_to_the_corrections_log(client, editor, reviewer):
    article = make_published("Versioned", editor=editor, reviewer=reviewer)
    section = article.sections.first()
    section.heading = "A corrected heading"
    section.save()
    article = publish(article, editor=editor, reviewer=reviewer)
    text = " ".join(client.get(article.get_absolute_url()).content.decode().split())
    assert "A corrected heading" in text
    assert text.index("Version 2, updated") < text.index("Version 1, first published")
    assert text.count("Reviewed by Rita Okafor, MD, psychiatrist.") == 2


def test_the_page_shows_topics_frozen_at_publication(client, editor, reviewer):
    anxiety = make_topic("Anxiety")
    article = make_published("Topical", editor=editor, reviewer=reviewer, topics=[anxiety])
    text = client.get(article.get_absolute_url()).content.decode()
    assert '<a href="/topics/anxiety/">Anxiety</a>' in text


def test_a_revision_frozen_before_pages_were_stored_renders_the_same(client, editor, reviewer):
    from django.core.cache import cache

    from articles.models import ArticleRevision

    article = make_published("Old revision", editor=editor, reviewer=reviewer)
    frozen = client.get(article.get_absolute_url()).content
    assert b"<!--psychly:credits-->" not in frozen and b'<dl class="credits">' in frozen
    ArticleRevision.objects.filter(pk=article.published_revision_id).update(body_html="", page={})
    cache.clear()
    assert client.get(article.get_absolute_url()).content == frozen


def test_a_claim_citing_two_sources_with_a_locator_reads_in_one_bracket(client, editor, reviewer):
    refs = [make_reference(), make_reference()]
    article = make_supported_article("Two sources", author=editor, references=refs)
    article = publish(article, editor=editor, reviewer=reviewer)
    text = client.get(article.get_absolute_url()).content.decode()
    assert ('<sup class="cite">[<a id="cite-1-2" href="#ref-1"><span class="visually-hidden">reference </span>1</a>; '
            '<a id="cite-2-1" href="#ref-2"><span class="visually-hidden">reference </span>2</a>]</sup>') in text
    assert '>1</a>, p. 2]</sup>' in text


def test_each_reference_shows_its_evidence_and_a_source_entered_by_hand_says_so(client, editor, reviewer):
    from references import services
    from references.models import MetadataSource
    from tests.factories import make_reviewer

    fetched = make_reference(title="Fetched trial", evidence_level="randomised_trial")
    mice = make_reference(title="Mouse study", evidence_level="animal", evidence_description="Study in mice")
    typed = make_reference(title="Typed report", metadata_source=MetadataSource.MANUAL, entered_by=editor)
    services.verify_reference(typed, by=make_reviewer(), reason="Checked the report on the agency's site.")
    article = make_supported_article("Evidence shown", author=editor, sections={"S": [
        {"text": "Claim one.", "refs": [fetched, mice]}, {"text": "Claim two.", "refs": [typed]},
    ]})
    article = publish(article, editor=editor, reviewer=reviewer)
    frozen = {ref["id"]: ref for ref in article.published_revision.snapshot["references"]}
    assert frozen[fetched.pk]["evidence"] == "Randomised controlled trial" and not frozen[fetched.pk]["entered_by_hand"]
    assert frozen[mice.pk]["evidence"] == "Study in mice"
    assert frozen[typed.pk]["entered_by_hand"] and frozen[typed.pk]["verified_by_reviewer"]
    assert frozen[typed.pk]["evidence"] == ""

    # What readers see is what was frozen: a later change to a source does not rewrite the page.
    Reference.objects.filter(pk=mice.pk).update(evidence_description="Something else")
    content = client.get(article.get_absolute_url()).content.decode()
    assert "Evidence: Randomised controlled trial." in content
    assert "Evidence: Study in mice." in content and "Something else" not in content
    assert content.count('class="entered-by-hand"') == 1
    assert "Details entered by hand by our editors and checked by a reviewer" in content

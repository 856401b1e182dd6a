"""An editor writes a three-section article on the writing desk, sees statuses update, adds a DOI and submits."""

import pytest

from articles.models import Article, Claim, Status
from references.models import Reference
from tests.e2e.conftest import PASSWORD
from tests.factories import make_editor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOI = "10.1523/jneurosci.1547-16.2016"  # in the fake Crossref's fixtures


def test_editor_writes_a_whole_article_on_one_page(open_session, fake_crossref):
    from axe_playwright_python.sync_playwright import Axe

    make_editor("desk-edna", first_name="Edna", password=PASSWORD)
    session = open_session("editor")
    page = session.new_page()
    session.sign_in(page, "desk-edna")
    loads = {"count": 0}
    page.on("load", lambda _page: loads.__setitem__("count", loads["count"] + 1))
    page.goto(session.url("/admin/articles/article/desk/new/"))
    page.fill("#desk-title", "Ketamine and depression")
    page.fill("#desk-summary", "What the trials say.")
    page.fill("#desk-byline", "Dana Reyes, PhD")
    page.fill("input.desk-heading >> nth=0", "What it is")
    page.fill("textarea.desk-prose-text >> nth=0", "{context} Ketamine is an anaesthetic.")
    page.click("input[type=submit][value='Save the article']")
    page.wait_for_selector("ul.messagelist")
    article = Article.objects.get(title="Ketamine and depression")

    # Add a DOI through the fake Crossref without leaving the page; its marker goes into the prose.
    page.click("button.desk-add-section")
    page.fill("input.desk-heading >> nth=1", "How it works")
    page.click("textarea.desk-prose-text >> nth=1")
    page.fill("textarea.desk-prose-text >> nth=1", "Ketamine blocks NMDA receptors.")
    page.fill("#desk-identifier", DOI)
    page.click("#desk-source-form button[type=submit]")
    page.wait_for_selector(f"#desk-source-answer:has-text('[doi:{DOI}]')")
    assert Reference.objects.filter(doi=DOI).exists()
    # The status beside the sentence updates without a page load.
    page.wait_for_selector(".desk-section >> nth=1 >> .status-supported")
    page.click("button.desk-add-section")
    page.fill("input.desk-heading >> nth=2", "What trials found")
    page.fill("textarea.desk-prose-text >> nth=2", "One infusion eased symptoms within a day [1].\n"
              "Nobody knows how long it lasts.")
    page.wait_for_selector(".desk-section >> nth=2 >> .status-no_source")
    before_save = loads["count"]
    assert before_save == 2  # the new desk, then the saved article's desk
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert blocking == [], blocking
    page.fill("textarea.desk-prose-text >> nth=2", "One infusion eased symptoms within a day [1].\n"
              "{context} Nobody knows how long it lasts.")
    page.click("input[type=submit][value='Save the article']")
    page.wait_for_selector("ul.messagelist")
    assert Claim.objects.filter(section__article=article).count() == 4
    page.click("a.workflow-submit")
    page.click("input[type=submit][value='Submit for review']")
    page.wait_for_selector("ul.messagelist")
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW

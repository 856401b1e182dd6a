"""An editor writes an article in the admin, cites sources, clears the gate's blockers and submits it."""

import pytest

from articles.models import Article, Status
from references.models import Reference
from tests.e2e.conftest import PASSWORD
from tests.factories import make_editor

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

AUTOCOMPLETE_DOI = "10.1371/journal.pone.0033693"  # added on the reference form, cited through the autocomplete
MARKER_DOI = "10.1523/jneurosci.1547-16.2016"  # cited with a [doi:...] marker in the paste box


def test_editor_writes_cites_and_submits(open_session, fake_crossref):
    make_editor("edna", first_name="Edna", last_name="Moss", password=PASSWORD)
    editor = open_session("editor")
    page = editor.new_page()
    editor.sign_in(page, "edna")
    editor.screenshot(page, "admin-index")

    # A reference by DOI: the metadata comes from (fake) Crossref.
    page.goto(editor.url("/admin/references/reference/add/"))
    page.fill("#id_doi", f"https://doi.org/{AUTOCOMPLETE_DOI}")
    assert page.is_checked("#id_fetch_from_crossref")
    page.click("input[name=_save]")
    page.wait_for_selector("ul.messagelist")
    assert "Filled from Crossref" in page.inner_text("ul.messagelist")
    reference = Reference.objects.get(doi=AUTOCOMPLETE_DOI)
    assert reference.title.startswith("Methylphenidate Exposure Induces Dopamine Neuron Loss")
    editor.screenshot(page, "reference-added")

    # The article: two sections, three claims pasted; no byline yet.
    page.goto(editor.url("/admin/articles/article/add/"))
    page.fill("#id_title", "Stimulants and the developing brain")
    page.fill("#id_summary", "What animal studies say about stimulant exposure.")
    page.fill("#id_sections-0-heading", "What the studies did")
    page.fill(
        "#id_sections-0-paste_text",
        "Researchers gave mice methylphenidate for twelve weeks. Ask your doctor before changing any medication.",
    )
    page.fill("#id_sections-1-heading", "What they found")
    page.fill("#id_sections-1-paste_text", f"Exposure changed dopamine signalling in adult animals [doi:{MARKER_DOI}].")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist")
    article = Article.objects.get(title="Stimulants and the developing brain")
    assert article.sections.count() == 2
    assert sum(section.claims.count() for section in article.sections.all()) == 3
    assert Reference.objects.filter(doi=MARKER_DOI).exists()

    blockers = page.inner_text(".field-workflow_blockers")
    assert "The byline is missing" in blockers
    assert "cites no source" in blockers
    editor.screenshot(page, "article-blockers")

    # The first section: cite through the autocomplete, mark the advice as context.
    page.click("text=Edit the 2 claim(s) of this section")
    page.wait_for_selector("#id_claims-0-text")
    page.click("#id_claims-0-sources + .select2 .select2-selection")
    page.fill(".select2-search__field", "Methylphenidate")
    page.click(".select2-results__option:has-text('Methylphenidate Exposure')")
    page.check("#id_claims-1-is_context")
    editor.screenshot(page, "section-autocomplete")
    page.click("input[name=_save]")
    page.wait_for_selector(".field-workflow_blockers")
    first = article.sections.get(heading="What the studies did").claims.order_by("position")
    assert list(first[0].references.values_list("doi", flat=True)) == [AUTOCOMPLETE_DOI]
    assert first[1].is_context

    # The byline, then nothing blocks but the approval.
    blockers = page.inner_text(".field-workflow_blockers")
    assert "The byline is missing" in blockers
    assert "cites no source" not in blockers
    page.fill("#id_byline", "Edna Moss, PhD, clinical psychologist")
    page.click("input[name=_continue]")
    page.wait_for_selector("ul.messagelist")
    blockers = page.inner_text(".field-workflow_blockers")
    assert "The byline is missing" not in blockers
    assert "No reviewer has approved this content." in blockers
    editor.screenshot(page, "only-approval-left")

    page.click("a.workflow-submit")
    page.wait_for_selector("text=Send this version to reviewers.")
    editor.screenshot(page, "submit-confirm")
    page.click("#content form [type=submit]")
    page.wait_for_selector("ul.messagelist")
    assert "Submit for review: done" in page.inner_text("ul.messagelist")
    article.refresh_from_db()
    assert article.status == Status.IN_REVIEW
    editor.screenshot(page, "submitted")
    assert editor.csp_violations() == []

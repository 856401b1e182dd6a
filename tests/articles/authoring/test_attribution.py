"""articles.authoring.attribution: every change to a working copy names who made it, and nobody approves words they wrote."""

import pytest
from django.urls import reverse

from articles.authoring import attribution
from articles.review import gate, workflow
from articles.importing import import_article
from articles.models import Article, ContentChange, Section, Status
from tests.articles.test_admin import WECKMANN, article_form, inline_management
from tests.articles.review.test_admin_workflow import form_data
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db

ZORUMSKI = "10.1523/jneurosci.1547-16.2016"


@pytest.fixture
def dual():
    """An editor who is also a reviewer, credited to readers."""
    return make_user("dana", "Editors", "Reviewers", first_name="Dana", last_name="Both",
                     credentials="PhD, clinical psychologist")


@pytest.fixture
def superuser():
    return make_user("ada", superuser=True, first_name="Ada", credentials="MD, medical director")


@pytest.fixture
def zorumski():
    """The sources article_form's paste box cites, stored so no Crossref call is needed."""
    make_reference(WECKMANN, title="Ketamine's effects on the glutamatergic and GABAergic systems")
    return make_reference(ZORUMSKI, title="Ketamine: NMDA receptors and beyond")


def _changes(article):
    return list(ContentChange.objects.filter(article=article).order_by("at", "id"))


def _write_in_the_admin(client, user, *, authors):
    """``user`` writes a new article in the admin, naming ``authors`` as its authors."""
    client.force_login(user)
    response = client.post(reverse("admin:articles_article_add"),
                           article_form(authors=[a.pk for a in authors], **{
                               "sections-0-paste_text": f"Ketamine blocks NMDA receptors [doi:{ZORUMSKI}].",
                           }))
    assert response.status_code == 302, response.context["errors"] if response.context else response
    return Article.objects.get(slug="ketamine-explained")


@pytest.mark.parametrize("who", ["dual", "superuser"])
def test_whoever_writes_an_article_cannot_approve_it_though_someone_else_is_listed_as_author(
    client, request, zorumski, who
):
    writer = request.getfixturevalue(who)
    stand_in = make_editor("sam")
    article = _write_in_the_admin(client, writer, authors=[stand_in])
    assert list(article.authors.all()) == [stand_in]
    [change] = _changes(article)
    assert change.user == writer and change.user_name == writer.get_full_name()
    assert change.description.startswith("Created the article.")
    assert "Authors: added Sam." in change.description
    assert change.fingerprint == gate.content_fingerprint(article)

    workflow.submit(article, by=writer)
    with pytest.raises(workflow.NotAllowed, match="You changed “Ketamine, explained” since it was written"):
        workflow.approve(article, by=writer)
    with pytest.raises(workflow.NotAllowed, match="count as one of its authors"):
        workflow.request_changes(article, by=writer, comment="Looks fine to me.")
    # Through the review page too: refused with the reason, nothing changed.
    response = client.post(reverse("review:approve", args=[article.pk]),
                           {"fingerprint": gate.content_fingerprint(article)}, follow=True)
    assert "count as one of its authors" in response.content.decode()
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW

    # Another reviewer may approve, and the writer (an editor too) may then publish it.
    workflow.approve(article, by=make_reviewer("rita"))
    workflow.publish(article, by=writer)
    assert Article.objects.get(pk=article.pk).status == Status.PUBLISHED


def test_the_authors_list_is_audited_with_who_added_and_removed_whom(client, editor_user, zorumski):
    article = make_supported_article("Listed", author=editor_user)
    other = make_editor("omar", first_name="Omar")
    client.force_login(editor_user)
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]),
                           form_data(article, authors=[other.pk]))
    assert response.status_code == 302
    [change] = _changes(article)
    assert change.user == editor_user and change.authors_changed
    assert change.description == "Authors: added Omar; removed Eddie."


@pytest.fixture
def editor_user():
    return make_editor("eddie", first_name="Eddie")


def test_field_edits_are_described_with_before_and_after(client, editor_user):
    article = make_supported_article("Old title", author=editor_user)
    client.force_login(editor_user)
    client.post(reverse("admin:articles_article_change", args=[article.pk]),
                form_data(article, title="New title", disclosure="Funded by nobody."))
    [change] = _changes(article)
    assert change.description.splitlines() == [
        "Title: “Old title” → “New title”.",
        "Disclosure: (empty) → “Funded by nobody.”.",
    ]


def test_saving_without_changes_records_nothing(client, editor_user):
    article = make_supported_article("Unchanged", author=editor_user)
    client.force_login(editor_user)
    assert client.post(reverse("admin:articles_article_change", args=[article.pk]),
                       form_data(article)).status_code == 302
    assert _changes(article) == []


def test_section_and_claim_pages_attribute_edits_sources_and_context_marks(client, editor_user, zorumski):
    article = make_supported_article("Sectioned", author=editor_user)
    section = article.sections.first()
    factual, context = section.claims.all()
    client.force_login(editor_user)
    data = {
        "heading": "What it is, exactly", "position": "0", "paste_text": f"A new finding [doi:{ZORUMSKI}].",
        **inline_management("claims", 2, initial=2), "_continue": "1",
        "claims-0-id": factual.pk, "claims-0-section": section.pk, "claims-0-position": "0",
        "claims-0-text": "Ketamine blocks NMDA receptors in the brain.",
        "claims-0-sources": [str(zorumski.pk)],
        "claims-1-id": context.pk, "claims-1-section": section.pk, "claims-1-position": "1",
        "claims-1-text": context.text,  # no longer marked as context
    }
    response = client.post(reverse("admin:articles_section_change", args=[section.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [change] = _changes(article)
    lines = change.description.splitlines()
    assert "Renamed section “What it is” to “What it is, exactly”." in lines
    assert ("Edited a claim in “What it is, exactly”: “Ketamine blocks NMDA receptors.” → "
            "“Ketamine blocks NMDA receptors in the brain.”.") in lines
    assert any(line.startswith("Changed the sources of “Ketamine blocks NMDA receptors in the brain.”")
               and line.endswith(f"→ {ZORUMSKI}.") for line in lines), lines
    assert "Marked “Talk to your doctor before changing any treatment.” in “What it is, exactly” as a factual claim." \
        in lines
    assert f"Added a claim in “What it is, exactly”: “A new finding.”, citing {ZORUMSKI}." in lines
    assert change.user == editor_user

    claim = section.claims.get(text="A new finding.")
    response = client.post(reverse("admin:articles_claim_change", args=[claim.pk]), {
        "position": "5", "text": "A newer finding.", **inline_management("citations", 0), "_continue": "1",
    })
    assert response.status_code == 302
    assert _changes(article)[-1].description.startswith("Edited a claim in “What it is, exactly”: “A new finding.”")


def test_deleting_sections_from_the_list_is_attributed(client, superuser):
    article = make_supported_article("Deleted from the list")
    sections = list(article.sections.all())
    client.force_login(superuser)
    response = client.post(reverse("admin:articles_section_changelist"), {
        "action": "delete_selected", "_selected_action": [s.pk for s in sections], "post": "yes",
    })
    assert response.status_code == 302
    assert not Section.objects.filter(article=article).exists()
    [change] = _changes(article)
    assert change.user == superuser
    assert "Removed section “What it is”." in change.description
    assert "Removed section “What the trials found”." in change.description


def test_an_import_is_attributed_to_the_importing_user(editor_user):
    text = (
        "Ketamine and depression\n\nA short summary of the research.\n\nHow it works\n\n"
        f"Ketamine blocks NMDA receptors [doi:{ZORUMSKI}].\n"
    )
    make_reference(ZORUMSKI)
    report = import_article(text, author=editor_user, fetch=False)
    [change] = _changes(report.article)
    assert change.user == editor_user
    assert "Added section “How it works”." in change.description
    assert "Ketamine blocks NMDA receptors." in change.description


def test_changes_made_before_the_previous_approval_do_not_bar_reviewing_the_next_version(dual, editor_user):
    article = make_supported_article("Two rounds", author=editor_user)
    with attribution.recording(article, by=dual):
        Article.objects.filter(pk=article.pk).update(summary="Dana's summary.")
    assert [c.user for c in _changes(article)] == [dual]
    workflow.submit(article, by=editor_user)
    workflow.approve(article, by=make_reviewer("rita"))
    workflow.publish(article, by=editor_user)
    with attribution.recording(article, by=editor_user):
        Article.objects.filter(pk=article.pk).update(summary="The editor's summary.")
    workflow.submit(article, by=editor_user)
    workflow.approve(article, by=dual)  # Dana's words were reviewed by Rita; these are the editor's
    assert Article.objects.get(pk=article.pk).approved_by == dual


def test_an_approver_who_edits_the_pending_version_and_undoes_it_cannot_publish_it(client, dual, editor_user):
    """The approval still matches the words, but its approver changed them since the previous approval."""
    article = make_supported_article("Edited by its approver", author=editor_user)
    workflow.submit(article, by=editor_user)
    workflow.approve(article, by=make_reviewer("rita"))
    workflow.publish(article, by=editor_user)
    with attribution.recording(article, by=editor_user):
        Article.objects.filter(pk=article.pk).update(summary="A second version.")
    workflow.submit(article, by=editor_user)
    workflow.approve(article, by=dual)
    article = Article.objects.get(pk=article.pk)
    client.force_login(dual)
    url = reverse("admin:articles_article_change", args=[article.pk])
    client.post(url, form_data(article, summary="Dana's edit."))
    client.post(url, form_data(article))  # undone: the approved words again
    assert Article.objects.get(pk=article.pk).approved_fingerprint == gate.content_fingerprint(article)
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=editor_user)
    assert [b.code for b in refused.value.blockers] == ["self_approval"]


def test_the_change_log_is_shown_on_the_article_page(client, editor_user):
    article = make_supported_article("Logged", author=editor_user)
    client.force_login(editor_user)
    client.post(reverse("admin:articles_article_change", args=[article.pk]), form_data(article, title="Logged <b>"))
    page = client.get(reverse("admin:articles_article_change", args=[article.pk])).content.decode()
    assert "Changes to the content" in page
    assert "Title: “Logged” → “Logged &lt;b&gt;”." in page


def test_changes_are_append_only(editor_user):
    article = make_supported_article("Kept", author=editor_user)
    change = attribution.record(article, by=editor_user, before=attribution.NOTHING)
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_the_review_page_tells_someone_who_changed_the_words_that_another_reviewer_must(client, dual, editor_user):
    article = make_supported_article("Changed by a reviewer", author=editor_user)
    with attribution.recording(article, by=dual):
        Article.objects.filter(pk=article.pk).update(byline="Dana Both, PhD")
    workflow.submit(article, by=editor_user)
    client.force_login(dual)
    page = client.get(reverse("review:article", args=[article.pk])).content.decode()
    assert "changed it since its last approval, so another reviewer must review it" in page
    assert "Approve exactly" not in page


def test_deleting_a_claim_on_its_page_is_attributed(client, editor_user):
    article = make_supported_article("Claim deleted", author=editor_user)
    claim = article.sections.first().claims.first()
    client.force_login(make_user("ada", superuser=True))  # editors may not delete; administrators may
    response = client.post(reverse("admin:articles_claim_delete", args=[claim.pk]), {"post": "yes"})
    assert response.status_code == 302
    [change] = _changes(article)
    assert change.description == "Removed a claim from “What it is”: “Ketamine blocks NMDA receptors.”."

"""Attacks on "every claim rests on a verified, peer-reviewed source, approved by someone who did not write it".

Each test is one attack by a hostile editor (or a careless administrator) through the real admin, the review
views and the services, and ends the same way: the gate (``articles.review.gate.publish_blockers``) names the reason
and a real ``workflow.publish`` is refused, with nothing live. Where the attack needs a reviewer's approval of
exactly the words, ``_forge_approval`` writes the best approval an attacker could get on record, so what is
tested is the gate itself, not only the earlier refusals.

Crossref records are the recorded answers in tests/fixtures/crossref (README there says where each came from:
the bioRxiv preprint is a real recording from commonmeta-py's tests; the Hindawi and PLOS shapes are built).
"""

import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.authoring import attribution
from articles.review import gate, workflow
from articles.models import Article, ReviewerProfile, Status
from references import services
from references.models import MetadataSource, PeerReviewStatus, Reference, RetractionStatus
from tests.articles.test_admin import article_form, inline_management
from tests.fake_crossref import FakeCrossref, load_work
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db

PREPRINT = "10.1101/2020.12.01.406702"  # bioRxiv, posted-content / preprint (real recording)
HINDAWI_RETRACTED = "10.5555/psychly.hindawi.2023.0303"  # "Retracted: …", no relations
HINDAWI_ERRATUM = "10.5555/psychly.hindawi.2021.0404"  # "Erratum to “…”", no relations
PLOS_NEW_VERSION = "10.5555/psychly.plos.2022.0101"  # update-to: new_version naming itself
CONCERN = "10.5555/psychly.concern.2020.002"  # later given an expression of concern
ZORUMSKI = "10.1523/jneurosci.1547-16.2016"
OFFLINE = "http://127.0.0.1:9"  # nothing listens there: Crossref unreachable


@pytest.fixture
def editor():
    return make_editor("mallory", first_name="Mallory")


@pytest.fixture
def reviewer():
    return make_reviewer("rita", first_name="Rita", last_name="Okafor")


@pytest.fixture
def dual():
    return make_user("dana", "Editors", "Reviewers", first_name="Dana", credentials="PhD, clinical psychologist")


def _from_crossref(doi, *, by=None):
    """A reference filled from a recorded Crossref answer, as adding it by DOI does."""
    return services.save_reference(services.apply_work(Reference(doi=doi), load_work(doi)), by=by)


def _citing(reference, *, author, title="Attacked article"):
    """An article every rule passes but approval, whose only factual claim cites ``reference``."""
    return make_supported_article(title, author=author, sections={"Findings": [
        {"text": "The treatment halves symptoms.", "refs": [reference]},
        {"text": "Talk to your doctor.", "context": True},
    ]})


def _forge_approval(article, approver):
    """The attacker's best case: ``approver``'s approval of exactly the current words on record."""
    profile = ReviewerProfile.objects.filter(user=approver).first()
    now = timezone.now()
    Article.objects.filter(pk=article.pk).update(
        status=Status.APPROVED, approved_fingerprint=gate.content_fingerprint(article), approved_by=approver,
        approved_at=now, last_reviewed_at=now, approved_credit_name=profile.display_name if profile else "",
        approved_credit_credentials=profile.credentials if profile else "",
    )
    return Article.objects.get(pk=article.pk)


def assert_cannot_go_live(article, *, by, code, message=""):
    """The gate names ``code`` and a real publish is refused with it; nothing goes live."""
    article = Article.objects.get(pk=article.pk)
    revision_before = article.published_revision_id
    blockers = gate.publish_blockers(article)
    assert code in {b.code for b in blockers}, blockers
    if message:
        assert any(message in str(b) for b in blockers), blockers
    with pytest.raises(workflow.NotPublishable) as refused:
        workflow.publish(article, by=by)
    assert code in {b.code for b in refused.value.blockers}
    after = Article.objects.get(pk=article.pk)
    assert after.published_revision_id == revision_before
    return blockers


def _approve_refused(article, *, by):
    with pytest.raises((workflow.NotPublishable, workflow.NotAllowed)):
        workflow.approve(article, by=by)


# -- peer-review overrides -----------------------------------------------------------------------------------

@pytest.mark.parametrize("work_type", ["posted-content", "dataset"])
def test_an_editor_cannot_raise_a_verified_preprint_or_dataset_to_peer_reviewed(client, editor, reviewer, work_type):
    work = load_work(PREPRINT)
    work["type"] = work_type  # the dataset: the same Crossref record deposited as a dataset
    source = services.save_reference(services.apply_work(Reference(doi=PREPRINT), work), by=editor)
    assert source.is_verified and source.effective_peer_review_status != PeerReviewStatus.PEER_REVIEWED
    url = reverse("admin:references_reference_override", args=[source.pk])
    client.force_login(editor)
    page = client.get(url).content.decode()
    assert 'value="not_peer_reviewed"' in page and 'value="peer_reviewed"' not in page
    response = client.post(url, {"status": "peer_reviewed", "reason": "Trust me."})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    with pytest.raises(services.OverrideRefused, match="Only a reviewer who did not enter a reference"):
        services.override_peer_review(source, status=PeerReviewStatus.PEER_REVIEWED, reason="Trust me.", by=editor)
    # Written straight to the row (an old override, a shell): the gate ignores an upgrade no reviewer made.
    Reference.objects.filter(pk=source.pk).update(
        peer_review_override=PeerReviewStatus.PEER_REVIEWED, peer_review_override_reason="Trust me.",
        peer_review_override_by=editor, peer_review_override_at=timezone.now(),
    )
    source.refresh_from_db()
    assert not source.counts_as_support
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    client.force_login(reviewer)
    assert "ignored, as no reviewer made it: overridden by" in client.get(
        reverse("review:article", args=[article.pk])).content.decode()
    _approve_refused(article, by=reviewer)
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_a_reviewer_who_did_not_enter_a_preprint_may_raise_it_and_it_counts(editor, reviewer):
    """The rule's other side: the upgrade counts when a reviewer records it, so the gate is not just shut."""
    source = _from_crossref(PREPRINT, by=editor)
    services.override_peer_review(source, status=PeerReviewStatus.PEER_REVIEWED,
                                  reason="Published after review in the journal; Crossref lags.", by=reviewer)
    source.refresh_from_db()
    assert source.counts_as_support
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    assert Article.objects.get(pk=article.pk).status == Status.PUBLISHED


def test_a_reviewer_who_entered_the_reference_cannot_raise_it(dual, reviewer):
    source = _from_crossref(PREPRINT, by=dual)
    with pytest.raises(services.OverrideRefused, match="you entered this reference"):
        services.override_peer_review(source, status=PeerReviewStatus.PEER_REVIEWED, reason="Mine.", by=dual)
    article = _citing(source, author=make_editor("ed"))
    assert_cannot_go_live(_forge_approval(article, reviewer), by=dual, code="unsupported_claim")


def test_an_editor_cannot_raise_a_status_by_withdrawing_a_reviewers_lowering(client, editor, reviewer):
    source = _from_crossref(ZORUMSKI)
    services.override_peer_review(source, status=PeerReviewStatus.NOT_PEER_REVIEWED,
                                  reason="A predatory journal.", by=reviewer)
    with pytest.raises(services.OverrideRefused, match="Only a reviewer"):
        services.override_peer_review(source, status="", reason="Restore it.", by=editor)
    client.force_login(editor)
    url = reverse("admin:references_reference_override", args=[source.pk])
    assert "withdraw the override" not in client.get(url).content.decode()
    response = client.post(url, {"status": "", "reason": "Restore it."})
    assert response.status_code == 200
    # Lowering further is allowed (it only makes the gate stricter).
    services.override_peer_review(source, status=PeerReviewStatus.UNKNOWN, reason="Unsure.", by=editor)
    with pytest.raises(services.OverrideRefused):
        services.override_peer_review(source, status="", reason="Now withdraw my own.", by=editor)
    article = _citing(source, author=editor)
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_an_editor_lowering_a_live_articles_only_source_sends_it_to_re_review(editor, reviewer):
    """Lowering is allowed, and the gate gets stricter at once: the live page does not keep it silently."""
    source = _from_crossref(ZORUMSKI)
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    services.override_peer_review(source, status=PeerReviewStatus.NOT_PEER_REVIEWED,
                                  reason="A conference abstract.", by=editor)
    article.refresh_from_db()
    assert article.needs_rereview and article.urgent
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    assert_cannot_go_live(article, by=editor, code="unsupported_claim", message="not peer-reviewed")


# -- records typed in or imported ------------------------------------------------------------------------------

def test_a_journal_article_typed_into_the_admin_with_crossref_offline_does_not_count(
    client, settings, editor, reviewer
):
    settings.CROSSREF_API_URL = OFFLINE
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_add"), {
        "doi": "10.5555/my.blog.post", "fetch_from_crossref": "on", "url": "", "pubmed_id": "",
        "title": "Ketamine cures everything", "authors_text": "Mallory, M", "container_title": "Journal of Truth",
        "year": "2024", "volume": "1", "issue": "1", "pages": "1-2", "publisher": "", "work_type": "journal-article",
        # Ignored: not fields of the form.
        "metadata_source": "crossref", "verified_by": str(reviewer.pk), "verification_reason": "Checked.",
    })
    assert response.status_code == 302
    source = Reference.objects.get(doi="10.5555/my.blog.post")
    assert source.verified_by is None
    assert source.metadata_source == MetadataSource.MANUAL and source.entered_by == editor
    assert source.peer_review_status == PeerReviewStatus.PEER_REVIEWED and not source.counts_as_support
    article = _citing(source, author=editor)
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim",
                          message="unverified (entered by hand")


RIS = "TY  - JOUR\nTI  - Ketamine cures everything\nAU  - Mallory, M\nJO  - Journal of Truth\nPY  - 2024\n" \
      "DO  - 10.5555/ris.fake\nER  -\n"
BIBTEX = "@article{m2024, author = {Mallory, M}, title = {Ketamine cures everything}, journal = {Journal of Truth}," \
         " year = {2024}, doi = {10.5555/bib.fake}}\n"
CSL = json.dumps([{"type": "article-journal", "title": "Ketamine cures everything", "author": [{"family": "Mallory"}],
                   "container-title": "Journal of Truth", "DOI": "10.5555/csl.fake"}])


@pytest.mark.parametrize(("name", "text", "doi"), [
    ("library.ris", RIS, "10.5555/ris.fake"), ("library.bib", BIBTEX, "10.5555/bib.fake"),
    ("library.json", CSL, "10.5555/csl.fake"),
])
def test_a_journal_article_imported_from_a_reference_manager_does_not_count(
    client, settings, editor, reviewer, name, text, doi
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.CROSSREF_API_URL = OFFLINE
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_import"),
                           {"file": SimpleUploadedFile(name, text.encode())})
    assert response.status_code == 200
    source = Reference.objects.get(doi=doi)
    assert source.metadata_source == MetadataSource.FILE and source.work_type == "journal-article"
    assert not source.counts_as_support
    article = _citing(source, author=editor)
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_extra_fields_posted_to_the_reference_change_form_are_ignored(client, editor, reviewer):
    source = services.save_reference(Reference(doi="10.5555/typed.1", title="Typed", work_type="journal-article"),
                                     by=editor)
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_change", args=[source.pk]), {
        "url": "", "title": "Typed", "authors_text": "", "container_title": "", "year": "", "volume": "",
        "issue": "", "pages": "", "publisher": "", "work_type": "journal-article",
        **{f"display_{n}": "" for n in ("title", "container_title", "volume", "issue", "pages", "publisher")},
        # What an attacker adds to the POST:
        "metadata_source": "crossref", "verified_by": str(editor.pk), "verification_reason": "Me.",
        "entered_by": str(reviewer.pk), "peer_review_override": "peer_reviewed",
        "peer_review_override_by": str(reviewer.pk),
        "peer_review_override_by_reviewer": "on", "peer_review_override_reason": "x", "notice_kind": "",
        "retraction_status": "none", "fetched_at": "2024-01-01 00:00", "typed_by": "[]",
    })
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.metadata_source == MetadataSource.MANUAL and source.verified_by is None
    assert source.entered_by == editor and source.peer_review_override == "" and not source.fetched_at
    assert source.typed_by == [editor.pk]
    assert not source.counts_as_support
    article = _citing(source, author=editor)
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_a_reference_line_in_an_imported_article_does_not_count_offline(settings, editor, reviewer):
    from articles.importing import import_article

    settings.CROSSREF_API_URL = OFFLINE
    text = ("Ketamine and depression\n\nWhat the research says.\n\nFindings\n\nKetamine cures depression [1].\n\n"
            "References\n\n1. Mallory, M. (2024). Ketamine cures everything. Journal of Truth, 1(1), 1-2. "
            "https://doi.org/10.5555/line.fake\n")
    article = import_article(text, author=editor, fetch=False).article
    source = Reference.objects.get(doi="10.5555/line.fake")
    assert source.metadata_source == MetadataSource.CITATION_LINE and not source.counts_as_support
    Article.objects.filter(pk=article.pk).update(byline="Mallory, editor")
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_an_editor_cannot_make_themselves_a_reviewer_in_the_user_admin(client, editor, reviewer):
    from django.contrib.auth.models import Group

    client.force_login(editor)
    reviewers = Group.objects.get(name="Reviewers")
    response = client.post(reverse("admin:auth_user_change", args=[editor.pk]), {
        "username": editor.username, "groups": [str(reviewers.pk)], "is_staff": "on", "is_active": "on",
        "is_superuser": "on",
    })
    assert response.status_code == 403
    editor.refresh_from_db()
    assert not editor.is_superuser and not editor.groups.filter(name="Reviewers").exists()
    article = make_supported_article("Own article", author=editor)
    workflow.submit(article, by=editor)
    with pytest.raises(workflow.NotAllowed):
        workflow.approve(article, by=editor)
    assert "no_approval" in {b.code for b in gate.publish_blockers(article)}
    with pytest.raises(workflow.InvalidTransition):
        workflow.publish(article, by=editor)
    assert Article.objects.get(pk=article.pk).status == Status.IN_REVIEW


@pytest.mark.parametrize("changelist", ["admin:articles_reviewerprofile_changelist",
                                        "admin:articles_reviewercreditchange_changelist"])
def test_a_huge_search_of_reviewer_credits_is_refused_with_a_message(client, reviewer, changelist):
    from django.contrib.messages import get_messages

    client.force_login(make_user("root", superuser=True))
    response = client.get(reverse(changelist), {"q": "okafor " * 5000})
    assert response.status_code == 200 and response.context["cl"].result_count == 0
    assert any("ADMIN_SEARCH_MAX_CHARS" in str(m) for m in get_messages(response.wsgi_request))
    assert client.get(reverse(changelist), {"q": "Okafor"}).status_code == 200


# -- verification -------------------------------------------------------------------------------------------

def test_an_editor_cannot_verify_their_own_reference(client, editor, reviewer):
    source = services.save_reference(Reference(doi="10.5555/typed.2", title="Mine", work_type="journal-article"),
                                     by=editor)
    client.force_login(editor)
    url = reverse("admin:references_reference_verify", args=[source.pk])
    assert client.post(url, {"decision": "verify", "reason": "I checked."}).status_code == 403
    with pytest.raises(services.VerificationRefused, match="Only a reviewer"):
        services.verify_reference(source, by=editor, reason="I checked.")
    source.refresh_from_db()
    assert not source.verified_by_id and not source.verifications.exists()
    assert_cannot_go_live(_forge_approval(_citing(source, author=editor), reviewer), by=editor,
                          code="unsupported_claim")


def test_a_dual_role_user_who_entered_a_reference_cannot_verify_it(client, dual, reviewer):
    client.force_login(dual)
    response = client.post(reverse("admin:references_reference_add"), {
        "doi": "", "fetch_from_crossref": "", "url": "https://example.org/my-post", "pubmed_id": "",
        "title": "My post", "authors_text": "", "container_title": "Journal of Me", "year": "2024", "volume": "",
        "issue": "", "pages": "", "publisher": "", "work_type": "journal-article",
    })
    assert response.status_code == 302
    source = Reference.objects.get(url="https://example.org/my-post")
    assert source.entered_by == dual
    response = client.post(reverse("admin:references_reference_verify", args=[source.pk]),
                           {"decision": "verify", "reason": "Looks right to me."})
    assert response.status_code == 200 and "You entered this reference" in response.content.decode()
    source.refresh_from_db()
    assert source.verified_by is None and not source.counts_as_support
    assert_cannot_go_live(_forge_approval(_citing(source, author=make_editor("ed")), reviewer), by=dual,
                          code="unsupported_claim")


def test_whoever_typed_a_reference_cannot_verify_it_after_a_colleague_edits_it(client, dual, reviewer):
    """entered_by names the last person to type its details; the first one's words are still in it."""
    source = services.save_reference(Reference(doi="10.5555/typed.5", title="Dana's bogus trial",
                                               work_type="journal-article"), by=dual)
    colleague = make_editor("colleague")
    services.edit_reference(source, by=colleague, fields={"container_title": "Journal of Psychiatry"})
    source.refresh_from_db()
    assert source.entered_by == colleague
    client.force_login(dual)
    response = client.post(reverse("admin:references_reference_verify", args=[source.pk]),
                           {"decision": "verify", "reason": "Looks right."})
    assert "You typed some of this reference&#x27;s details, so someone else must verify it." in (
        response.content.decode())
    assert not services.may_raise_peer_review(source, dual)
    source.refresh_from_db()
    assert source.verified_by is None and not source.counts_as_support
    assert_cannot_go_live(_forge_approval(_citing(source, author=colleague), reviewer), by=colleague,
                          code="unsupported_claim")
    # Someone who typed none of it may verify it.
    services.verify_reference(source, by=reviewer, reason="Matched the journal's page.")
    source.refresh_from_db()
    assert source.counts_as_support


def test_an_editor_editing_a_verified_reference_drops_its_verification(client, editor, reviewer):
    source = services.save_reference(Reference(doi="10.5555/typed.3", title="A real trial", work_type="journal-article",
                                               container_title="The Lancet"), by=make_editor("other"))
    services.verify_reference(source, by=reviewer, reason="Matched the journal's page.")
    source.refresh_from_db()
    assert source.counts_as_support
    article = _citing(source, author=editor)
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_change", args=[source.pk]), {
        "url": "", "title": "A real trial", "authors_text": "", "container_title": "The Lancet Psychiatry (honest)",
        "year": "", "volume": "", "issue": "", "pages": "", "publisher": "", "work_type": "journal-article",
        **{f"display_{n}": "" for n in ("title", "container_title", "volume", "issue", "pages", "publisher")},
    })
    assert response.status_code == 302
    source.refresh_from_db()
    assert source.verified_by is None and source.entered_by == editor and not source.counts_as_support
    assert source.verifications.first().decision == "withdrawn"
    assert_cannot_go_live(_forge_approval(article, reviewer), by=editor, code="unsupported_claim")


def test_an_editor_editing_a_reference_a_reviewer_raised_voids_the_raise(editor, reviewer):
    source = services.save_reference(Reference(doi="10.5555/typed.4", title="A report", work_type="report"),
                                     by=make_editor("other"))
    services.verify_reference(source, by=reviewer, reason="Matched the funder's page.")
    services.override_peer_review(source, status=PeerReviewStatus.PEER_REVIEWED, reason="Externally refereed.",
                                  by=reviewer)
    source.refresh_from_db()
    assert source.counts_as_support
    services.edit_reference(source, by=editor, fields={"title": "A different report"})
    # A reviewer verifies the new details again, but the raise was for the old ones.
    services.verify_reference(source, by=reviewer, reason="Checked the new title.")
    source.refresh_from_db()
    assert not source.peer_review_override_by_reviewer and not source.counts_as_support
    assert_cannot_go_live(_forge_approval(_citing(source, author=editor), reviewer), by=editor,
                          code="unsupported_claim")


# -- what real records say -------------------------------------------------------------------------------------

@pytest.mark.parametrize("doi", [HINDAWI_RETRACTED, HINDAWI_ERRATUM])
def test_a_notice_deposited_without_relations_is_never_support(client, fake_crossref, editor, reviewer, doi):
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_add"), {
        "doi": doi, "fetch_from_crossref": "on", "url": "", "pubmed_id": "", "title": "", "authors_text": "",
        "container_title": "", "year": "", "volume": "", "issue": "", "pages": "", "publisher": "", "work_type": "",
    })
    assert response.status_code == 302
    source = Reference.objects.get(doi=doi)
    assert source.metadata_source == MetadataSource.CROSSREF and source.notice_kind
    # Not even a reviewer's raise makes a notice a study.
    services.override_peer_review(source, status=PeerReviewStatus.PEER_REVIEWED, reason="It is a journal.",
                                  by=reviewer)
    source.refresh_from_db()
    assert not source.counts_as_support
    assert_cannot_go_live(_forge_approval(_citing(source, author=editor), reviewer), by=editor,
                          code="unsupported_claim", message="an editorial notice")


def test_a_plos_article_whose_update_to_is_its_own_new_version_is_support(fake_crossref, editor, reviewer):
    source, created = services.add_reference_by_doi(PLOS_NEW_VERSION, by=editor)
    assert created and not source.notice_kind and source.counts_as_support
    article = _citing(source, author=editor)
    assert gate.publish_blockers(article) and not gate.content_blockers(gate.load_content(article))
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    assert Article.objects.get(pk=article.pk).status == Status.PUBLISHED


# -- who approves ----------------------------------------------------------------------------------------------

def _published(editor, reviewer):
    article = make_supported_article("Live article", author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    return Article.objects.get(pk=article.pk)


def test_a_dual_role_user_who_edits_a_claim_after_approval_cannot_approve_it(client, editor, reviewer, dual):
    article = _published(editor, reviewer)
    claim = article.sections.first().claims.first()
    client.force_login(dual)
    response = client.post(reverse("admin:articles_claim_change", args=[claim.pk]), {
        "position": str(claim.position), "text": "Ketamine blocks NMDA receptors and cures depression.",
        "is_context": "", **inline_management("citations", 1, initial=1),
        "citations-0-id": claim.citations.get().pk, "citations-0-claim": claim.pk, "citations-0-position": "0",
        "citations-0-reference": claim.citations.get().reference_id, "citations-0-locator": "p. 2",
        "_continue": "1",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    workflow.submit(article, by=dual)
    with pytest.raises(workflow.NotAllowed, match="count as one of its authors"):
        workflow.approve(article, by=dual)
    response = client.post(reverse("review:approve", args=[article.pk]),
                           {"fingerprint": gate.content_fingerprint(article)}, follow=True)
    assert "count as one of its authors" in response.content.decode()
    assert_cannot_go_live(_forge_approval(article, dual), by=editor, code="self_approval")
    Article.objects.filter(pk=article.pk).update(status=Status.PUBLISHED)  # the live page, as before the forgery
    # A colleague who did not change it may approve; then it goes live.
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=dual)
    assert Article.objects.get(pk=article.pk).published_revision.number == 2


def test_approval_fields_posted_to_the_article_change_form_are_ignored(client, editor, reviewer):
    from tests.articles.review.test_admin_workflow import form_data

    article = make_supported_article("Never reviewed", author=editor)
    fingerprint = gate.content_fingerprint(article)
    client.force_login(editor)
    response = client.post(reverse("admin:articles_article_change", args=[article.pk]), form_data(
        article, status="approved", approved_by=str(reviewer.pk), approved_fingerprint=fingerprint,
        approved_credit_name="Rita Okafor", approved_credit_credentials="MD", approved_at="2024-01-01 00:00",
        needs_rereview="", published_at="2024-01-01 00:00",
    ))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Status.DRAFT and article.approved_by is None and not article.approved_fingerprint
    assert "no_approval" in {b.code for b in gate.publish_blockers(article)}
    with pytest.raises(workflow.InvalidTransition):
        workflow.publish(article, by=editor)
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    assert_cannot_go_live(article, by=editor, code="no_approval")


def test_a_superuser_cannot_write_and_approve_alone(client):
    boss = make_user("boss", superuser=True, first_name="Boss", credentials="MD, medical director")
    make_reference(ZORUMSKI)
    client.force_login(boss)
    response = client.post(reverse("admin:articles_article_add"), article_form(
        authors=[make_editor("stand-in").pk],
        **{"sections-0-paste_text": f"Ketamine blocks NMDA receptors [doi:{ZORUMSKI}]. Talk to your doctor."},
    ))
    assert response.status_code == 302
    article = Article.objects.get(slug="ketamine-explained")
    workflow.submit(article, by=boss)
    with pytest.raises(workflow.NotAllowed):
        workflow.approve(article, by=boss)
    assert_cannot_go_live(_forge_approval(article, boss), by=boss, code="self_approval")


def test_an_editor_cannot_rewrite_a_reviewers_credit_by_a_crafted_post(client, editor, reviewer):
    article = _published(editor, reviewer)
    profile = reviewer.reviewer_profile
    client.force_login(editor)
    response = client.post(reverse("admin:articles_reviewerprofile_change", args=[profile.pk]),
                           {"user": str(reviewer.pk), "display_name": "Dr Mallory", "credentials": "Nobel laureate"})
    assert response.status_code == 403
    response = client.post(reverse("admin:articles_reviewerprofile_add"),
                           {"user": str(editor.pk), "display_name": "Dr Mallory", "credentials": "MD"})
    assert response.status_code == 403
    profile.refresh_from_db()
    assert (profile.display_name, profile.credentials) == ("Rita Okafor", "MD, psychiatrist")
    assert not ReviewerProfile.objects.filter(user=editor).exists()
    # The live credit is the one frozen at approval; a new version still needs a reviewer.
    assert Article.objects.get(pk=article.pk).approved_credit_credentials == "MD, psychiatrist"
    with attribution.recording(article, by=editor):
        Article.objects.filter(pk=article.pk).update(summary="Edited.")
    assert_cannot_go_live(article, by=editor, code="stale_approval")


# -- sources that change after approval ------------------------------------------------------------------------

def test_changing_a_cited_references_title_after_approval_voids_it(client, editor, reviewer):
    source = make_reference(title="A randomised trial of ketamine")
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_change", args=[source.pk]), {
        "url": "", "needs_check": "", "display_title": "Ketamine cures depression, a landmark trial",
        **{f"display_{n}": "" for n in ("container_title", "volume", "issue", "pages", "publisher")},
    })
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Status.DRAFT and not article.approved_fingerprint
    with pytest.raises(workflow.InvalidTransition):
        workflow.publish(article, by=editor)
    # Even forced back to "approved", the voided approval is no approval.
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    assert_cannot_go_live(article, by=editor, code="no_approval")


def test_changing_a_live_articles_reference_title_sends_it_to_re_review(client, editor, reviewer):
    source = make_reference(title="A randomised trial of ketamine")
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    services.edit_reference(source, by=editor, display_overrides={"title": "A landmark trial"})
    article.refresh_from_db()
    assert article.needs_rereview and article.rereview_flagged_at > article.approved_at
    # Forced back to "approved", the approval given before the flag still cannot go live.
    Article.objects.filter(pk=article.pk).update(status=Status.APPROVED)
    assert_cannot_go_live(article, by=editor, code="rereview_pending")


def test_publishing_an_old_approval_after_an_expression_of_concern_is_refused(settings, editor, reviewer):
    work = load_work(CONCERN)
    work.pop("updated-by")
    source = services.save_reference(services.apply_work(Reference(doi=CONCERN), work))
    article = _citing(source, author=editor)
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    workflow.publish(article, by=editor)
    with attribution.recording(article, by=editor):
        Article.objects.filter(pk=article.pk).update(summary="A second version.")
    workflow.submit(article, by=editor)
    workflow.approve(article, by=reviewer)
    # Crossref now records the expression of concern (the recorded answer, updated-by included).
    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
        result = services.refresh_reference(source)
    assert result.reference.retraction_status == RetractionStatus.EXPRESSION_OF_CONCERN
    article.refresh_from_db()
    assert article.needs_rereview and article.rereview_flagged_at > article.approved_at
    assert_cannot_go_live(article, by=editor, code="rereview_pending", message=CONCERN)
    assert Article.objects.get(pk=article.pk).needs_rereview, "the flag stays for a reviewer"


# -- lookalike DOIs -------------------------------------------------------------------------------------------

LOOKALIKES = [
    ("10.\uff11\uff11\uff17\uff16/appi.ajp.2020.20050596", "U+FF11 FULLWIDTH DIGIT ONE"),
    ("10.1176/appi\u200b.ajp.2020.20050596", "U+200B ZERO WIDTH SPACE"),
    ("10.1176/appi.ajp.\u202e2020.20050596", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("10.1176/appi.ajp.2020.20050596\u017f", "U+017F LATIN SMALL LETTER LONG S"),
]


@pytest.mark.parametrize(("typed", "name"), LOOKALIKES, ids=["full-width", "zero-width", "rtl", "long-s"])
def test_a_lookalike_doi_is_refused_in_the_add_form_and_in_a_paste_marker(client, editor, reviewer, typed, name):
    client.force_login(editor)
    response = client.post(reverse("admin:references_reference_add"), {
        "doi": typed, "fetch_from_crossref": "", "url": "", "pubmed_id": "", "title": "A lookalike",
        "authors_text": "", "container_title": "", "year": "", "volume": "", "issue": "", "pages": "",
        "publisher": "", "work_type": "journal-article",
    })
    assert response.status_code == 200 and name in response.content.decode()
    response = client.post(reverse("admin:articles_article_add"), article_form(
        **{"sections-0-paste_text": f"Ketamine blocks NMDA receptors [doi:{typed}]."}))
    assert response.status_code == 200 and re.search(re.escape(name), response.content.decode())
    assert not Reference.objects.exists() and not Article.objects.exists()
    # An article citing the genuine DOI is not helped by the refused lookalike.
    genuine = services.save_reference(Reference(doi="10.1176/appi.ajp.2020.20050596", title="Typed",
                                                work_type="journal-article"), by=editor)
    assert_cannot_go_live(_forge_approval(_citing(genuine, author=editor), reviewer), by=editor,
                          code="unsupported_claim")

"""Every state-changing request needs a CSRF token; GET never changes state."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from articles.review import gate, workflow
from articles.models import Article, ReviewerProfile, Status
from references.models import Reference
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user


@pytest.fixture
def site(db):
    editor = make_editor("edna")
    reviewer = make_reviewer("rita")
    admin = make_user("ada", superuser=True)
    draft = make_supported_article("Draft piece", author=editor)
    in_review = make_supported_article("In review piece", author=editor)
    workflow.submit(in_review, by=editor)
    approved = make_supported_article("Approved piece", author=editor)
    workflow.submit(approved, by=editor)
    workflow.approve(approved, by=reviewer)
    published = make_supported_article("Published piece", author=editor)
    workflow.submit(published, by=editor)
    workflow.approve(published, by=reviewer)
    workflow.publish(published, by=editor)
    return {"editor": editor, "reviewer": reviewer, "admin": admin, "draft": draft, "in_review": in_review,
            "approved": approved, "published": published, "reference": make_reference(title="A sleep study"),
            "typed_in": make_reference(title="Typed in", metadata_source="manual", entered_by=editor)}


def _state(site):
    """Everything a forged request could change: statuses, counts, a title."""
    return {
        "statuses": dict(Article.objects.values_list("pk", "status")),
        "scheduled": list(Article.objects.filter(scheduled_at__isnull=False).values_list("pk", flat=True)),
        "articles": Article.objects.count(),
        "references": Reference.objects.count(),
        "reference_override": Reference.objects.get(pk=site["reference"].pk).peer_review_override,
        "verifications": sorted(Reference.objects.exclude(verified_by=None).values_list("pk", flat=True)),
        "draft_title": Article.objects.get(pk=site["draft"].pk).title,
        "sections": site["draft"].sections.count(),
        "credit_changes": site["reviewer"].reviewer_credit_changes.count(),
        "credit": str(ReviewerProfile.objects.get(user=site["reviewer"])),
    }


def _requests(site):
    """(who, url, data) for every state-changing endpoint."""
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    a = "/admin/articles/article"
    return [
        ("editor", f"{a}/{site['draft'].pk}/workflow/submit/", {}),
        ("editor", f"{a}/{site['in_review'].pk}/workflow/withdraw/", {"reason": "x"}),
        ("editor", f"{a}/{site['draft'].pk}/workflow/archive/", {}),
        ("editor", f"{a}/{site['approved'].pk}/workflow/publish/", {}),
        ("editor", f"{a}/{site['approved'].pk}/workflow/schedule/", {"at": tomorrow}),
        ("editor", f"{a}/{site['published'].pk}/workflow/unpublish/", {"reason": "x"}),
        ("reviewer", f"/review/{site['in_review'].pk}/request-changes/", {"comment": "Cite it."}),
        ("reviewer", f"/review/{site['in_review'].pk}/approve/",
         {"fingerprint": gate.content_fingerprint(site["in_review"])}),
        ("editor", f"{a}/", {"action": "submit_selected", "_selected_action": site["draft"].pk}),
        ("editor", f"{a}/add/", {"title": "Forged", "slug": "forged", "review_interval_months": 12,
                                 "sections-TOTAL_FORMS": 0, "sections-INITIAL_FORMS": 0}),
        ("editor", f"{a}/{site['draft'].pk}/change/", {"title": "Forged title", "slug": site["draft"].slug,
                                                        "review_interval_months": 12}),
        ("admin", f"{a}/{site['draft'].pk}/delete/", {"post": "yes"}),
        ("editor", f"{a}/import/", {"text": "Forged\n\nHeading\n\nA claim.", "_import": "1"}),
        ("editor", "/admin/references/reference/add/", {"url": "https://example.org/forged", "title": "Forged"}),
        ("editor", "/admin/references/reference/add-many/", {"dois": "10.1000/forged.1"}),
        ("editor", f"/admin/references/reference/{site['reference'].pk}/override-peer-review/",
         {"status": "not_peer_reviewed", "reason": "forged"}),
        ("reviewer", f"/admin/references/reference/{site['typed_in'].pk}/verify/",
         {"decision": "verify", "reason": "forged"}),
        ("reviewer", f"/admin/articles/reviewerprofile/{site['reviewer'].reviewer_profile.pk}/change/",
         {"display_name": "Forged", "credentials": "Forged"}),
        ("editor", "/admin/password_change/", {"old_password": "x", "new_password1": "y", "new_password2": "y"}),
    ]


def test_every_state_changing_request_without_a_token_is_refused(site):
    before = _state(site)
    for who, url, data in _requests(site):
        client = Client(enforce_csrf_checks=True)
        client.force_login(site[who])
        response = client.post(url, data)
        assert response.status_code == 403, f"{url}: {response.status_code}"
        assert b"CSRF" in response.content, url
    assert _state(site) == before


def test_a_token_from_the_page_is_accepted(site):
    # The control for the test above: the same kind of request with the form's token goes through.
    client = Client(enforce_csrf_checks=True)
    client.force_login(site["reviewer"])
    page = client.get(f"/review/{site['in_review'].pk}/")
    token = page.context["csrf_token"]
    response = client.post(
        f"/review/{site['in_review'].pk}/request-changes/", {"comment": "Cite it.", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302
    site["in_review"].refresh_from_db()
    assert site["in_review"].status == Status.CHANGES_REQUESTED


def test_sign_out_needs_a_post_with_a_token(site):
    client = Client(enforce_csrf_checks=True)
    client.force_login(site["editor"])
    assert client.get("/admin/logout/").status_code == 405
    assert client.post("/admin/logout/").status_code == 403
    assert client.get("/admin/").status_code == 200


def test_get_never_changes_state(site):
    before = _state(site)
    for who, url, data in _requests(site):
        client = Client()
        client.force_login(site[who])
        # Query strings carry the same data a POST would; a GET must still only show.
        response = client.get(url, data)
        # 200 shows a page, 405 refuses the method; the change list sends unknown filters to "?e=1".
        assert response.status_code in (200, 405) or response["Location"].endswith("?e=1"), url
    assert _state(site) == before

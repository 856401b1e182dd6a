"""Who may open what, and who may do what: one table, walked whole for five kinds of user.

Answers: OK (200, or for an action the redirect that follows success, with the
state change checked), LOGIN (a redirect to the sign-in page), DENIED (403),
NOT_FOUND (404), IGNORED (the admin's bulk-action answer to someone without
the action: the list again with nothing done). Anything but OK must leave the
article's status as it was. "dual" is one person in both Editors and Reviewers; "admin" a superuser.
Both may do what either role may, except review words they wrote themselves (the last table).
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from articles.review import gate, workflow
from articles.models import Status, Topic
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

OK, LOGIN, DENIED, NOT_FOUND = "ok", "login", "403", "404"
# The admin's answer to an action the user does not have: the list again, "No action selected", nothing done.
IGNORED = "ignored"
# A refusal with its reason: the redirect back with the message, nothing done.
REFUSED = "refused"
ROLES = ["anonymous", "no_role", "editor", "reviewer", "admin", "dual"]


def everyone(answer):
    return dict.fromkeys(ROLES, answer)


def staff_only(editor, reviewer, admin=OK, dual=None):
    """Admin pages: the sign-in page for anyone not staff; someone in both groups may what either may."""
    if dual is None:
        dual = OK if OK in (editor, reviewer) else editor
    return {"anonymous": LOGIN, "no_role": LOGIN, "editor": editor, "reviewer": reviewer, "admin": admin,
            "dual": dual}


def reviewers_only():
    return {"anonymous": LOGIN, "no_role": DENIED, "editor": DENIED, "reviewer": OK, "admin": OK, "dual": OK}


# (name, method, url template, expected answers). {draft}, {in_review}, {approved}, {published} are article
# ids, {draft_slug} and {published_slug} their slugs, {section}, {claim}, {reference}, {topic} ids.
PAGES = [
    # Public pages.
    ("home", "get", "/", everyone(OK)),
    ("published article", "get", "/articles/{published_slug}/", everyone(OK)),
    ("draft article is not public", "get", "/articles/{draft_slug}/", everyone(NOT_FOUND)),
    ("in-review article is not public", "get", "/articles/{in_review_slug}/", everyone(NOT_FOUND)),
    ("approved article is not public", "get", "/articles/{approved_slug}/", everyone(NOT_FOUND)),
    ("no such article", "get", "/articles/no-such-article/", everyone(NOT_FOUND)),
    ("search", "get", "/search/?q=piece", everyone(OK)),
    ("topic page", "get", "/topics/sleep/", everyone(OK)),
    ("feed", "get", "/feed/", everyone(OK)),
    ("sitemap", "get", "/sitemap.xml", everyone(OK)),
    ("robots.txt", "get", "/robots.txt", everyone(OK)),
    # Staff preview of the working copy: a 404 (not a sign-in page) for anyone who may not work on articles.
    ("preview of a draft", "get", "/articles/{draft_slug}/preview/",
     {"anonymous": NOT_FOUND, "no_role": NOT_FOUND, "editor": OK, "reviewer": OK, "admin": OK, "dual": OK}),
    ("preview of a published article", "get", "/articles/{published_slug}/preview/",
     {"anonymous": NOT_FOUND, "no_role": NOT_FOUND, "editor": OK, "reviewer": OK, "admin": OK, "dual": OK}),
    # Review queue.
    ("review queue", "get", "/review/", reviewers_only()),
    ("review page", "get", "/review/{in_review}/", reviewers_only()),
    # Admin: index and lists.
    ("admin index", "get", "/admin/", staff_only(OK, OK)),
    ("article list", "get", "/admin/articles/article/", staff_only(OK, OK)),
    ("section list", "get", "/admin/articles/section/", staff_only(OK, OK)),
    ("claim list", "get", "/admin/articles/claim/", staff_only(OK, OK)),
    ("topic list", "get", "/admin/articles/topic/", staff_only(OK, OK)),
    ("reviewer profile list", "get", "/admin/articles/reviewerprofile/", staff_only(OK, OK)),
    # Each reviewer's credit: everyone on the desk may read it (only its reviewer or an admin may change it).
    ("reviewer profile change", "get", "/admin/articles/reviewerprofile/{profile}/change/", staff_only(OK, OK)),
    # A reviewer who has a credit already does not add another; editors add none.
    ("reviewer profile add", "get", "/admin/articles/reviewerprofile/add/", staff_only(DENIED, DENIED)),
    ("reviewer profile delete", "get", "/admin/articles/reviewerprofile/{profile}/delete/",
     staff_only(DENIED, DENIED)),
    ("reviewer credit history", "get", "/admin/articles/reviewercreditchange/", staff_only(DENIED, DENIED)),
    ("reference list", "get", "/admin/references/reference/", staff_only(OK, OK)),
    ("peer-review override log", "get", "/admin/references/peerreviewoverride/", staff_only(DENIED, DENIED)),
    ("user list", "get", "/admin/auth/user/", staff_only(DENIED, DENIED)),
    ("group list", "get", "/admin/auth/group/", staff_only(DENIED, DENIED)),
    ("sign-in attempts", "get", "/admin/axes/accessattempt/", staff_only(DENIED, DENIED)),
    # The background tasks' outcomes, read-only: for admins, who run the workers.
    # Each sees the tasks they started (psychly/admin.py).
    ("task results", "get", "/admin/django_tasks_database/dbtaskresult/", staff_only(OK, OK)),
    # Admin: add, change (read-only for reviewers), delete.
    ("article add", "get", "/admin/articles/article/add/", staff_only(OK, DENIED)),
    ("article change", "get", "/admin/articles/article/{draft}/change/", staff_only(OK, OK)),
    ("article history", "get", "/admin/articles/article/{draft}/history/", staff_only(OK, OK)),
    ("article delete", "get", "/admin/articles/article/{draft}/delete/", staff_only(DENIED, DENIED)),
    ("section change", "get", "/admin/articles/section/{section}/change/", staff_only(OK, OK)),
    ("section delete", "get", "/admin/articles/section/{section}/delete/", staff_only(OK, DENIED)),
    ("claim change", "get", "/admin/articles/claim/{claim}/change/", staff_only(OK, OK)),
    ("claim add (on the section page only)", "get", "/admin/articles/claim/add/",
     staff_only(DENIED, DENIED, DENIED)),
    ("reference add", "get", "/admin/references/reference/add/", staff_only(OK, DENIED)),
    ("reference change", "get", "/admin/references/reference/{reference}/change/", staff_only(OK, OK)),
    ("reference delete", "get", "/admin/references/reference/{reference}/delete/", staff_only(DENIED, DENIED)),
    ("topic add", "get", "/admin/articles/topic/add/", staff_only(OK, DENIED)),
    ("topic change", "get", "/admin/articles/topic/{topic}/change/", staff_only(OK, OK)),
    ("topic delete", "get", "/admin/articles/topic/{topic}/delete/", staff_only(DENIED, DENIED)),
    # Admin: custom views.
    ("article import", "get", "/admin/articles/article/import/", staff_only(OK, DENIED)),
    ("add many DOIs", "get", "/admin/references/reference/add-many/", staff_only(OK, DENIED)),
    ("reference import", "get", "/admin/references/reference/import/", staff_only(OK, DENIED)),
    # Editors may lower a status, reviewers also raise one (references.services.override_peer_review).
    ("peer-review override", "get", "/admin/references/reference/{reference}/override-peer-review/",
     staff_only(OK, OK)),
    ("verify a source", "get", "/admin/references/reference/{reference}/verify/", staff_only(DENIED, OK)),
    ("published revision", "get", "/admin/articles/article/{published}/revisions/1/", staff_only(OK, OK)),
    ("autocomplete of references", "get",
     "/admin/autocomplete/?term=study&app_label=articles&model_name=claim&field_name=references",
     staff_only(OK, OK)),
    # Admin: workflow confirmation pages (GET shows, never acts).
    ("submit confirm", "get", "/admin/articles/article/{draft}/workflow/submit/", staff_only(OK, DENIED)),
    ("withdraw confirm", "get", "/admin/articles/article/{in_review}/workflow/withdraw/", staff_only(OK, DENIED)),
    ("archive confirm", "get", "/admin/articles/article/{draft}/workflow/archive/", staff_only(OK, DENIED)),
    ("publish confirm", "get", "/admin/articles/article/{approved}/workflow/publish/", staff_only(OK, DENIED)),
    ("schedule confirm", "get", "/admin/articles/article/{approved}/workflow/schedule/", staff_only(OK, DENIED)),
    ("cancel schedule confirm", "get", "/admin/articles/article/{scheduled}/workflow/unschedule/",
     staff_only(OK, DENIED)),
    ("unpublish confirm", "get", "/admin/articles/article/{published}/workflow/unpublish/",
     staff_only(OK, DENIED)),
    ("unknown workflow verb", "get", "/admin/articles/article/{draft}/workflow/delete/",
     staff_only(NOT_FOUND, NOT_FOUND, NOT_FOUND)),
]

# (name, article key, url template, POST data, status afterwards when allowed, expected answers)
ACTIONS = [
    ("submit", "draft", "/admin/articles/article/{id}/workflow/submit/", {}, Status.IN_REVIEW,
     staff_only(OK, DENIED)),
    ("withdraw", "in_review", "/admin/articles/article/{id}/workflow/withdraw/", {"reason": "Not ready."},
     Status.DRAFT, staff_only(OK, DENIED)),
    ("archive", "draft", "/admin/articles/article/{id}/workflow/archive/", {}, Status.ARCHIVED,
     staff_only(OK, DENIED)),
    ("publish", "approved", "/admin/articles/article/{id}/workflow/publish/", {}, Status.PUBLISHED,
     staff_only(OK, DENIED)),
    ("schedule", "approved", "/admin/articles/article/{id}/workflow/schedule/", {"at": "{tomorrow}"},
     Status.APPROVED, staff_only(OK, DENIED)),
    ("cancel schedule", "scheduled", "/admin/articles/article/{id}/workflow/unschedule/",
     {"reason": "The embargo moved."}, Status.APPROVED, staff_only(OK, DENIED)),
    ("unpublish", "published", "/admin/articles/article/{id}/workflow/unpublish/", {"reason": "Outdated."},
     Status.UNPUBLISHED, staff_only(OK, DENIED)),
    ("archive a published article", "published", "/admin/articles/article/{id}/workflow/archive/", {},
     Status.ARCHIVED, staff_only(OK, DENIED)),
    ("request changes", "in_review", "/review/{id}/request-changes/", {"comment": "Cite the trial."},
     Status.CHANGES_REQUESTED, reviewers_only()),
    ("approve", "in_review", "/review/{id}/approve/", {"fingerprint": "{fingerprint}"}, Status.APPROVED,
     reviewers_only()),
    ("bulk submit from the article list", "draft", "/admin/articles/article/",
     {"action": "submit_selected", "_selected_action": "{id}"}, Status.IN_REVIEW, staff_only(OK, IGNORED)),
    ("bulk publish from the article list", "approved", "/admin/articles/article/",
     {"action": "publish_selected", "_selected_action": "{id}"}, Status.PUBLISHED, staff_only(OK, IGNORED)),
]


class Articles(dict):
    """One article per state, all written by the editor, made when a row first names the state."""

    def __init__(self, editor, reviewer, reference):
        super().__init__()
        self.editor, self.reviewer, self.reference = editor, reviewer, reference

    def __missing__(self, state):
        if state == "draft":
            article = make_supported_article(
                "Draft piece", author=self.editor, references=[self.reference, make_reference()]
            )
        else:
            article = make_supported_article(f"{state} piece", author=self.editor)
            workflow.submit(article, by=self.editor)
            if state != "in_review":
                workflow.approve(article, by=self.reviewer)
            if state == "published":
                workflow.publish(article, by=self.editor)
            if state == "scheduled":
                workflow.schedule(article, by=self.editor, at=timezone.now() + timedelta(days=2))
        self[state] = article
        return article


class Ids(dict):
    """The values URL templates name, looked up (and their articles made) on first use."""

    def __init__(self, articles, topic):
        super().__init__()
        self.articles, self.topic = articles, topic

    def __missing__(self, key):
        if key.endswith("_slug"):
            return self.articles[key.removesuffix("_slug")].slug
        if key == "section":
            return self.articles["draft"].sections.order_by("position").first().pk
        if key == "claim":
            return self.articles["draft"].sections.order_by("position").first().claims.first().pk
        if key == "reference":
            return self.articles.reference.pk
        if key == "topic":
            return self.topic.pk
        if key == "profile":
            return self.articles.reviewer.reviewer_profile.pk
        return self.articles[key].pk


@pytest.fixture
def world(db):
    """Users of every role; articles in each state are made as rows ask for them."""
    editor = make_editor("edna")
    reviewer = make_reviewer("rita")
    users = {
        "anonymous": None,
        "no_role": User.objects.create_user("nora", "nora@example.org"),
        "editor": editor,
        "reviewer": reviewer,
        "admin": make_user("ada", superuser=True, credentials="MD, medical director"),
        "dual": make_user("dana", "Editors", "Reviewers", credentials="PhD, clinical psychologist"),
    }
    articles = Articles(editor, reviewer, make_reference(title="A study of sleep"))
    ids = Ids(articles, Topic.objects.create(name="Sleep", slug="sleep"))
    return {"users": users, "articles": articles, "ids": ids}


def _client_for(client, world, role):
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


def _answer(response):
    if response.status_code == 302 and "/login/" in response["Location"]:
        return LOGIN
    if response.status_code in (200, 302):
        return OK
    return str(response.status_code)


def _cases(table, width):
    return [
        pytest.param(*row[:width], row[width][role], role, id=f"{row[0]}-{role}")
        for row in table for role in ROLES
    ]


@pytest.mark.parametrize("name, method, template, expected, role", _cases(PAGES, 3))
def test_page(client, world, name, method, template, expected, role):
    response = getattr(_client_for(client, world, role), method)(template.format_map(world["ids"]))
    assert _answer(response) == expected, f"{role} on {name}: {response.status_code} {response.get('Location', '')}"


@pytest.mark.parametrize("name, key, template, data, allowed_status, expected, role", _cases(ACTIONS, 5))
def test_action(client, world, name, key, template, data, allowed_status, expected, role):
    article = world["articles"][key]
    before, scheduled_before = article.status, article.scheduled_at
    values = {
        "id": article.pk,
        "tomorrow": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
        "fingerprint": gate.content_fingerprint(article),
    }
    payload = {field: value.format(**values) for field, value in data.items()}
    response = _client_for(client, world, role).post(template.format(id=article.pk), payload)
    answer = _answer(response)
    article.refresh_from_db()
    if answer == OK and (article.status, article.scheduled_at) == (before, scheduled_before):
        answer = IGNORED  # nothing changed: what the admin does for an action the user lacks
    assert answer == expected, f"{role} on {name}: {response.status_code} {response.get('Location', '')}"
    if expected == OK:
        assert article.status == allowed_status
        if name == "schedule":
            assert article.scheduled_at is not None
        if name == "cancel schedule":
            assert article.scheduled_at is None
    else:
        assert article.status == before
        assert article.scheduled_at == scheduled_before


def test_the_matrix_covers_every_role_for_every_row():
    for name, *_, expected in PAGES + ACTIONS:
        assert set(expected) == set(ROLES), name
    assert len(PAGES) * len(ROLES) + len(ACTIONS) * len(ROLES) >= 250


# Recording that a source entered by hand is genuine: reviewers (and administrators) only, never its enterer.
VERIFY_ACTION = staff_only(DENIED, OK)


@pytest.mark.parametrize("role", ROLES)
def test_verifying_a_source_entered_by_hand(client, world, role):
    from references import services
    from references.models import MetadataSource, Reference

    reference = services.save_reference(
        Reference(url="https://example.org/typed", title="Typed in", metadata_source=MetadataSource.MANUAL),
        by=world["users"]["editor"],
    )
    response = _client_for(client, world, role).post(
        f"/admin/references/reference/{reference.pk}/verify/", {"decision": "verify", "reason": "Checked it."}
    )
    answer = _answer(response)
    reference.refresh_from_db()
    assert answer == VERIFY_ACTION[role], f"{role}: {response.status_code}"
    assert (reference.verified_by_id is not None) == (VERIFY_ACTION[role] == OK)
    if VERIFY_ACTION[role] == OK:
        assert reference.verified_by == world["users"][role]
    assert reference.verifications.exists() == (VERIFY_ACTION[role] == OK)


# -- changing a reviewer's credit ------------------------------------------------------------------------

@pytest.mark.parametrize("role, expected", [
    ("anonymous", LOGIN), ("no_role", LOGIN), ("editor", DENIED), ("reviewer", OK), ("admin", OK), ("dual", DENIED),
])
def test_changing_a_reviewers_credit(client, world, role, expected):
    """Only the reviewer it credits (rita) or an administrator changes it; an editor-reviewer may not."""
    profile = world["articles"].reviewer.reviewer_profile
    url = f"/admin/articles/reviewerprofile/{profile.pk}/change/"
    response = _client_for(client, world, role).post(url, {"display_name": "Rita", "credentials": f"By {role}"})
    assert _answer(response) == expected, f"{role}: {response.status_code}"
    profile.refresh_from_db()
    assert (profile.credentials == f"By {role}") == (expected == OK)


# -- one person writing and approving ----------------------------------------------------------------------

WRITERS = ["dual", "admin"]

# (name, how the writer's article stands, url template, POST data, status afterwards when allowed, answer)
# The writer wrote the article in the admin, naming the editor as its only author.
SELF_WRITTEN = [
    ("submit what one wrote", "written", "/admin/articles/article/{id}/workflow/submit/", {}, Status.IN_REVIEW, OK),
    ("approve what one wrote", "in_review", "/review/{id}/approve/", {"fingerprint": "{fingerprint}"},
     Status.APPROVED, REFUSED),
    ("request changes on what one wrote", "in_review", "/review/{id}/request-changes/",
     {"comment": "Fine by me."}, Status.CHANGES_REQUESTED, REFUSED),
    ("publish what another reviewer approved", "approved_by_other", "/admin/articles/article/{id}/workflow/publish/",
     {}, Status.PUBLISHED, OK),
    ("schedule what another reviewer approved", "approved_by_other",
     "/admin/articles/article/{id}/workflow/schedule/", {"at": "{tomorrow}"}, Status.APPROVED, OK),
    ("publish what one wrote and approved", "approved_by_writer", "/admin/articles/article/{id}/workflow/publish/",
     {}, Status.PUBLISHED, REFUSED),
    ("schedule what one wrote and approved", "approved_by_writer",
     "/admin/articles/article/{id}/workflow/schedule/", {"at": "{tomorrow}"}, Status.APPROVED, REFUSED),
    ("bulk publish what one wrote and approved", "approved_by_writer", "/admin/articles/article/",
     {"action": "publish_selected", "_selected_action": "{id}"}, Status.PUBLISHED, REFUSED),
]


def _written_by(client, world, writer, state):
    """An article ``writer`` wrote through the admin's add page, brought to ``state``."""
    from articles.models import Article

    reference = world["articles"].reference
    client.force_login(writer)
    response = client.post("/admin/articles/article/add/", {
        "title": "Written by one person", "slug": "written-by-one-person", "summary": "A summary.",
        "byline": "Edna, MA", "disclosure": "", "review_interval_months": "12",
        "authors": [world["users"]["editor"].pk],
        "sections-TOTAL_FORMS": "1", "sections-INITIAL_FORMS": "0", "sections-MIN_NUM_FORMS": "0",
        "sections-MAX_NUM_FORMS": "1000", "sections-0-heading": "Sleep", "sections-0-position": "",
        "sections-0-paste_text": f"Sleep matters [doi:{reference.doi}].",
    })
    assert response.status_code == 302
    article = Article.objects.get(slug="written-by-one-person")
    assert list(article.authors.all()) == [world["users"]["editor"]]
    if state != "written":
        workflow.submit(article, by=writer)
    if state == "approved_by_other":
        workflow.approve(article, by=world["users"]["reviewer"])
    if state == "approved_by_writer":
        # An approval on record by the writer (given before edits were attributed): the gate still refuses it.
        Article.objects.filter(pk=article.pk).update(
            status=Status.APPROVED, approved_fingerprint=gate.content_fingerprint(article), approved_by=writer,
            approved_at=timezone.now(), approved_credit_name=writer.username, approved_credit_credentials="MD",
        )
    return Article.objects.get(pk=article.pk)


@pytest.mark.parametrize("name, state, template, data, allowed_status, expected", SELF_WRITTEN,
                         ids=[row[0] for row in SELF_WRITTEN])
@pytest.mark.parametrize("role", WRITERS)
def test_one_person_writing_and_approving(client, world, role, name, state, template, data, allowed_status,
                                          expected):
    writer = world["users"][role]
    article = _written_by(client, world, writer, state)
    before, scheduled_before = article.status, article.scheduled_at
    values = {
        "id": article.pk, "fingerprint": gate.content_fingerprint(article),
        "tomorrow": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M"),
    }
    payload = {field: value.format(**values) for field, value in data.items()}
    response = client.post(template.format(id=article.pk), payload, follow=True)
    article.refresh_from_db()
    changed = (article.status, article.scheduled_at) != (before, scheduled_before)
    answer = OK if response.status_code == 200 and changed else REFUSED if response.status_code == 200 else str(
        response.status_code)
    assert answer == expected, f"{role} on {name}: {response.status_code}"
    if expected == OK:
        assert article.status == allowed_status
    else:
        page = response.content.decode()
        assert "count as one of its authors" in page or "changed its content since the previous approval" in page, (
            f"{role} on {name}: the refusal gives no reason")

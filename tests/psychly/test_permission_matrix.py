"""Who may open what, and who may do what: one table, walked whole for five kinds of user.

Answers: OK (200, or for an action the redirect that follows success, with the
state change checked), LOGIN (a redirect to the sign-in page), DENIED (403),
NOT_FOUND (404), IGNORED (the admin's bulk-action answer to someone without
the action: the list again with nothing done). Anything but OK must leave the
article's status as it was.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from articles import gate, workflow
from articles.models import Status, Topic
from tests.factories import make_editor, make_reference, make_reviewer, make_supported_article, make_user

OK, LOGIN, DENIED, NOT_FOUND = "ok", "login", "403", "404"
# The admin's answer to an action the user does not have: the list again, "No action selected", nothing done.
IGNORED = "ignored"
ROLES = ["anonymous", "no_role", "editor", "reviewer", "admin"]


def everyone(answer):
    return dict.fromkeys(ROLES, answer)


def staff_only(editor, reviewer, admin=OK):
    """Admin pages: the sign-in page for anyone not staff."""
    return {"anonymous": LOGIN, "no_role": LOGIN, "editor": editor, "reviewer": reviewer, "admin": admin}


def reviewers_only():
    return {"anonymous": LOGIN, "no_role": DENIED, "editor": DENIED, "reviewer": OK, "admin": OK}


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
     {"anonymous": NOT_FOUND, "no_role": NOT_FOUND, "editor": OK, "reviewer": OK, "admin": OK}),
    ("preview of a published article", "get", "/articles/{published_slug}/preview/",
     {"anonymous": NOT_FOUND, "no_role": NOT_FOUND, "editor": OK, "reviewer": OK, "admin": OK}),
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
    ("reference list", "get", "/admin/references/reference/", staff_only(OK, OK)),
    ("peer-review override log", "get", "/admin/references/peerreviewoverride/", staff_only(DENIED, DENIED)),
    ("user list", "get", "/admin/auth/user/", staff_only(DENIED, DENIED)),
    ("group list", "get", "/admin/auth/group/", staff_only(DENIED, DENIED)),
    ("sign-in attempts", "get", "/admin/axes/accessattempt/", staff_only(DENIED, DENIED)),
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
    ("peer-review override", "get", "/admin/references/reference/{reference}/override-peer-review/",
     staff_only(OK, DENIED)),
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
        "admin": make_user("ada", superuser=True),
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

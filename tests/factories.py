"""Small factory functions shared by the test suite.

Claims for make_article are given per section heading, each as a string (a claim
citing nothing) or a dict: {"text": ..., "refs": [Reference, ...], "context": bool,
"locator": "p. 3"}.
"""

import importlib
import itertools

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone
from django.utils.text import slugify

from articles.models import Article, Citation, Claim, ReviewerProfile, Section
from references.models import MetadataSource, PeerReviewStatus, Reference, RetractionStatus

_sequence = itertools.count(1)

# The data migrations that make the editorial groups, in order, with the app their bare codenames belong to.
GROUP_MIGRATIONS = [
    ("articles.migrations.0002_editorial_groups", "articles"),
    ("articles.migrations.0004_workflow_group_permissions", "articles"),
    ("references.migrations.0004_verify_reference_permission", "references"),
    ("references.migrations.0008_pubmed_watermark_task_permissions", "references"),
]


def ensure_editorial_groups():
    """The Editors and Reviewers groups as the migrations make them.

    A transactional test (without serialized_rollback) flushes the database, groups included; tests that
    run after one still need the groups, whatever ran first.
    """
    for label in ("articles", "references", "django_tasks_database"):
        create_permissions(apps.get_app_config(label), verbosity=0)
    for module_name, default_app in GROUP_MIGRATIONS:
        for group_name, entries in importlib.import_module(module_name).GROUP_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=group_name)
            for entry in entries:
                app_label, codename = entry if isinstance(entry, tuple) else (default_app, entry)
                group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def make_user(username=None, *groups, superuser=False, email=None, credentials=None, password=None, **fields):
    """A staff user (so the admin login works) in the named groups; ``credentials`` adds a reviewer profile.

    No password unless given (hashing is slow; tests log in with ``client.force_login``).
    """
    username = username or f"user{next(_sequence)}"
    fields.setdefault("first_name", username.capitalize())
    if superuser:
        user = User.objects.create_superuser(username, email or f"{username}@example.org", password, **fields)
    else:
        user = User.objects.create_user(
            username, email if email is not None else f"{username}@example.org", password,
            is_staff=True, **fields,
        )
    if groups and Group.objects.filter(name__in=groups).count() < len(set(groups)):
        ensure_editorial_groups()
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    if credentials:
        ReviewerProfile.objects.create(user=user, display_name=user.get_full_name() or username,
                                       credentials=credentials)
    return user


def make_editor(username=None, **fields):
    return make_user(username, "Editors", **fields)


def make_reviewer(username=None, *, credentials="MD, psychiatrist", **fields):
    return make_user(username, "Reviewers", credentials=credentials, **fields)


def make_reference(doi=None, *, peer_review=PeerReviewStatus.PEER_REVIEWED, retraction=RetractionStatus.NONE,
                   **fields):
    """A reference that supports claims unless told otherwise (its record as if fetched from Crossref)."""
    number = next(_sequence)
    fields.setdefault("metadata_source", MetadataSource.CROSSREF)
    fields.setdefault("title", f"A study of things {number}")
    fields.setdefault("authors", [{"family": "Reyes", "given": "Dana"}])
    fields.setdefault("year", 2020)
    fields.setdefault("container_title", "Journal of Studies")
    if doi is None and not fields.get("url"):
        doi = f"10.1000/test.{number}"
    return Reference.objects.create(doi=doi, peer_review_status=peer_review, retraction_status=retraction, **fields)


def _claim_spec(spec):
    if isinstance(spec, str):
        return {"text": spec, "refs": [], "context": False, "locator": ""}
    return {"refs": [], "context": False, "locator": "", **spec}


def make_article(title=None, *, sections=None, authors=(), status=None, **fields):
    """An article with the given sections ({heading: [claim spec, ...]}); ``status`` is forced for arranging tests."""
    title = title or f"Article {next(_sequence)}"
    fields.setdefault("slug", slugify(title))
    article = Article.objects.create(title=title, **fields)
    article.authors.set(authors)
    citations = []
    for s_position, (heading, claims) in enumerate((sections or {}).items()):
        section = Section.objects.create(article=article, position=s_position, heading=heading)
        for c_position, spec in enumerate(claims):
            spec = _claim_spec(spec)
            claim = Claim.objects.create(section=section, position=c_position, text=spec["text"],
                                         is_context=spec["context"])
            citations += [
                Citation(claim=claim, reference=ref, position=r_position, locator=spec["locator"])
                for r_position, ref in enumerate(spec["refs"])
            ]
    Citation.objects.bulk_create(citations)
    if status is not None:
        # Arranging a state for a test; real code moves status only through articles.review.workflow.
        published_at = timezone.now() if status == "published" else None
        Article.objects.filter(pk=article.pk).update(status=status, published_at=published_at)
        article.status, article.published_at = status, published_at
    return article


def make_supported_article(title=None, *, author=None, references=None, **fields):
    """An article every gate rule passes except approval: byline, summary, every claim supported, one context."""
    author = author or make_editor()
    refs = references or [make_reference(), make_reference()]
    fields.setdefault("byline", "Dana Reyes, PhD, clinical psychologist")
    fields.setdefault("summary", "What the research says, in two sentences.")
    sections = fields.pop("sections", None) or {
        "What it is": [
            {"text": "Ketamine blocks NMDA receptors.", "refs": [refs[0]], "locator": "p. 2"},
            {"text": "Talk to your doctor before changing any treatment.", "context": True},
        ],
        "What the trials found": [
            {"text": "A single infusion reduced depressive symptoms within a day.", "refs": refs},
        ],
    }
    return make_article(title, sections=sections, authors=[author], **fields)


def assert_refused_by_database(create):
    """Run ``create`` and expect the database to refuse it, leaving the test's transaction usable."""
    import pytest
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        create()

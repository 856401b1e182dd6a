"""The review queue stays a handful of queries, and quick, with 10,000 articles waiting."""

import datetime
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Citation, Claim, Section, Status
from tests.factories import make_editor, make_reference, make_reviewer

pytestmark = pytest.mark.django_db

ARTICLES = 10_000


def bulk_queue(editor, count):
    """``count`` articles in review, oldest first, each with one cited and one uncited claim."""
    start = timezone.now() - datetime.timedelta(days=30)
    articles = Article.objects.bulk_create(
        Article(title=f"Queued {n}", slug=f"queued-{n}", summary="S", byline="B", status=Status.IN_REVIEW,
                review_requested_at=start + datetime.timedelta(minutes=n))
        for n in range(count)
    )
    Article.authors.through.objects.bulk_create(
        Article.authors.through(article_id=a.pk, user_id=editor.pk) for a in articles
    )
    sections = Section.objects.bulk_create(Section(article=a, heading="Findings") for a in articles)
    claims = Claim.objects.bulk_create(
        Claim(section=s, position=p, text=f"Claim {p}.") for s in sections for p in range(2)
    )
    reference = make_reference()
    Citation.objects.bulk_create(Citation(claim=c, reference=reference) for c in claims[::2])
    return articles


def test_the_queue_of_ten_thousand_is_paginated_in_at_most_ten_queries(client, django_assert_max_num_queries):
    editor = make_editor()
    bulk_queue(editor, ARTICLES)
    client.force_login(make_reviewer())
    started = time.perf_counter()
    # session, user, two permission lookups, count, page, authors.
    with django_assert_max_num_queries(10):
        response = client.get(reverse("review:queue"), {"page": 2})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.count == ARTICLES
    rows = list(page.object_list)
    assert len(rows) == 25
    assert [a.title for a in rows] == [f"Queued {n}" for n in range(25, 50)]  # longest waiting first
    assert {(a.claim_count, a.unsupported_claim_count) for a in rows} == {(2, 1)}
    assert [u.pk for u in rows[0].authors.all()] == [editor.pk]
    # Generous for slow CI machines; the point is that nothing grows with the queue.
    assert elapsed < 5, f"the queue page took {elapsed:.2f}s"


def test_the_last_page_is_as_cheap_as_the_first(client, django_assert_max_num_queries):
    bulk_queue(make_editor(), ARTICLES)
    client.force_login(make_reviewer())
    started = time.perf_counter()
    with django_assert_max_num_queries(10):
        response = client.get(reverse("review:queue"), {"page": ARTICLES // 25})
    elapsed = time.perf_counter() - started
    # Counting subqueries run for the page's rows only, not for every row OFFSET skips.
    assert elapsed < 5, f"the last queue page took {elapsed:.2f}s"
    assert [a.title for a in response.context["page"].object_list][-1] == f"Queued {ARTICLES - 1}"

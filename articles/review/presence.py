"""Who else is looking: reviewers with an article's review page open, so two do not read the same one unknowingly.

A review page records its viewer on each load and every ``HEARTBEAT_SECONDS`` from static/js/review.js while it
stays open; a record older than ``EXPIRES_AFTER`` means they left. Nothing here decides anything: it only tells.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from articles.models import ReviewPresence

HEARTBEAT_SECONDS = 60
EXPIRES_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Looker:
    """Someone else with the page open, and when their page last said so."""

    name: str
    last_seen: object

    @property
    def minutes_ago(self):
        return max(int((timezone.now() - self.last_seen).total_seconds() // 60), 0)


def touch(article, user, *, now=None):
    """Record that ``user`` has ``article``'s review page open now (one row per reviewer and article)."""
    # One statement whether the row exists or not: the page view pays one query for it.
    ReviewPresence.objects.bulk_create(
        [ReviewPresence(article=article, reviewer=user, last_seen=now or timezone.now())],
        update_conflicts=True, unique_fields=["article", "reviewer"], update_fields=["last_seen"],
    )


def looking(article_ids, *, exclude=None, now=None):
    """{article id: [Looker, ...]} of the reviewers seen in the last EXPIRES_AFTER, newest first (one query)."""
    since = (now or timezone.now()) - EXPIRES_AFTER
    rows = (
        ReviewPresence.objects.filter(article_id__in=list(article_ids), last_seen__gte=since)
        .select_related("reviewer").order_by("-last_seen")
    )
    if exclude is not None:
        rows = rows.exclude(reviewer=exclude)
    result = {}
    for row in rows:
        name = row.reviewer.get_full_name() or row.reviewer.get_username()
        result.setdefault(row.article_id, []).append(Looker(name=name, last_seen=row.last_seen))
    return result

"""A reviewer's public credit ("Medically reviewed by NAME, CREDENTIALS"): who may change it, and its history.

Only the reviewer themselves or an administrator (a superuser, or a user with
``articles.change_any_reviewer_credit``) changes a credit, and every change is
kept as a ``ReviewerCreditChange`` (who, when, before, after). Articles freeze
the credit when they are approved (articles.review.workflow.approve), so a change here
never alters a page already approved or live.
"""

from django.db import transaction
from django.utils import timezone

from articles.models import ReviewerCreditChange, ReviewerProfile

ADMIN_PERMISSION = "articles.change_any_reviewer_credit"


class CreditError(Exception):
    """A refused change; the message is meant for the person who tried."""


def may_change_credit(user, reviewer):
    """Whether ``user`` may set the public credit of ``reviewer`` (a user)."""
    if user is None or not user.is_active or reviewer is None:
        return False
    return user.pk == reviewer.pk or user.is_superuser or user.has_perm(ADMIN_PERMISSION)


def _name(user):
    return user.get_full_name() or user.get_username()


@transaction.atomic
def set_reviewer_credit(*, reviewer, display_name, credentials, by):
    """Create or change ``reviewer``'s credit as ``by``; returns the profile. Nothing is saved if refused."""
    if not may_change_credit(by, reviewer):
        raise CreditError(
            f"Only {_name(reviewer)} or an administrator may change {_name(reviewer)}'s public name and credentials."
        )
    display_name = " ".join((display_name or "").split())
    credentials = " ".join((credentials or "").split())
    missing = [label for label, value in (("public name", display_name), ("credentials", credentials)) if not value]
    if missing:
        raise CreditError(f"The {' and '.join(missing)} cannot be empty: readers see them beside every approval.")
    profile = ReviewerProfile.objects.select_for_update().filter(user=reviewer).first()
    old = (profile.display_name, profile.credentials) if profile else ("", "")
    if old == (display_name, credentials):
        return profile
    if profile is None:
        profile = ReviewerProfile(user=reviewer)
    profile.display_name, profile.credentials = display_name, credentials
    profile.save()
    ReviewerCreditChange.objects.create(
        reviewer=reviewer, reviewer_name=_name(reviewer), changed_by=by, changed_by_name=_name(by),
        at=timezone.now(), old_display_name=old[0], old_credentials=old[1],
        new_display_name=display_name, new_credentials=credentials,
    )
    return profile

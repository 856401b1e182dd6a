"""articles/migrations/0008: approvals given before credits were frozen take the approver's current credit."""

import importlib

import pytest
from django.apps import apps

from articles.models import Article
from tests.factories import make_reviewer, make_supported_article, make_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("articles.migrations.0008_attribution_credit_flags")


def test_existing_approvals_get_the_approvers_credit_and_others_are_left_alone():
    reviewer = make_reviewer("rita", first_name="Rita", last_name="Okafor")
    approved = make_supported_article("Approved before the upgrade")
    uncredited = make_supported_article("Approved by someone without a profile")
    never = make_supported_article("Never approved")
    Article.objects.filter(pk=approved.pk).update(approved_by=reviewer)
    Article.objects.filter(pk=uncredited.pk).update(approved_by=make_user("nocred"))

    migration.freeze_current_credits(apps, None)

    rows = dict(Article.objects.values_list("pk", "approved_credit_name"))
    assert rows[approved.pk] == "Rita Okafor"
    assert Article.objects.get(pk=approved.pk).approved_credit_credentials == "MD, psychiatrist"
    assert rows[uncredited.pk] == "" and rows[never.pk] == ""

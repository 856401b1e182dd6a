"""references/migrations/0008: PubMed's watermark carried over, and the groups' new permissions."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from references import watch
from references.models import RetractionSweep, SweepStatus

pytestmark = pytest.mark.django_db

migration = importlib.import_module("references.migrations.0008_pubmed_watermark_task_permissions")


def test_sweeps_completed_before_are_pubmeds_watermark_and_both_groups_get_the_permissions():
    now = timezone.now()
    done = RetractionSweep.objects.create(from_date=now.date(), started_at=now - datetime.timedelta(days=2),
                                          heartbeat_at=now, status=SweepStatus.COMPLETED)
    failed = RetractionSweep.objects.create(from_date=now.date(), started_at=now - datetime.timedelta(days=1),
                                            heartbeat_at=now, status=SweepStatus.FAILED)
    for group in Group.objects.filter(name__in=["Editors", "Reviewers"]):
        group.permissions.remove(*Permission.objects.filter(codename__in=["check_references", "view_dbtaskresult"]))

    migration.grant(apps, None)

    # Before PubMed had its own watermark a sweep completed only with its PubMed part: the old rows say so.
    assert watch.pubmed_watermark() == done
    failed.refresh_from_db()
    assert not failed.pubmed_done
    for name in ("Editors", "Reviewers"):
        codenames = set(Group.objects.get(name=name).permissions.values_list(
            "content_type__app_label", "codename"))
        assert {("references", "check_references"), ("django_tasks_database", "view_dbtaskresult")} <= codenames

    migration.revoke(apps, None)
    assert not Group.objects.get(name="Editors").permissions.filter(codename="view_dbtaskresult").exists()

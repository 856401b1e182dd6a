"""PubMed's own watermark on the retraction sweep; editors and reviewers may start reference checks and see
the outcome of background tasks (django-tasks-db's results in the admin)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# (app label, codename); django_tasks_database is django-tasks-db's label for its DBTaskResult.
GROUP_PERMISSIONS = {
    "Editors": [("references", "check_references"), ("django_tasks_database", "view_dbtaskresult")],
    "Reviewers": [("references", "check_references"), ("django_tasks_database", "view_dbtaskresult")],
}


def _permissions(apps, entries):
    Permission = apps.get_model("auth", "Permission")
    return [Permission.objects.get(content_type__app_label=label, codename=codename) for label, codename in entries]


def grant(apps, schema_editor):
    for label in ("references", "django_tasks_database"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True  # the migration state's stub lacks it
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    for group_name, entries in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*_permissions(apps, entries))
    # Before this migration a sweep completed only when PubMed's part had: those are PubMed's watermark too.
    apps.get_model("references", "RetractionSweep").objects.filter(status="completed").update(pubmed_done=True)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group_name, entries in GROUP_PERMISSIONS.items():
        for group in Group.objects.filter(name=group_name):
            group.permissions.remove(*_permissions(apps, entries))


class Migration(migrations.Migration):

    dependencies = [
        ('references', '0007_refresh_attempted_at'),
        ('django_tasks_database', '0021_conditional_partial_index_ordering'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='reference',
            options={'ordering': ['title', 'id'], 'permissions': [('override_peer_review', "Can override a reference's peer-review status, with a reason"), ('verify_reference', 'Can verify a reference entered by hand, with a reason'), ('check_references', 'Can start a retraction sweep or a refresh of the oldest sources')]},
        ),
        migrations.AddField(
            model_name='retractionsweep',
            name='pubmed_done',
            field=models.BooleanField(default=False, help_text="PubMed's part of this sweep completed."),
        ),
        migrations.AddField(
            model_name='retractionsweep',
            name='pubmed_error',
            field=models.TextField(blank=True, help_text="Why PubMed's part failed; it is asked again next run."),
        ),
        migrations.AddField(
            model_name='retractionsweep',
            name='pubmed_from_date',
            field=models.DateField(blank=True, help_text="The modification date PubMed's search asked from.", null=True),
        ),
        migrations.RunPython(grant, revoke),
    ]

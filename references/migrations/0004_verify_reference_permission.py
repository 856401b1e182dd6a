"""Reviewers may verify a reference entered by hand (references.services.verify_reference), never their own."""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP_PERMISSIONS = {"Reviewers": ["verify_reference"]}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("references")
    app_config.models_module = True  # the migration state's stub lacks it
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="references", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GROUP_PERMISSIONS.items():
        for group in Group.objects.filter(name=group_name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="references", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("references", "0003_trust_verification_pubmed_evidence"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="reference",
            options={
                "ordering": ["title", "id"],
                "permissions": [
                    ("override_peer_review", "Can override a reference's peer-review status, with a reason"),
                    ("verify_reference", "Can verify a reference entered by hand, with a reason"),
                ],
            },
        ),
        migrations.AddConstraint(
            model_name="reference",
            constraint=models.CheckConstraint(
                condition=models.Q(verified_by__isnull=True) | models.Q(entered_by__isnull=True)
                | ~models.Q(verified_by=models.F("entered_by")),
                name="reference_verifier_did_not_enter_it",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]

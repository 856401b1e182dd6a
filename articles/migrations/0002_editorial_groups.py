"""Create the Editors and Reviewers groups with least-privilege permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# codename lists per group; the admin group needs none (superusers have all).
GROUP_PERMISSIONS = {
    "Editors": [
        ("articles", "add_article"), ("articles", "change_article"), ("articles", "view_article"),
        ("articles", "publish_article"),
        ("articles", "add_section"), ("articles", "change_section"), ("articles", "delete_section"),
        ("articles", "view_section"),
        ("articles", "add_claim"), ("articles", "change_claim"), ("articles", "delete_claim"),
        ("articles", "view_claim"),
        ("articles", "add_citation"), ("articles", "change_citation"), ("articles", "delete_citation"),
        ("articles", "view_citation"),
        ("articles", "add_topic"), ("articles", "view_topic"),
        ("references", "add_reference"), ("references", "change_reference"), ("references", "view_reference"),
        ("references", "override_peer_review"),
    ],
    "Reviewers": [
        ("articles", "view_article"), ("articles", "review_article"),
        ("articles", "view_section"), ("articles", "view_claim"), ("articles", "view_citation"),
        ("articles", "view_topic"),
        ("references", "view_reference"),
    ],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now.
    for app_label in ("articles", "references"):
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True  # the migration state's stub lacks it
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in codenames
        ]
        group.permissions.add(*permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUP_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        ("references", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]

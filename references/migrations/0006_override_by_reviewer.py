"""An override raising a source to peer-reviewed counts only when a reviewer who did not enter it made it;
everyone who typed a reference's details (not only the last) is remembered, so none of them verifies it.

Existing overrides start as not a reviewer's: an editor's upgrade stops counting until a reviewer records it.
"""

from django.db import migrations, models


def remember_who_entered(apps, schema_editor):
    Reference = apps.get_model("references", "Reference")
    for reference in Reference.objects.exclude(entered_by=None).only("pk", "entered_by"):
        Reference.objects.filter(pk=reference.pk).update(typed_by=[reference.entered_by_id])


class Migration(migrations.Migration):
    dependencies = [
        ("references", "0005_retraction_sweep"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="typed_by",
            field=models.JSONField(blank=True, default=list,
                                   help_text="Ids of the users who typed or edited its details."),
        ),
        migrations.RunPython(remember_who_entered, migrations.RunPython.noop),
        migrations.AddField(
            model_name="reference",
            name="peer_review_override_by_reviewer",
            field=models.BooleanField(default=False),
        ),
        migrations.AddConstraint(
            model_name="reference",
            constraint=models.CheckConstraint(
                condition=models.Q(peer_review_override_by_reviewer=False) | (
                    models.Q(peer_review_override_by__isnull=False) & (
                        models.Q(entered_by__isnull=True)
                        | ~models.Q(peer_review_override_by=models.F("entered_by"))
                    )
                ),
                name="reference_reviewer_override_not_by_enterer",
            ),
        ),
    ]

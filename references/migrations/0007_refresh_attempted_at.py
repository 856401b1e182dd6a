from django.db import migrations, models


class Migration(migrations.Migration):
    # After the other 0006 of this app, so the migration graph keeps a single leaf.
    dependencies = [
        ("references", "0006_override_by_reviewer"),
    ]

    operations = [
        migrations.AddField(
            model_name="reference",
            name="refresh_attempted_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]

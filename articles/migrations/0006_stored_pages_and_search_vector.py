import django.contrib.postgres.search
import django.db.models.deletion
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models

# PostgreSQL only: full-text search reads the stored vector through this GIN index (SQLite searches the text).
INDEX = "articles_revision_search_vector_gin"


def fill_search_vectors(apps, schema_editor):
    """Give the revisions published so far the vector new ones get when frozen (articles.search)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    ArticleRevision = apps.get_model("articles", "ArticleRevision")
    ArticleRevision.objects.update(
        search_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("body_text", weight="C", config="english")
    )


def create_postgres_storage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON articles_articlerevision USING gin (search_vector)"
        )
        # The page is stored compressed already: PostgreSQL need not try again on every write.
        schema_editor.execute("ALTER TABLE articles_articlepage ALTER COLUMN html SET STORAGE EXTERNAL")


def drop_postgres_storage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('articles', '0005_revision_frozen_page_fields'),
    ]

    operations = [
        migrations.CreateModel(
            name='ArticlePage',
            fields=[
                ('article', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='public_page', serialize=False, to='articles.article')),
                ('html', models.BinaryField()),
                ('sources', models.TextField(default='[]')),
                ('site', models.CharField(default='', max_length=500)),
                ('rendered_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.AddField(
            model_name='articlerevision',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(fill_search_vectors, migrations.RunPython.noop),
        migrations.RunPython(create_postgres_storage, drop_postgres_storage),
    ]

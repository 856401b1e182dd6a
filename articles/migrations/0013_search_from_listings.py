import django.contrib.postgres.search
from django.contrib.postgres.search import SearchVector
from django.db import migrations

# PostgreSQL only. Search reads the listings: each live article's search vector, GIN-indexed, and a small
# vector of its title and summary to rank by.
INDEX = "articles_listing_search_vector_gin"
# The articles whose listed vector matches a query, read through that index. The planner prices a match at
# a fraction of its cost, since it reads each vector out of its TOAST table, so on a few hundred articles it
# would scan and unpack every one; the function leaves it the index alone, whose cost follows the matches.
MATCHING = "articles_listings_matching"
CREATE_MATCHING = f"""
CREATE OR REPLACE FUNCTION {MATCHING}(query tsquery) RETURNS SETOF bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE ROWS 100
SET enable_seqscan = off SET enable_indexscan = off
AS $$
BEGIN
    RETURN QUERY SELECT article_id FROM articles_articlelisting WHERE search_vector @@ query;
END
$$
"""


def fill_search_columns(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX} ON articles_articlelisting USING gin (search_vector)")
    schema_editor.execute(CREATE_MATCHING)
    ArticleRevision = apps.get_model("articles", "ArticleRevision")
    ArticleRevision.objects.filter(search_vector__isnull=False).update(
        rank_vector=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
    )
    schema_editor.execute(
        "UPDATE articles_articlelisting AS listing SET search_vector = revision.search_vector, "
        "rank_vector = revision.rank_vector FROM articles_article AS article JOIN articles_articlerevision AS "
        "revision ON revision.id = article.published_revision_id WHERE article.id = listing.article_id"
    )


def drop_search_columns(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {MATCHING}(tsquery)")
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0012_article_listings"),
    ]

    operations = [
        migrations.AddField(
            model_name="articlerevision",
            name="rank_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="articlelisting",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="articlelisting",
            name="rank_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(fill_search_columns, drop_search_columns),
    ]

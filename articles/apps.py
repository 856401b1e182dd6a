from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        # Connects the receiver for references.signals.reference_status_changed.
        from articles import signals  # noqa: F401

        # The page cache's generation tokens live in a table of their own when the cache is per process.
        from django.db.models.signals import post_migrate

        from articles.publishing.cache import create_token_table
        from articles.publishing.search import create_sqlite_index

        post_migrate.connect(create_token_table, sender=self)
        post_migrate.connect(create_sqlite_index, sender=self)
        post_migrate.connect(_list_live_articles, sender=self)


def _list_live_articles(using="default", **kwargs):
    """After upgrading or a change of settings, every live article without a current listing gets one (and its
    page), so the lists show it as it is."""
    from django.db import connections

    from articles.models import ArticleListing
    from articles.publishing.pages import store_all_public_pages

    # Not when migrating back to before the listings existed.
    if using == "default" and ArticleListing._meta.db_table in connections[using].introspection.table_names():
        store_all_public_pages(stale_only=True)

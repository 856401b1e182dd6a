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

        post_migrate.connect(create_token_table, sender=self)

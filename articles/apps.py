from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "Articles"

    def ready(self):
        # Connects the receiver for references.signals.reference_status_changed.
        from articles import signals  # noqa: F401

"""Store the public page of every live article (after an upgrade, or a change to SITE_URL or SITE_NAME)."""

from django.core.management.base import BaseCommand

from articles.publishing.pages import store_all_public_pages


class Command(BaseCommand):
    help = "Render and store the page anonymous readers get for every published article."

    def handle(self, *args, **options):
        count = store_all_public_pages()
        self.stdout.write(self.style.SUCCESS(f"Stored {count} article page(s)."))

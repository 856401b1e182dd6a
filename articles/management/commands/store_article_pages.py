"""Store the public page and listing of every live article (to repair; ``migrate`` stores those out of date)."""

from django.core.management.base import BaseCommand

from articles.publishing.pages import store_all_public_pages


class Command(BaseCommand):
    help = "Render and store the page anonymous readers get for every published article."

    def handle(self, *args, **options):
        count = store_all_public_pages()
        self.stdout.write(self.style.SUCCESS(f"Stored {count} article page(s)."))

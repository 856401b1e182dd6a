"""Publish every article whose scheduled time has come, each through the publish gate (run it from cron)."""

from django.core.management.base import BaseCommand, CommandError

from articles.review import workflow


class Command(BaseCommand):
    help = "Publish the articles scheduled for now or earlier; exit status 1 if any was refused."

    def handle(self, *args, **options):
        results = workflow.publish_scheduled()
        refused = [r for r in results if not r.published]
        for result in results:
            if result.published:
                self.stdout.write(f"Published “{result.article.title}”.")
            else:
                self.stderr.write(f"Refused “{result.article.title}”: {result.error}")
        if not results:
            self.stdout.write("Nothing is due.")
        if refused:
            raise CommandError(f"{len(refused)} scheduled article(s) were not published; their schedule was cleared.")

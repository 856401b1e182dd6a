"""Print what stops an article from being published; exit non-zero if anything does."""

from django.core.management.base import BaseCommand, CommandError

from articles.review import gate
from articles.models import Article


class Command(BaseCommand):
    help = "List the publish gate's blockers for one article (exit status 1 when there are any)."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="The article's slug.")

    def handle(self, *args, slug, **options):
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            raise CommandError(f"No article with the slug {slug!r}.")
        report = gate.check(article)
        self.stdout.write(
            f"{article.title} [{article.get_status_display()}]: {report.claim_count} claim(s), "
            f"{len(report.context_statements)} context statement(s)."
        )
        for loaded in report.context_statements:
            self.stdout.write(f"  context: claim {loaded.number} in \"{loaded.section.heading}\" {loaded.excerpt}")
        if not report.blockers:
            self.stdout.write(self.style.SUCCESS("No blockers: it can be published."))
            return
        for number, blocker in enumerate(report.blockers, 1):
            self.stdout.write(f"{number}. [{blocker.code}] {blocker}")
        raise CommandError(f"{len(report.blockers)} blocker(s) stop “{article.title}” from being published.")

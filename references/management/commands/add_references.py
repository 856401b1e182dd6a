"""Add references by DOI or URL in bulk, one result line per input."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from references.bulk import add_many


class Command(BaseCommand):
    help = (
        "Add references by DOI or DOI-bearing URL, from arguments and/or a file (one per line; "
        "blank lines and lines starting with # are skipped). Exit status 1 if any input failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("inputs", nargs="*", metavar="DOI-or-URL")
        parser.add_argument("--file", dest="path", help="A file with one DOI or URL per line.")

    def handle(self, *args, inputs, path, **options):
        lines = list(inputs)
        if path:
            try:
                lines += Path(path).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}.") from exc
        if not any(line.strip() for line in lines):
            raise CommandError("Give at least one DOI or URL, or --file PATH.")
        results = add_many(lines, budget_per_line=settings.CROSSREF_COMMAND_BUDGET,
                           budget_setting="CROSSREF_COMMAND_BUDGET")
        for result in results:
            self.stdout.write(str(result))
        failed = [r for r in results if r.failed]
        self.stdout.write(
            f"{sum(r.outcome == 'added' for r in results)} added, "
            f"{sum(r.outcome == 'already present' for r in results)} already present, {len(failed)} failed."
        )
        if failed:
            raise CommandError(f"{len(failed)} input(s) failed.", returncode=1)

"""Check the whole library against the Retraction Watch CSV, offline."""

import os
import sys

from django.core.management.base import BaseCommand, CommandError

from references.retraction_watch import RetractionWatchFileError, import_file


class Command(BaseCommand):
    help = (
        "Read the Retraction Watch dataset (the CSV Crossref publishes) and record its retractions, corrections, "
        "expressions of concern and reinstatements on the references they name, by DOI or PubMed ID; live "
        "articles citing them go back to review. Importing the same file again records nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="retraction_watch.csv")

    def handle(self, *args, file, **options):
        if not os.path.isfile(file):
            raise CommandError(f"{file}: no such file.")
        progress = None
        if self.stdout.isatty():
            from tqdm import tqdm

            progress = tqdm(unit="row", file=sys.stderr, leave=False, desc="Retraction Watch rows")
        try:
            result = import_file(file, progress=progress.update if progress is not None else None)
        except RetractionWatchFileError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        finally:
            if progress is not None:
                progress.close()
        if options["verbosity"] > 1:
            for problem in result.problems:
                self.stderr.write(f"skipped {problem}")
        self.stdout.write(str(result))

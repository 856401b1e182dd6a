"""Re-check cited DOIs against Crossref and report what changed. Safe from cron: no prompts, exit codes."""

import sys

from django.core.management.base import BaseCommand, CommandError

from references.doi import InvalidDOI, normalise_doi
from references.models import Reference
from references.services import refresh_reference


class Command(BaseCommand):
    help = (
        "Re-fetch Crossref metadata for the given DOIs (all references with a DOI by default), "
        "report changes and signal peer-review or retraction changes. Exit status 1 if any DOI failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("dois", nargs="*", metavar="DOI")

    def handle(self, *args, dois, **options):
        references, failures = self._select(dois)
        progress = None
        if self.stdout.isatty() and references:
            from tqdm import tqdm

            progress = tqdm(total=len(references), unit="ref", file=sys.stderr, leave=False)
        changed = 0
        for reference in references:
            result = refresh_reference(reference)
            if result.error:
                failures.append(str(result))
            elif result.changed:
                changed += 1
            if result.error is None and (result.changed or options["verbosity"] > 1):
                if progress:
                    progress.clear()
                self.stdout.write(str(result))
            if progress:
                progress.update()
        if progress:
            progress.close()
        self.stdout.write(
            f"Checked {len(references)} reference(s): {changed} changed, {len(failures)} failed."
        )
        if failures:
            for failure in failures:
                self.stderr.write(failure)
            raise CommandError(f"{len(failures)} DOI(s) could not be checked.", returncode=1)

    def _select(self, dois):
        if not dois:
            return list(Reference.objects.exclude(doi__isnull=True).order_by("doi")), []
        references, failures = [], []
        for raw in dois:
            try:
                doi = normalise_doi(raw)
            except InvalidDOI as exc:
                failures.append(f"{raw}: failed: {exc}")
                continue
            reference = Reference.objects.with_doi(doi).first()
            if reference is None:
                failures.append(f"{doi}: failed: no reference has this DOI (add it with add_references)")
            else:
                references.append(reference)
        return references, failures

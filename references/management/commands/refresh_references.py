"""Re-check cited DOIs against Crossref and report what changed. Safe from cron: no prompts, exit codes."""

import datetime
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from references.budget import command_budget
from references.doi import InvalidDOI, normalise_doi
from references.models import Reference
from references.services import refresh_reference


class Command(BaseCommand):
    help = (
        "Re-fetch Crossref metadata for the given DOIs (by default the references checked longest ago, at most "
        "--budget of them), "
        "report changes and signal peer-review or retraction changes. Prints one summary line (with --verbosity 0 "
        "nothing else but the failures, on stderr; 1 adds a line per change). Exit status 1 if any DOI failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("dois", nargs="*", metavar="DOI")
        parser.add_argument(
            "--budget", type=int, default=None, metavar="N",
            help="Without DOIs: re-fetch at most N references, those checked longest ago first "
                 "(default: the REFRESH_BUDGET_PER_RUN setting).",
        )

    def handle(self, *args, dois, **options):
        self.budget = settings.REFRESH_BUDGET_PER_RUN if options.get("budget") is None else options["budget"]
        if self.budget < 1:
            raise CommandError(f"--budget must be at least 1 (got {self.budget}).")
        references, failures = self._select(dois)
        progress = None
        if self.stdout.isatty() and references:
            from tqdm import tqdm

            progress = tqdm(total=len(references), unit="ref", file=sys.stderr, leave=False)
        changed = 0
        for reference in references:
            # Remembered whatever the outcome, so a reference that keeps failing goes behind the others next run.
            reference.refresh_attempted_at = timezone.now()
            Reference.objects.filter(pk=reference.pk).update(refresh_attempted_at=reference.refresh_attempted_at)
            # Each DOI has its own bounded time: a trickling Crossref delays one line, never the whole run.
            with command_budget("this reference"):
                result = refresh_reference(reference)
            if result.error:
                failures.append(str(result))
            elif result.changed:
                changed += 1
            # Cron runs with --verbosity 0 want the summary line only.
            if result.error is None and options["verbosity"] > 0 and (result.changed or options["verbosity"] > 1):
                if progress:
                    progress.clear()
                self.stdout.write(str(result))
            if progress:
                progress.update()
        if progress:
            progress.close()
        summary = f"Checked {len(references)} reference(s): {changed} changed, {len(failures)} failed."
        if not dois:
            summary = f"{summary} {refresh_backlog_line(self.budget)}"
        self.stdout.write(summary)
        if failures:
            for failure in failures:
                self.stderr.write(failure)
            raise CommandError(f"{len(failures)} DOI(s) could not be checked.", returncode=1)

    def _select(self, dois):
        if not dois:
            # PubMed-only references (a PMID, no DOI) are checked against PubMed.
            return oldest_first(Reference.objects.exclude(doi__isnull=True, pmid__isnull=True), self.budget), []
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


def checkable():
    return Reference.objects.exclude(doi__isnull=True, pmid__isnull=True)


def oldest_first(queryset, budget):
    """At most ``budget`` references, never tried first, then those checked or tried longest ago.

    A library too large to re-fetch in one run is covered over several: each run takes the oldest, so every
    reference is checked within (library size / budget) runs. A failed attempt counts as a turn: a DOI that
    keeps failing is tried again after the others, never at the front of every run.
    """
    # The later of the two times; Greatest of a NULL is NULL on SQLite, so each side falls back to the other.
    last_turn = Greatest(Coalesce("refresh_attempted_at", "status_checked_at"),
                         Coalesce("status_checked_at", "refresh_attempted_at"))
    order = (F("last_turn").asc(nulls_first=True), "pk")
    return list(queryset.annotate(last_turn=last_turn).order_by(*order)[:budget])


def refresh_backlog_line(budget):
    """How many references are overdue for a check, against REFRESH_WITHIN_DAYS, after this run."""
    days = settings.REFRESH_WITHIN_DAYS
    since = timezone.now() - datetime.timedelta(days=days)
    overdue = checkable().filter(Q(status_checked_at__isnull=True) | Q(status_checked_at__lt=since)).count()
    return (
        f"{overdue} reference(s) not checked within {days} day(s) (REFRESH_WITHIN_DAYS); "
        f"at most {budget} are re-fetched a run (--budget, REFRESH_BUDGET_PER_RUN)."
    )

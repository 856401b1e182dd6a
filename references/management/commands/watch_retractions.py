"""Record Crossref's new retraction, correction and concern notices on our references. Safe from cron."""

import sys

from django.core.management.base import BaseCommand, CommandError

from references import watch


class Command(BaseCommand):
    help = (
        "Ask Crossref for editorial notices indexed since the last completed sweep, record those naming our "
        "references and send live articles citing them back to review. Prints one summary line; exit status 1 "
        "if the sweep failed (its progress is kept and the next run resumes)."
    )

    def handle(self, *args, **options):
        progress = None
        if self.stdout.isatty():
            from tqdm import tqdm

            progress = tqdm(unit="notice", file=sys.stderr, leave=False, desc="Crossref notices")
        try:
            result = watch.run_sweep(progress=progress.update if progress is not None else None)
        except watch.SweepBusy as exc:
            # Another server's cron got there first: nothing is wrong.
            self.stdout.write(f"Retraction sweep skipped: {exc}")
            return
        except watch.SweepError as exc:
            raise CommandError(f"Retraction sweep failed: {exc} The next run resumes it.", returncode=1) from exc
        finally:
            if progress is not None:
                progress.close()
        self.stdout.write(str(result))

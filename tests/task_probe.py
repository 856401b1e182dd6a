"""A task for the worker tests: it notes which process ran it, so two workers can be shown to share a queue."""

import os
import time

from django_tasks import task


@task()
def note_run(path, number, *, seconds=0.2):
    """Append "number pid" to ``path`` after ``seconds`` (long enough for the other worker to claim the next)."""
    time.sleep(seconds)
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"{number} {os.getpid()}\n")
    return number

"""refresh_references within a budget: the oldest-checked references first, at most N requests a run."""

import datetime
import io
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from references.models import Reference
from tests.factories import make_reference

pytestmark = pytest.mark.django_db

KETAMINE = ["10.1523/jneurosci.1547-16.2016", "10.1159/000493425", "10.1176/appi.ajp.2020.20050596",
            "10.1007/s43440-020-00097-z"]


@pytest.fixture
def library():
    """Four references with recorded answers: one never checked, the others 90, 40 and 1 day(s) ago."""
    now = timezone.now()
    ages = [None, 90, 40, 1]
    references = []
    for doi, age in zip(KETAMINE, ages):
        reference = make_reference(doi)
        checked = None if age is None else now - datetime.timedelta(days=age)
        Reference.objects.filter(pk=reference.pk).update(status_checked_at=checked)
        references.append(reference)
    return references


def asked(server):
    return [unquote(path[len("/works/"):]) for path in server.requests]


def run(*args):
    out = io.StringIO()
    call_command("refresh_references", *args, stdout=out)
    return out.getvalue()


def test_a_budget_re_fetches_the_oldest_checked_first(fake_crossref, library, settings):
    settings.REFRESH_WITHIN_DAYS = 30
    out = run("--budget", "2")
    assert asked(fake_crossref) == [KETAMINE[0], KETAMINE[1]]
    # Before the run three were overdue (never, 90 and 40 days); the two re-fetched are now fresh.
    # One summary line, last: what this run did, then what is left (factory titles -> Crossref's: changed).
    assert out.rstrip().splitlines()[-1] == (
        "Checked 2 reference(s): 2 changed, 0 failed. 1 reference(s) not checked within 30 day(s) "
        "(REFRESH_WITHIN_DAYS); at most 2 are re-fetched a run (--budget, REFRESH_BUDGET_PER_RUN)."
    )

    run("--budget", "2")
    assert asked(fake_crossref)[2:] == [KETAMINE[2], KETAMINE[3]], "the next run takes the next oldest"


def test_the_budget_defaults_to_the_setting(fake_crossref, library, settings):
    settings.REFRESH_BUDGET_PER_RUN = 3
    run()
    assert asked(fake_crossref) == KETAMINE[:3]


def test_named_dois_are_all_checked_whatever_the_budget(fake_crossref, library, settings):
    settings.REFRESH_BUDGET_PER_RUN = 1
    out = run(*reversed(KETAMINE))
    assert asked(fake_crossref) == list(reversed(KETAMINE))
    assert "REFRESH_WITHIN_DAYS" not in out


def test_a_budget_below_one_is_refused(fake_crossref, library):
    with pytest.raises(CommandError, match="--budget must be at least 1 \\(got 0\\)"):
        run("--budget", "0")
    assert fake_crossref.requests == []


def test_a_doi_that_keeps_failing_waits_its_turn_behind_the_others(fake_crossref, library):
    """Crossref has no record of 10.5555/keeps.failing (404), so it is never marked checked; a failed attempt
    still counts as its turn, so it does not take a place in every run's budget."""
    failing = make_reference("10.5555/keeps.failing")
    Reference.objects.filter(pk=failing.pk).update(status_checked_at=None)
    Reference.objects.filter(pk=library[0].pk).update(status_checked_at=timezone.now())

    with pytest.raises(CommandError):
        run("--budget", "2")
    assert asked(fake_crossref) == ["10.5555/keeps.failing", KETAMINE[1]]

    run("--budget", "2")
    assert asked(fake_crossref)[2:] == [KETAMINE[2], KETAMINE[3]], "the failing DOI is not at the front again"

    with pytest.raises(CommandError):
        run("--budget", "2")
    # KETAMINE[0] was checked before the first run, the failing DOI tried in it: in that order, they come next.
    assert asked(fake_crossref)[4:] == [KETAMINE[0], "10.5555/keeps.failing"], "it is tried again in its turn"
    failing.refresh_from_db()
    assert failing.status_checked_at is None and failing.refresh_attempted_at is not None


def test_a_check_made_after_the_last_attempt_counts_as_the_turn(fake_crossref, library):
    """The admin's refresh records status_checked_at only: a reference the command last tried 200 days ago but
    an editor refreshed yesterday is not overdue."""
    long_ago = timezone.now() - datetime.timedelta(days=200)
    Reference.objects.filter(pk=library[3].pk).update(refresh_attempted_at=long_ago)
    run("--budget", "2")
    assert asked(fake_crossref) == [KETAMINE[0], KETAMINE[1]]


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("verbosity", [0, 1])
def test_cron_gets_one_summary_line_and_a_terminal_a_progress_bar(fake_crossref, library, settings, capsys,
                                                                  verbosity):
    out = io.StringIO()
    call_command("refresh_references", "--budget", "2", stdout=out, verbosity=verbosity)
    lines = out.getvalue().strip().splitlines()
    # Verbosity 1 adds one line per changed reference; 0 prints the summary only.
    assert len(lines) == (1 if verbosity == 0 else 3)
    assert lines[-1].startswith("Checked 2 reference(s): 2 changed, 0 failed. ")
    assert "ref/s" not in capsys.readouterr().err
    terminal = Terminal()
    call_command("refresh_references", "--budget", "1", stdout=terminal, verbosity=verbosity)
    err = capsys.readouterr().err
    assert "/1 [" in err and "ref/s" in err
    assert terminal.getvalue().strip().splitlines()[-1].startswith("Checked 1 reference(s): ")

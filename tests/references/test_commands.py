"""add_references and refresh_references, as cron and editors run them."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from references import services
from references.models import Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.fake_crossref import load_work

pytestmark = pytest.mark.django_db

KETAMINE = ["10.1523/jneurosci.1547-16.2016", "10.1159/000493425", "10.1176/appi.ajp.2020.20050596",
            "10.1007/s43440-020-00097-z"]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc.returncode
    return out.getvalue(), err.getvalue(), 0


def test_add_references_end_to_end_through_the_fake_crossref(fake_crossref):
    out, _, code = run("add_references", *KETAMINE)
    assert code == 0
    assert sorted(Reference.objects.values_list("doi", flat=True)) == sorted(KETAMINE)
    assert Reference.objects.get(doi="10.1159/000493425").container_title == "Molecular Neuropsychiatry"
    assert out.count("\tadded: ") == 4
    assert out.rstrip().endswith("4 added, 0 already present, 0 failed.")


def test_add_references_reports_each_line_and_fails_when_any_failed(fake_crossref, tmp_path):
    services.add_reference_by_doi(KETAMINE[0])
    listing = tmp_path / "dois.txt"
    listing.write_text(
        "# the ketamine article\n"
        "https://doi.org/10.1523/JNEUROSCI.1547-16.2016\n"
        "\n"
        "https://ajp.psychiatryonline.org/doi/full/10.1176/appi.ajp.2020.20050596\n"
        "ketamine\n"
        "10.5555/no-such-work\n"
    )
    out, _, code = run("add_references", "--file", str(listing))
    lines = out.splitlines()
    assert lines[0].startswith("https://doi.org/10.1523/JNEUROSCI.1547-16.2016\talready present")
    assert lines[1].startswith("https://ajp.psychiatryonline.org/doi/full/10.1176/appi.ajp.2020.20050596\tadded")
    assert lines[2].startswith("ketamine\tinvalid: 'ketamine' is not a DOI")
    assert lines[3].startswith("10.5555/no-such-work\tnot found: Crossref has no work")
    assert lines[4] == "1 added, 1 already present, 2 failed."
    assert code == 1


def test_add_references_says_when_crossref_is_unavailable(fake_crossref):
    fake_crossref.set_mode("rate_limit")
    out, _, code = run("add_references", KETAMINE[1])
    assert f"{KETAMINE[1]}\tCrossref unavailable: Crossref answered 429" in out
    assert code == 1
    assert not Reference.objects.exists()


def test_add_references_needs_input():
    _, _, code = run("add_references")
    assert code == 1


def test_add_references_reports_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("add_references", "--file", str(tmp_path / "missing.txt"), stdout=io.StringIO())


@pytest.fixture
def cited_before_retraction():
    work = load_work("10.5555/psychly.retracted.2019.001")
    work.pop("updated-by")
    return services.save_reference(services.apply_work(Reference(), work))


def test_refresh_references_reports_changes_and_signals_them(fake_crossref, cited_before_retraction):
    services.add_reference_by_doi(KETAMINE[2])
    received = []
    handler = lambda sender, **kw: received.append(kw)  # noqa: E731
    reference_status_changed.connect(handler)
    try:
        out, _, code = run("refresh_references")
    finally:
        reference_status_changed.disconnect(handler)
    assert code == 0
    assert "10.5555/psychly.retracted.2019.001: NEWLY RETRACTED; retraction_status: none -> retracted" in out
    assert KETAMINE[2] not in out  # unchanged lines are only shown with -v 2
    assert out.rstrip().splitlines()[-1].startswith("Checked 2 reference(s): 1 changed, 0 failed. ")
    assert [kw["reference"].doi for kw in received] == ["10.5555/psychly.retracted.2019.001"]
    cited_before_retraction.refresh_from_db()
    assert cited_before_retraction.retraction_status == RetractionStatus.RETRACTED


def test_refresh_references_continues_past_a_failing_doi_and_exits_non_zero(fake_crossref, cited_before_retraction):
    gone = services.save_reference(Reference(doi="10.5555/withdrawn-from-crossref", title="Gone"))
    out, err, code = run("refresh_references", gone.doi, cited_before_retraction.doi, "not-a-doi",
                         "10.5555/never-added")
    assert code == 1
    assert "NEWLY RETRACTED" in out
    assert "Checked 2 reference(s): 1 changed, 3 failed." in out
    assert "10.5555/withdrawn-from-crossref: failed: Crossref has no work" in err
    assert "not-a-doi: failed: 'not-a-doi' is not a DOI" in err
    assert "10.5555/never-added: failed: no reference has this DOI" in err


def test_refresh_references_verbose_lists_unchanged(fake_crossref):
    services.add_reference_by_doi(KETAMINE[0])
    out, _, code = run("refresh_references", "-v", "2")
    assert f"{KETAMINE[0]}: unchanged" in out and code == 0


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_refresh_references_shows_a_progress_bar_only_on_a_terminal(fake_crossref, cited_before_retraction, capsys):
    out = Terminal()
    call_command("refresh_references", stdout=out)
    assert "NEWLY RETRACTED" in out.getvalue()
    assert "ref/s]" in capsys.readouterr().err

    plain = io.StringIO()
    call_command("refresh_references", "-v", "2", stdout=plain)
    assert "unchanged" in plain.getvalue()
    assert "ref/s]" not in capsys.readouterr().err


@pytest.fixture
def trickling_crossref(fake_crossref, settings):
    """Crossref sending its whole answer a byte every 20 ms (minutes for a recorded answer)."""
    settings.CROSSREF_DEADLINE = 10
    settings.CROSSREF_REQUEST_BUDGET = 30
    settings.CROSSREF_COMMAND_BUDGET = 0.6
    fake_crossref.trickle_seconds = 0.02
    fake_crossref.set_mode("trickle")
    return fake_crossref


def test_add_references_gives_each_doi_its_own_bounded_time_when_crossref_trickles(trickling_crossref):
    import time

    started = time.monotonic()
    out, _, code = run("add_references", *KETAMINE[:2])
    assert time.monotonic() - started < 3
    assert code == 1
    for doi in KETAMINE[:2]:
        assert (f"{doi}\tCrossref unavailable: Crossref did not finish its answer for {doi} in the 0.6 seconds left; "
                "time budget for this input (0.6 s, CROSSREF_COMMAND_BUDGET) spent; try again.") in out
    assert "this request" not in out
    assert len(trickling_crossref.requests) == 2  # each DOI was asked: the budget is per DOI, not shared
    assert not Reference.objects.exists()


def test_refresh_references_gives_each_doi_its_own_bounded_time_when_crossref_trickles(trickling_crossref):
    import time

    for doi in KETAMINE[:2]:
        Reference.objects.create(doi=doi, title=doi)
    started = time.monotonic()
    out, err, code = run("refresh_references")
    assert time.monotonic() - started < 3
    assert code == 1
    assert "Checked 2 reference(s): 0 changed, 2 failed." in out
    # A command has no request: the message names the budget that ran out and the setting behind it.
    assert err.count(
        "in the 0.6 seconds left; time budget for this reference (0.6 s, CROSSREF_COMMAND_BUDGET) spent; try again."
    ) == 2
    assert "this request" not in err
    assert len(trickling_crossref.requests) == 2


def test_add_references_gives_pmids_the_same_bounded_time_and_words(fake_ncbi, settings):
    """PubMed draws on the same per-input budget as Crossref, and a spent one is named for the command."""
    import time

    settings.NCBI_TIMEOUT = 10
    settings.CROSSREF_COMMAND_BUDGET = 0.6
    fake_ncbi.trickle_seconds = 0.02
    fake_ncbi.set_mode("trickle")
    started = time.monotonic()
    out, _, code = run("add_references", "PMID: 23121403", "PMID: 11748933")
    assert time.monotonic() - started < 3
    assert code == 1
    for pmid in ("23121403", "11748933"):
        assert (f"PMID: {pmid}\tPubMed unavailable: PubMed did not finish its answer for PMID {pmid} in the 0.6 "
                "seconds left; time budget for this input (0.6 s, CROSSREF_COMMAND_BUDGET) spent; try again.") in out
    assert len(fake_ncbi.requests) == 2
    assert not Reference.objects.exists()

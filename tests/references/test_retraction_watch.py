"""The Retraction Watch CSV import (references.retraction_watch, manage.py import_retraction_watch).

tests/fixtures/retraction_watch/sample.csv holds real rows of the dataset in its published column layout (see
the README beside it).
"""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article
from references.models import Reference, RetractionStatus
from references.retraction_watch import RetractionWatchFileError, import_file, import_rows
from tests.articles.publish_helpers import make_published
from tests.factories import make_editor, make_reference, make_reviewer

SAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "retraction_watch" / "sample.csv"
HINDAWI = "10.1155/2021/6907871"
MICPRO = "10.1016/j.micpro.2020.103053"
CIRCULATION = "10.1161/circoutcomes.120.007778"
SAGE = "10.1177/1758835919874651"
SICI = "10.1002/1096-9098(200007)74:3<201::aid-jso8>3.0.co;2-5"


def keys(reference):
    reference.refresh_from_db()
    return sorted((u["type"], u["DOI"], u["source"], u["updated"]) for u in reference.updates)


@pytest.fixture
def library(db):
    """References the sample names (by DOI, one only by PubMed ID) and one it does not."""
    return {
        "hindawi": make_reference(HINDAWI),
        "micpro": make_reference(MICPRO),
        "circulation": make_reference(CIRCULATION),
        "sage": make_reference(SAGE),
        "sici": make_reference(SICI),
        # Known to us by PMID only: the row's OriginalPaperPubMedID finds it.
        "by_pmid": make_reference(None, url="https://www.dovepress.com/ijn-article", pmid="27013874"),
        "untouched": make_reference("10.1000/not.in.the.dataset"),
    }


def test_the_sample_is_recorded_on_the_references_it_names(library):
    result = import_file(SAMPLE)

    assert (result.rows, result.notices, result.skipped) == (8, 7, 1)
    assert result.references_updated == 6 and result.notices_added == 7
    assert keys(library["hindawi"]) == [("retraction", "10.1155/2023/9804945", "retraction-watch", "2023-08-16")]
    assert library["hindawi"].retraction_status == RetractionStatus.RETRACTED
    # An expression of concern later upgraded to a retraction: both notices, the worst status.
    assert keys(library["micpro"]) == [
        ("expression_of_concern", "10.1016/j.micpro.2021.104304", "retraction-watch", "2021-06-25"),
        ("retraction", "10.1016/j.micpro.2024.105024", "retraction-watch", "2024-02-14"),
    ]
    assert library["micpro"].retraction_status == RetractionStatus.RETRACTED
    assert keys(library["by_pmid"]) == [("correction", "10.2147/ijn.s384663", "retraction-watch", "2022-08-04")]
    assert library["by_pmid"].retraction_status == RetractionStatus.CORRECTED
    # A reinstatement is shown to reviewers; it is no retraction.
    assert keys(library["circulation"]) == [
        ("reinstatement", "10.1161/hcq.0000000000000125", "retraction-watch", "2023-11-21")]
    assert library["circulation"].retraction_status == RetractionStatus.NONE
    assert keys(library["sici"])[0][:2] == ("retraction", SICI)
    assert keys(library["sage"]) == [("retraction", "10.1177/17588359211061903", "retraction-watch", "2021-12-15")]
    assert library["sage"].retraction_status == RetractionStatus.RETRACTED
    assert keys(library["untouched"]) == []
    assert result.problems == [
        "line 5 (record 70548): no usable OriginalPaperDOI or OriginalPaperPubMedID"]


def test_importing_the_same_file_again_records_nothing_new(library):
    import_file(SAMPLE)
    again = import_file(SAMPLE)
    assert (again.notices, again.notices_added, again.references_updated) == (7, 0, 0)
    assert len(keys(library["micpro"])) == 2


def test_a_retraction_in_the_dataset_sends_live_articles_citing_it_to_review(library):
    editor, reviewer = make_editor("ed_rw"), make_reviewer("rev_rw")
    article = make_published("Multimedia and mental health", editor=editor, reviewer=reviewer,
                             references=[library["hindawi"], make_reference()])
    call_command("import_retraction_watch", str(SAMPLE), stdout=io.StringIO())
    article = Article.objects.get(pk=article.pk)
    assert (article.needs_rereview, article.urgent) == (True, True)
    assert f"{HINDAWI} was retracted" in article.rereview_reason


def test_rows_are_looked_up_a_batch_at_a_time(library):
    with CaptureQueriesContext(connection) as queries:
        result = import_file(SAMPLE, batch_rows=3)
    lookups = [q["sql"] for q in queries.captured_queries
               if 'FROM "references_reference"' in q["sql"] and "LOWER" in q["sql"].upper()]
    assert result.notices == 7
    assert len(lookups) == 3  # 7 notices in batches of 3: 3 + 3 + 1


def test_a_file_without_the_datasets_columns_is_refused_naming_what_is_missing(tmp_path, db):
    wrong = tmp_path / "other.csv"
    wrong.write_text("Record ID,Title,DOI\n1,A paper,10.1000/x\n")
    with pytest.raises(RetractionWatchFileError, match="lacks the column.*RetractionDate.*OriginalPaperDOI"):
        import_file(wrong)
    with pytest.raises(CommandError, match="other.csv: This is not the Retraction Watch CSV"):
        call_command("import_retraction_watch", str(wrong))
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_retraction_watch", str(tmp_path / "missing.csv"))


def test_unknown_natures_and_blank_rows_are_skipped_with_a_reason_and_a_byte_order_mark_is_read(library, tmp_path):
    header = SAMPLE.read_text(encoding="utf-8").splitlines()[0]
    row = ["99", "", "", "", "J", "P", "", "", "", "Research Article;", "1/2/2024 0:00", "10.1000/notice", "0",
           "1/1/2020 0:00", HINDAWI, "0", "Mystery Notice", "", "No", "", ""]
    path = tmp_path / "bom.csv"
    path.write_text("\ufeff" + header + "\n" + ",".join(row) + "\n" + "," * 20 + "\n", encoding="utf-8")
    result = import_file(path)
    assert result.skipped == 2 and result.notices_added == 0
    assert result.problems == ["line 2 (record 99): unknown RetractionNature 'Mystery Notice'", "line 3: empty row"]


def test_command_prints_one_summary_line(library):
    out = io.StringIO()
    call_command("import_retraction_watch", str(SAMPLE), stdout=out)
    assert out.getvalue().strip() == (
        "Read 8 row(s) of Retraction Watch data: 7 new notice(s) on 6 reference(s); 1 row(s) skipped.")


def test_rows_may_come_from_any_stream_of_lines(library):
    text = SAMPLE.read_text(encoding="utf-8")
    result = import_rows(io.StringIO(text, newline=""))
    assert result.notices_added == 7
    assert Reference.objects.filter(retraction_status=RetractionStatus.RETRACTED).count() == 4


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_command_shows_a_progress_bar_only_on_a_terminal(library, capsys):
    call_command("import_retraction_watch", str(SAMPLE), stdout=Terminal())
    assert "Retraction Watch rows" in capsys.readouterr().err
    call_command("import_retraction_watch", str(SAMPLE), stdout=io.StringIO())
    assert "Retraction Watch rows" not in capsys.readouterr().err

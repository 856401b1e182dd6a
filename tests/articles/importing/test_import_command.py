"""python manage.py import_article: the importer from a terminal."""

import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from articles.models import Article, Topic
from references.models import Reference
from tests.fake_crossref import FakeCrossref

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
KETAMINE = FIXTURES / "ketamine-therapy.txt"
TITLE = "The Science of Ketamine Therapy: How it Works and Why it's Effective"


def run(*args):
    out = io.StringIO()
    call_command("import_article", *map(str, args), stdout=out)
    return out.getvalue()


def test_prints_a_text_report_and_saves_a_draft():
    output = run(KETAMINE)
    assert output.startswith(f'Imported "{TITLE}"')
    assert "Claims without a source (15):" in output
    assert "The publish gate refuses it" in output
    assert Article.objects.get().title == TITLE
    assert Reference.objects.count() == 4


def test_json_report_with_author_and_topic():
    User.objects.create_user("dana")
    Topic.objects.create(name="Treatments", slug="treatments")

    data = json.loads(run(KETAMINE, "--json", "--author", "dana", "--topic", "treatments"))

    assert data["article"]["title"] == TITLE
    assert data["article"]["authors"] == ["dana"]
    assert data["article"]["topics"] == ["Treatments"]
    assert [r["doi"] for r in data["references"]] == [
        "10.1523/jneurosci.1547-16.2016", "10.1159/000493425",
        "10.1176/appi.ajp.2020.20050596", "10.1007/s43440-020-00097-z",
    ]
    assert len(data["unsupported_claims"]) == 15


def test_dry_run_saves_nothing():
    output = run(KETAMINE, "--dry-run")
    assert "dry run, nothing saved" in output
    assert not Article.objects.exists()
    assert not Reference.objects.exists()


def test_crossref_metadata_is_used_when_it_answers(settings):
    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
        data = json.loads(run(KETAMINE, "--json"))
    assert {r["metadata"] for r in data["references"]} == {"crossref"}
    assert len(server.requests) == 4


def test_no_fetch_never_asks_crossref(settings):
    with FakeCrossref() as server:
        settings.CROSSREF_API_URL = server.url
        data = json.loads(run(KETAMINE, "--json", "--no-fetch"))
    assert server.requests == []
    assert {r["metadata"] for r in data["references"]} == {"citation_line"}


def test_a_bad_file_fails_with_the_file_and_line():
    with pytest.raises(CommandError, match=r"bad-unknown-marker\.txt: line 4: the marker \[5\] points at no reference"):
        run(FIXTURES / "bad-unknown-marker.txt")
    assert not Article.objects.exists()


def test_a_bad_file_with_json_also_prints_the_error_as_json():
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_article", str(FIXTURES / "bad-no-title.txt"), "--json", stdout=out)
    error = json.loads(out.getvalue())["error"]
    assert error["line"] == 1
    assert error["message"].startswith("no title")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((FIXTURES / "missing.txt",), "there is no file at"),
        ((KETAMINE, "--author", "nobody"), 'there is no user called "nobody"'),
        ((KETAMINE, "--topic", "Astrology"), 'there is no topic called "Astrology" \\(known topics: none yet\\)'),
    ],
)
def test_unknown_path_author_or_topic_is_refused(args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Article.objects.exists()


def test_importing_twice_is_refused_unless_replacing_the_draft():
    run(KETAMINE)
    with pytest.raises(CommandError, match="already exists"):
        run(KETAMINE)
    output = run(KETAMINE, "--replace-draft")
    assert output.startswith(f'Replaced the draft "{TITLE}"')
    assert Article.objects.count() == 1
    assert Reference.objects.count() == 4

"""The admin's import preview on a Markdown upload: what was cited and what was left out, with lines."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.models import Article

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
IMPORT_URL = reverse("admin:articles_article_import")


def test_a_markdown_upload_previews_its_footnote_citations_and_what_it_left_out(client):
    editor = User.objects.create_user("imogen", password="pw-imogen-123", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editors"))
    client.force_login(editor)
    upload = SimpleUploadedFile("paradox.md", (FIXTURES / "markdown-footnotes.md").read_bytes(),
                                content_type="text/markdown")

    preview = client.post(IMPORT_URL, {"file": upload, "_preview": "1"})

    assert preview.status_code == 200
    report = preview.context["report"]
    cited = {claim["text"]: [source["doi"] for source in claim["sources"]]
             for section in report["sections"] for claim in section["claims"]}
    assert cited["Mild complaints such as restless legs or low sexual desire have been promoted as diseases in "
                 "their own right."] == ["10.1371/journal.pmed.0030170", "10.1136/bmj.326.7379.45"]
    html = preview.content.decode()
    assert "line 17 (sign-off): With care, the Editorial Team" in html
    assert "line 19 (about the author (the site shows its own)): ## About the author" in html
    assert not Article.objects.exists()


def test_the_command_prints_one_json_shape_for_every_layout():
    import io
    import json

    from django.core.management import call_command

    shapes = set()
    for name in ["ketamine-therapy.txt", "plos-ranges.txt", "web-superscript.txt", "markdown-footnotes.md",
                 "markdown-apa.md"]:
        out = io.StringIO()
        call_command("import_article", str(FIXTURES / name), "--json", "--dry-run", "--no-fetch", stdout=out)
        data = json.loads(out.getvalue())
        claim = next(claim for section in data["sections"] for claim in section["claims"] if claim["sources"])
        shapes.add((tuple(data), tuple(data["references"][0]), tuple(claim), tuple(claim["sources"][0]),
                    tuple(data["left_out"][0]) if data["left_out"] else ("line", "text", "reason")))
    assert shapes == {(
        ("dry_run", "replaced", "article", "sections", "unsupported_claims", "context", "left_out", "references",
         "blockers", "warnings"),
        ("number", "line", "doi", "url", "title", "status", "metadata", "needs_check", "peer_review", "retraction",
         "cited_by"),
        ("number", "line", "text", "context", "sources"),
        ("reference", "doi", "url"),
        ("line", "text", "reason"),
    )}

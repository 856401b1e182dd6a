"""The importer in the admin, used as an editor would: upload, preview, import, find it in the list."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from articles.models import Article, Topic
from references.models import Reference

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "import"
TITLE = "The Science of Ketamine Therapy: How it Works and Why it's Effective"
IMPORT_URL = reverse("admin:articles_article_import")
CHANGELIST_URL = reverse("admin:articles_article_changelist")


def user_in(group, username):
    user = User.objects.create_user(username, password=f"pw-{username}-123", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def editor_client(client):
    client.force_login(user_in("Editors", "imogen"))
    return client


def upload(name):
    return SimpleUploadedFile(name, (FIXTURES / name).read_bytes(), content_type="text/plain")


def test_the_changelist_offers_the_import_to_editors(editor_client):
    response = editor_client.get(CHANGELIST_URL)
    assert response.status_code == 200
    assert f'href="{IMPORT_URL}"' in response.content.decode()


def test_upload_preview_import_and_find_it_in_the_changelist(editor_client):
    page = editor_client.get(IMPORT_URL)
    assert page.status_code == 200
    assert b'name="file"' in page.content

    preview = editor_client.post(IMPORT_URL, {"file": upload("ketamine-therapy.txt"), "_preview": "1"})
    assert preview.status_code == 200
    html = preview.content.decode()
    assert "Preview: nothing has been saved yet" in html
    assert "Claims without a source (15)" in html
    assert "10.1176/appi.ajp.2020.20050596" in html
    assert "cites no source." in html
    assert not Article.objects.exists()
    assert not Reference.objects.exists()
    # The uploaded text is carried into the form, so "Import" sends what was previewed.
    carried = preview.context["form"]["text"].value()
    assert carried.startswith(TITLE)
    assert 'name="_import"' in html

    imported = editor_client.post(IMPORT_URL, {"text": carried, "_import": "1"})
    article = Article.objects.get()
    assert imported.status_code == 302
    assert imported["Location"] == reverse("admin:articles_article_change", args=[article.pk])
    assert article.title == TITLE
    assert [u.username for u in article.authors.all()] == ["imogen"]
    assert Reference.objects.count() == 4

    changelist = editor_client.get(CHANGELIST_URL)
    assert TITLE.replace("'", "&#x27;") in changelist.content.decode()
    messages = [str(m) for m in changelist.context["messages"]]
    assert messages == [
        f"Imported “{TITLE}” as a draft: 21 claim(s), 15 without a source, 4 reference(s), 21 publish blocker(s)."
    ]


def test_pasted_text_with_a_topic(editor_client):
    topic = Topic.objects.create(name="Sleep", slug="sleep")
    text = (FIXTURES / "numbered-dot-heading.txt").read_text()
    response = editor_client.post(IMPORT_URL, {"text": text, "topic": topic.pk, "_import": "1"})
    assert response.status_code == 302
    assert list(Article.objects.get().topics.all()) == [topic]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad-binary.png", "line 3: this is a binary file"),
        ("bad-latin1.txt", "line 1: the file is not UTF-8"),
        ("bad-unknown-marker.txt", "line 4: the marker [5] points at no reference"),
        ("bad-reference-without-link.txt", "line 7: the reference has no DOI and no link"),
    ],
)
def test_a_bad_file_shows_the_line_and_saves_nothing(editor_client, name, message):
    response = editor_client.post(IMPORT_URL, {"file": upload(name), "_import": "1"})
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Article.objects.exists()
    assert not Reference.objects.exists()


def test_nothing_to_import_is_explained(editor_client):
    response = editor_client.post(IMPORT_URL, {"text": "   ", "_preview": "1"})
    assert "Choose a file to upload or paste the article" in response.content.decode()


def test_importing_the_same_article_twice_names_the_existing_one(editor_client):
    text = (FIXTURES / "ketamine-therapy.txt").read_text()
    editor_client.post(IMPORT_URL, {"text": text, "_import": "1"})
    article = Article.objects.get()
    response = editor_client.post(IMPORT_URL, {"text": text, "_preview": "1"})
    assert f"(id {article.pk}, slug {article.slug}, draft)" in response.content.decode().replace("&quot;", '"')
    assert Article.objects.count() == 1


def test_reviewers_may_not_import(client):
    client.force_login(user_in("Reviewers", "rhea"))
    text = (FIXTURES / "ketamine-therapy.txt").read_text()
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"text": text, "_import": "1"}).status_code == 403
    assert f'href="{IMPORT_URL}"' not in client.get(CHANGELIST_URL).content.decode()
    assert not Article.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))

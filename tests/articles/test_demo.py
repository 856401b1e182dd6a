"""`make run` loads the demo through load_demo; it must work offline and twice."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from articles.models import Article, Claim
from references.models import Reference

pytestmark = pytest.mark.django_db


def test_demo_loads_offline_and_twice_without_duplicates(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-for-tests")
    call_command("load_demo")
    call_command("load_demo")
    assert Article.objects.count() == 2
    assert Reference.objects.count() == 5
    for username in ("editor", "reviewer", "admin"):
        assert User.objects.get(username=username).check_password("demo-pass-for-tests")
    ketamine = Article.objects.get(slug="ketamine-depression-ptsd-evidence")
    assert ketamine.sections.count() == 4
    # Every factual statement cites a source; the rest are marked as context.
    assert not Claim.objects.filter(section__article=ketamine, is_context=False, citations__isnull=True).exists()
    assert Claim.objects.filter(section__article=ketamine, is_context=True).count() == 2
    assert all(reference.raw_metadata for reference in Reference.objects.all())
    # Recorded Crossref answers: every demo source is verified and can support a claim.
    assert all(ref.from_authority and ref.counts_as_support for ref in Reference.objects.all())
    # One article went live through review, the other waits in the queue.
    assert ketamine.status == "published"
    assert ketamine.revisions.count() == 1
    assert ketamine.audit_entries.filter(action="approve", actor__username="reviewer").exists()
    assert Article.objects.get(slug="stimulants-animal-studies").status == "in_review"
    assert list(Article.objects.published()) == [ketamine]


def test_demo_pages_serve_the_published_article_and_the_queue(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-for-tests")
    call_command("load_demo")
    page = client.get("/articles/ketamine-depression-ptsd-evidence/")
    assert page.status_code == 200
    assert "Ketamine blocks NMDA receptors" in page.content.decode()
    assert client.get("/articles/stimulants-animal-studies/").status_code == 404
    assert client.login(username="reviewer", password="demo-pass-for-tests")
    queue = client.get("/review/")
    assert "Stimulant medication and animal studies" in queue.content.decode()


def test_generated_password_is_printed_once(monkeypatch, capsys):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("load_demo")
    first = capsys.readouterr().out
    assert "have the password:" in first
    password = first.split("have the password:")[1].split()[0]
    assert User.objects.get(username="editor").check_password(password)
    call_command("load_demo")
    assert "passwords unchanged" in capsys.readouterr().out
    assert User.objects.get(username="editor").check_password(password)

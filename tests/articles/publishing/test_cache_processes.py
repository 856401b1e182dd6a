"""In the embedded default (SQLite, no Redis), a change made by another process reaches readers at once.

A gunicorn server runs with the default configuration on a SQLite file of this
test's own; cron is played by ``manage.py publish_scheduled`` and a shell by
``manage.py shell -c``, each a process of its own. The server caches pages in its
own memory; what must reach it is the news that they changed.
"""

import secrets
import sqlite3
import sys
import zlib

import pytest

from tests.psychly.test_two_servers import Server, run, task


@pytest.fixture
def embedded_site(tmp_path):
    import os

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST", "DJANGO_")) and key not in {"REDIS_URL", "CACHE_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="psychly.settings", PSYCHLY_READ_DOT_ENV="0", DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64), ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite3'}",
        SECURE_SSL_REDIRECT="0", SECURE_COOKIES="0", STATIC_MANIFEST="0", AXES_ENABLED="0", WEB_CONCURRENCY="1",
    )
    env.pop("DATABASE_REPLICA_URL", None)
    run([sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"], env)
    return env, tmp_path / "site.sqlite3"


def tamper_with_the_stored_page(database, pk, old, new):
    """Change the stored page behind the server's back: only a cached copy still shows ``old``."""
    with sqlite3.connect(database) as connection:
        (html,) = connection.execute("SELECT html FROM articles_articlepage WHERE article_id = ?", (pk,)).fetchone()
        html = zlib.decompress(html).replace(old.encode(), new.encode())
        connection.execute("UPDATE articles_articlepage SET html = ? WHERE article_id = ?", (zlib.compress(html), pk))


def test_cron_and_shell_changes_reach_the_servers_cached_pages_at_once(embedded_site):
    env, database = embedded_site
    slug = f"embedded-{secrets.token_hex(4)}"
    first = task(env, "create", slug, secrets.token_urlsafe(16))
    new_text = f"A second trial ({slug}) replicated the effect within a week."
    task(env, "revise", str(first["pk"]), new_text)
    run([sys.executable, "manage.py", "shell", "-c", (
        "from datetime import timedelta; from django.utils import timezone; from articles.review import workflow; "
        "from articles.models import Article; a = Article.objects.get(pk=%d); "
        "workflow.schedule(a, by=a.authors.get(), at=timezone.now() + timedelta(minutes=5)); "
        "Article.objects.filter(pk=a.pk).update(scheduled_at=timezone.now())" % first["pk"])], env)
    server = Server(env)
    try:
        url = f"/articles/{slug}/"
        status, page = server.get(url)
        assert status == 200 and first["text"] in page
        tamper_with_the_stored_page(database, first["pk"], first["text"], "Changed behind the cache's back.")
        assert first["text"] in server.get(url)[1], "the page is served from the server's cache"
        assert first["text"] in server.get("/")[1] or slug in server.get("/")[1]

        out = run([sys.executable, "manage.py", "publish_scheduled"], env)
        assert "Published" in out
        status, page = server.get(url)
        assert status == 200
        assert new_text in page and first["text"] not in page

        run([sys.executable, "manage.py", "shell", "-c", (
            "from articles.review import workflow; from articles.models import Article; "
            "a = Article.objects.get(pk=%d); workflow.unpublish(a, by=a.authors.get())" % first["pk"])], env)
        with pytest.raises(Exception) as answer:
            server.get(url)
        assert getattr(answer.value, "code", None) == 404
        assert slug not in server.get("/")[1]
    finally:
        server.stop()

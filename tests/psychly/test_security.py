"""Secure by default: deploy checks, security headers on every page type, sign-in throttling, the security log."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from articles.review import workflow
from tests.factories import make_editor, make_reviewer, make_supported_article

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-staple-42"


def test_check_deploy_is_clean_with_only_a_key_and_hosts():
    # A clean environment: nothing from pytest-env, no .env, only what a deployment must set.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PSYCHLY_READ_DOT_ENV": "0",
        "SECRET_KEY": "k3y-" + "9f8e7d6c5b4a3928171605f4e3d2c1b0a9f8e7d6c5b4a3928171605f4e3d2c1b0",
        "ALLOWED_HOSTS": "psychly.example",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.fixture
def site(db):
    editor = make_editor("edna")
    reviewer = make_reviewer("rita")
    article = make_supported_article("Sleep and mood", author=editor)
    workflow.submit(article, by=editor)
    return {"editor": editor, "reviewer": reviewer, "article": article}


def _pages(site):
    pk = site["article"].pk
    return [
        ("home", None, "/", 200),
        ("missing page", None, "/articles/no-such-article/", 404),
        ("admin sign-in", None, "/admin/login/", 200),
        ("review queue", "reviewer", "/review/", 200),
        ("review page", "reviewer", f"/review/{pk}/", 200),
        ("refused", "editor", "/review/", 403),
        ("admin change page", "editor", f"/admin/articles/article/{pk}/change/", 200),
        ("admin workflow page", "editor", f"/admin/articles/article/{pk}/workflow/withdraw/", 200),
    ]


def _directives(header):
    return {
        part.split()[0]: part.split()[1:]
        for part in (p.strip() for p in header.split(";")) if part
    }


def test_every_page_type_sends_csp_and_denies_framing(client, site):
    for name, role, url, status in _pages(site):
        client.logout()
        if role:
            client.force_login(site[role])
        response = client.get(url)
        assert response.status_code == status, name
        csp = _directives(response["Content-Security-Policy"])
        assert csp["script-src"] == ["'self'"], name
        assert "'unsafe-inline'" not in csp.get("default-src", []), name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert csp["object-src"] == ["'none'"], name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["Referrer-Policy"] == "strict-origin-when-cross-origin", name


def test_our_templates_hold_no_inline_script():
    # The CSP allows scripts only from files; an inline <script> would be blocked in the browser.
    offenders = []
    for template in ROOT.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        for chunk in text.split("<script")[1:]:
            opening = chunk.split(">", 1)[0]
            if "src=" not in opening and "application/ld+json" not in opening:
                offenders.append(str(template.relative_to(ROOT)))
        if " onclick=" in text or " onload=" in text or "javascript:" in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_sign_in_is_throttled_through_the_admin_form(client, settings, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    make_editor("edna", password=PASSWORD)
    for attempt in range(3):
        response = client.post("/admin/login/?next=/admin/", {"username": "edna", "password": f"wrong-{attempt}"})
        assert "_auth_user_id" not in client.session
    assert response.status_code in (403, 429)
    # Locked out: even the right password is refused now.
    response = client.post("/admin/login/?next=/admin/", {"username": "edna", "password": PASSWORD})
    assert response.status_code in (403, 429)
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302
    # Another account from the same address is not locked out by edna's failures.
    make_editor("eddie", password=PASSWORD)
    response = client.post("/admin/login/?next=/admin/", {"username": "eddie", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_below_the_limit_a_correct_password_still_signs_in(client, settings, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    make_editor("edna", password=PASSWORD)
    client.post("/admin/login/", {"username": "edna", "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": "edna", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.fixture
def security_log(caplog):
    # The "psychly" logger does not propagate to the root, where caplog listens.
    logger = logging.getLogger("psychly.auth")
    logger.addHandler(caplog.handler)
    caplog.set_level(logging.INFO, logger="psychly.auth")
    yield caplog
    logger.removeHandler(caplog.handler)


def _messages(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "psychly.auth"]


def test_sign_ins_and_failures_are_logged_without_passwords(client, security_log, db):
    make_editor("edna", password=PASSWORD)
    client.post("/admin/login/", {"username": "edna", "password": "not-my-password"})
    client.post("/admin/login/?next=/admin/", {"username": "edna", "password": PASSWORD})
    client.post("/admin/logout/")
    messages = _messages(security_log)
    assert any(m.startswith("failed sign-in: username='edna' from 127.0.0.1") for m in messages), messages
    assert any(m.startswith("sign-in: user='edna'") for m in messages), messages
    assert any(m.startswith("sign-out: user='edna'") for m in messages), messages
    assert not any("not-my-password" in m or PASSWORD in m for m in messages)
    failed = [r for r in security_log.records if r.getMessage().startswith("failed")]
    assert failed[0].levelno == logging.WARNING


def test_refused_authorisations_are_logged(client, security_log, site):
    client.force_login(site["editor"])
    assert client.get("/review/").status_code == 403
    client.force_login(site["reviewer"])
    assert client.get("/admin/articles/article/add/").status_code == 403
    messages = _messages(security_log)
    assert any(m.startswith("refused: user='edna'") and "GET /review/" in m for m in messages), messages
    assert any(m.startswith("refused: user='rita'") and "/admin/articles/article/add/" in m for m in messages)


def test_csrf_refusals_are_logged(security_log, site):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(site["reviewer"])
    response = client.post(f"/review/{site['article'].pk}/request-changes/", {"comment": "No."})
    assert response.status_code == 403
    assert any(m.startswith("refused (CSRF): user='rita'") for m in _messages(security_log))


def test_lockouts_are_logged(client, settings, security_log, db):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 2
    User.objects.create_user("edna", password=PASSWORD, is_staff=True)
    for _ in range(3):
        client.post("/admin/login/", {"username": "edna", "password": "wrong"})
    assert any(m.startswith("sign-in locked out: username='edna'") for m in _messages(security_log))

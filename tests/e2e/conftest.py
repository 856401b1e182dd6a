"""Browser fixtures: headless Debian Chromium driven by Playwright against pytest-django's live server.

Without /usr/bin/chromium (or PSYCHLY_CHROMIUM) every test here is skipped with
that reason in pytest's summary; Playwright never downloads a browser.
One browser is launched per session; each test gets a fresh context (cookies)
through ``browser_context`` and pages through ``open_page``, which record every
console message and Content-Security-Policy violation. A test fails if any page
reported a CSP violation.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses
# ORM calls from a thread with a running loop unless told this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("PSYCHLY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
E2E_DIR = Path(__file__).parent
SCREENSHOTS = E2E_DIR / "screenshots"
PASSWORD = "correct-horse-battery-staple-42"

# Registered by every page before its own scripts run: the browser reports each
# CSP violation as an event the page can see.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
});
"""


def pytest_collection_modifyitems(config, items):
    """Skip the journeys, saying why, when there is no Chromium to drive."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(
        reason=f"browser journeys skipped: no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)"
    )
    for item in items:
        if Path(str(item.fspath)).is_relative_to(E2E_DIR):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def editorial_groups(transactional_db):
    """The Editors and Reviewers groups as the migrations make them, whatever ran first."""
    from tests.factories import ensure_editorial_groups

    ensure_editorial_groups()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


class BrowserSession:
    """One signed-in (or anonymous) person: a browser context, its pages, screenshots and CSP reports."""

    def __init__(self, context, base_url, shots_dir):
        self.context = context
        self.base_url = base_url.rstrip("/")
        self.shots_dir = shots_dir
        self.console = []
        self.shot_count = 0
        self.pages = []

    def new_page(self):
        page = self.context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: self.console.append((message.type, message.text, page.url)))
        self.pages.append(page)
        return page

    def url(self, path):
        return self.base_url + path

    def screenshot(self, page, name):
        """Save a full-page PNG under tests/e2e/screenshots/<test>/ (git ignores it)."""
        self.shot_count += 1
        self.shots_dir.mkdir(parents=True, exist_ok=True)
        path = self.shots_dir / f"{self.shot_count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def sign_in(self, page, username, password=PASSWORD):
        """Through the real admin login form."""
        page.goto(self.url("/admin/login/?next=/admin/"))
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        # Signed in once the login page is left: editors reach the admin, reviewers their queue (/review/).
        page.wait_for_url(lambda url: "/admin/login/" not in url)
        page.wait_for_selector("#user-tools, .review-queue, h1:has-text('Review queue')")

    def csp_violations(self):
        found = [text for kind, text, url in self.console if "Content Security Policy" in text]
        for page in self.pages:
            if not page.is_closed():
                found += page.evaluate("window.__cspViolations || []")
        return found


@pytest.fixture
def open_session(browser, live_server, request):
    """A factory of browser sessions (one per person); fails the test if any page broke the CSP."""
    sessions = []
    safe_name = re.sub(r"[^\w.-]+", "_", request.node.name)

    def factory(label):
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.add_init_script(CSP_LISTENER)
        session = BrowserSession(context, live_server.url, SCREENSHOTS / safe_name / label)
        sessions.append(session)
        return session

    yield factory
    violations = [v for session in sessions for v in session.csp_violations()]
    for session in sessions:
        session.context.close()
    assert violations == [], f"Content-Security-Policy violations: {violations}"

"""The site behind a real Varnish (Debian's varnish and varnish-modules) with psychly/varnish/psychly.vcl."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from articles.models import Article, Claim
from articles.review import workflow
from tests.articles.publish_helpers import make_published, publish
from tests.factories import make_editor, make_reference, make_reviewer

VCL = Path(__file__).resolve().parents[3] / "psychly" / "varnish" / "psychly.vcl"
XKEY_VMOD = Path("/usr/lib/x86_64-linux-gnu/varnish/vmods/libvmod_xkey.so")

pytestmark = [
    # Serialized like the suite's other transactional tests, so the data migrations' rows are back for the next one.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("varnishd"), reason="no varnishd (apt-get install varnish; .ci/run does)"),
]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def varnish(live_server, tmp_path, settings):
    """varnishd in front of the live server, with the project's VCL; the app purges it."""
    if not XKEY_VMOD.exists() and not list(Path("/usr/lib").glob("*/varnish/vmods/libvmod_xkey.so")):
        pytest.skip("no xkey vmod (apt-get install varnish-modules; .ci/run does)")
    app_port = live_server.url.rsplit(":", 1)[1]
    port = _free_port()
    # Varnish reads the VCL and runs its worker as its own user, which cannot enter pytest's private folders.
    workdir = tempfile.mkdtemp(prefix="psychly-varnish-")
    os.chmod(workdir, 0o755)
    vcl = Path(workdir) / "psychly.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{app_port}";', 1))
    vcl.chmod(0o644)
    process = subprocess.Popen(
        ["varnishd", "-F", "-n", str(Path(workdir) / "state"), "-a", f"127.0.0.1:{port}", "-f", str(vcl),
         "-s", "malloc,32m", "-T", "127.0.0.1:0", "-p", "default_grace=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/healthz", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                pytest.fail("varnishd did not start: " + process.stderr.read().decode()[-2000:])
            time.sleep(0.1)
    settings.FRONTEND_CACHE_VARNISH_URLS = [url]
    settings.ALLOWED_HOSTS = ["*"]
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _get(url, **kwargs):
    response = requests.get(url, timeout=10, **kwargs)
    assert response.status_code == 200, (url, response.status_code)
    return response


def test_a_published_revision_is_served_through_varnish_the_moment_it_is_published(varnish):
    editor, reviewer = make_editor("vera"), make_reviewer("victor")
    article = make_published("Sleep and mood", editor=editor, reviewer=reviewer)
    page = varnish + article.get_absolute_url()
    assert _get(page).headers["X-Cache"] == "MISS"
    cached = _get(page)
    assert cached.headers["X-Cache"] == "HIT"
    assert "xkey" not in cached.headers, "the keys are for the caches, not for readers"

    claim = Claim.objects.get(section__article=article, text__contains="within a day")
    claim.text = "A single infusion reduced depressive symptoms within two days."
    claim.save()
    publish(Article.objects.get(pk=article.pk), editor=editor, reviewer=reviewer)
    fresh = _get(page)
    assert fresh.headers["X-Cache"] == "MISS" and "within two days" in fresh.text
    assert "within a day." not in fresh.text


def test_a_retraction_purges_only_the_pages_that_cite_the_source(varnish):
    from tests.articles.test_signals import retract

    editor, reviewer = make_editor("vera"), make_reviewer("victor")
    cited = make_reference()
    citing = make_published("Citing", editor=editor, reviewer=reviewer, references=[cited, make_reference()])
    bystander = make_published("Bystander", editor=editor, reviewer=reviewer,
                               references=[make_reference(), make_reference()])
    pages = [varnish + citing.get_absolute_url(), varnish + bystander.get_absolute_url(), varnish + "/"]
    for page in pages:
        _get(page)
        assert _get(page).headers["X-Cache"] == "HIT", page

    retract(cited)
    citing_now, bystander_now, home_now = (_get(page) for page in pages)
    assert citing_now.headers["X-Cache"] == "MISS" and "Retracted" in citing_now.text
    assert bystander_now.headers["X-Cache"] == "HIT"
    assert home_now.headers["X-Cache"] == "HIT"


def test_a_signed_in_request_is_never_cached_nor_served_to_others(varnish, client):
    editor, reviewer = make_editor("vera"), make_reviewer("victor")
    article = make_published("Sleep and mood", editor=editor, reviewer=reviewer)
    client.force_login(reviewer)
    cookie = {"sessionid": client.cookies["sessionid"].value}
    page = varnish + article.get_absolute_url()
    for _ in range(2):
        signed_in = _get(page, cookies=cookie)
        assert signed_in.headers["X-Cache"] == "MISS"
        assert "private" in signed_in.headers["Cache-Control"]
    anonymous = _get(page)
    assert anonymous.headers["X-Cache"] == "MISS", "what the signed-in reader got was not kept for others"
    assert "public" in anonymous.headers["Cache-Control"]


def test_tracking_parameters_share_one_cached_copy_and_purges_need_an_allowed_address(varnish):
    editor, reviewer = make_editor("vera"), make_reviewer("victor")
    article = make_published("Sleep and mood", editor=editor, reviewer=reviewer)
    page = varnish + article.get_absolute_url()
    _get(page)
    assert _get(page + "?utm_source=newsletter&utm_medium=email").headers["X-Cache"] == "HIT"
    refused = requests.request("PURGE", varnish + "/", headers={}, timeout=5)
    assert refused.status_code == 400
    workflow.flag_for_rereview(article, reason="Checking.")  # a page change: purged
    assert _get(page).headers["X-Cache"] == "MISS"

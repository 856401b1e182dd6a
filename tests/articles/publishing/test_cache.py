"""Public pages are cached for anonymous readers and invalidated, on commit, by what changes them.

Every test runs twice: with the local-memory cache of a single process, and
with Redis, where each process also keeps pages in its own memory and learns of
invalidations from Redis (tests/articles/publishing/test_cache_local.py tests that part).
"""

import pytest
from django.core.cache import cache
from django.test import override_settings

from articles.review import workflow
from articles.publishing.cache import LISTS, generations, tokens_store
from references.models import Reference, RetractionStatus
from references.signals import reference_status_changed
from tests.articles.publish_helpers import make_published, publish

pytestmark = pytest.mark.django_db

LIST_URLS = ["/", "/feed/", "/sitemap.xml", "/search/?q=ketamine"]


@pytest.fixture(autouse=True, params=["local memory", "redis"])
def page_cache_backend(request):
    if request.param == "redis":
        request.getfixturevalue("redis_page_cache")
    yield request.param
    cache.clear()


@pytest.fixture
def live(editor, reviewer):
    return make_published("Ketamine cached", editor=editor, reviewer=reviewer)


# A cached hit: with Redis, none (the page and its tokens come from Redis, or from the worker's own memory);
# with the per-process local-memory cache, one: the page's generation tokens from the database, which every
# process shares, so a publish from another worker, cron or a shell is seen at once.
HIT_QUERIES = {"redis": 0, "local memory": 1}


@pytest.mark.parametrize("url", ["article", *LIST_URLS])
def test_a_cached_page_costs_no_query_with_redis_and_one_without(
    client, live, url, page_cache_backend, django_assert_num_queries
):
    url = live.get_absolute_url() if url == "article" else url
    first = client.get(url)
    assert first.status_code == 200
    with django_assert_num_queries(HIT_QUERIES[page_cache_backend]):
        second = client.get(url)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]


def test_publishing_a_new_version_replaces_the_cached_page_and_lists(client, live, editor, reviewer):
    client.get(live.get_absolute_url())
    client.get("/")
    live.title = "Ketamine revised"
    live.save()
    publish(live, editor=editor, reviewer=reviewer)
    assert "Ketamine revised" in client.get(live.get_absolute_url()).content.decode()
    assert "Ketamine revised" in client.get("/").content.decode()


def test_publishing_a_new_article_refreshes_cached_lists(client, live, editor, reviewer):
    for url in LIST_URLS:
        client.get(url)
    newcomer = make_published("Ketamine newcomer", editor=editor, reviewer=reviewer)
    for url in LIST_URLS:
        assert newcomer.slug in client.get(url).content.decode(), url


def test_unpublishing_removes_the_cached_page_and_list_entries(client, live, editor):
    for url in [live.get_absolute_url(), *LIST_URLS]:
        assert live.slug in client.get(url).content.decode()
    workflow.unpublish(live, by=editor, reason="Checking.")
    assert client.get(live.get_absolute_url()).status_code == 404
    for url in LIST_URLS:
        assert live.slug not in client.get(url).content.decode(), url


def test_archiving_a_published_article_removes_its_cached_page(client, live, editor):
    client.get(live.get_absolute_url())
    workflow.archive(live, by=editor)
    assert client.get(live.get_absolute_url()).status_code == 404


def test_invalidation_runs_again_on_commit(live, editor, django_capture_on_commit_callbacks):
    before = generations([f"article:{live.slug}", LISTS])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.unpublish(live, by=editor)
    during = generations([f"article:{live.slug}", LISTS])
    assert all(a != b for a, b in zip(before, during)), "invalidated at once"
    for callback in callbacks:
        callback()
    after = generations([f"article:{live.slug}", LISTS])
    # A reader who rendered the old rows between the write and the commit cached them under `during`.
    assert all(a != b for a, b in zip(during, after)), "and again on commit"


def test_a_reference_status_change_refreshes_the_pages_citing_it(client, live, editor, reviewer):
    other = make_published("Unrelated", editor=editor, reviewer=reviewer)
    url = live.get_absolute_url()
    client.get(url)
    client.get(other.get_absolute_url())
    reference = Reference.objects.get(pk=live.published_revision.snapshot["references"][0]["id"])
    Reference.objects.filter(pk=reference.pk).update(retraction_status=RetractionStatus.RETRACTED)
    reference.refresh_from_db()
    reference_status_changed.send(sender=Reference, reference=reference, was_support=True, is_support=False,
                                  newly_retracted=True, changes={})
    assert "Retracted since this article was published." in client.get(url).content.decode()


def test_signed_in_staff_never_get_or_fill_the_cache(client, live, editor):
    url = live.get_absolute_url()
    client.force_login(editor)
    staff_page = client.get(url).content.decode()
    assert "Preview the working copy" in staff_page
    client.logout()
    public = client.get(url).content.decode()
    assert "Preview the working copy" not in public and "Editorial desk" not in public
    client.force_login(editor)
    assert "Preview the working copy" in client.get(url).content.decode()


def test_404s_are_not_cached(client, live, editor, reviewer, page_cache_backend, django_assert_num_queries):
    url = "/articles/not-yet/"
    assert client.get(url).status_code == 404
    # The lookup of the article, after reading the tokens (a query without Redis).
    with django_assert_num_queries(1 + HIT_QUERIES[page_cache_backend]):
        assert client.get(url).status_code == 404


def test_a_response_setting_a_cookie_is_not_cached(rf, live):
    from django.http import HttpResponse

    from articles.publishing.cache import cached_public_page, lists_scope

    calls = []

    @cached_public_page(lists_scope)
    def view(request):
        calls.append(1)
        response = HttpResponse("hello")
        response.set_cookie("tracking", "1")
        return response

    view(rf.get("/x/"))
    view(rf.get("/x/"))
    assert len(calls) == 2


def test_a_request_with_a_session_cookie_bypasses_the_cache(client, live, django_assert_max_num_queries):
    url = live.get_absolute_url()
    client.get(url)
    client.cookies["sessionid"] = "not-a-real-session"
    with django_assert_max_num_queries(10) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0


def test_an_evicted_generation_token_is_replaced_so_no_old_page_is_served(
    client, live, django_assert_max_num_queries
):
    url = live.get_absolute_url()
    client.get(url)
    old = generations([f"article:{live.slug}"])[0]
    tokens_store().delete(f"psychly:page:generation:article:{live.slug}")
    # Without Redis, writing the new token into the database costs a few queries of Django's DatabaseCache.
    with django_assert_max_num_queries(10) as queries:
        assert client.get(url).status_code == 200
    assert len(queries) > 0, "rendered afresh, not read under the old token"
    assert generations([f"article:{live.slug}"])[0] != old


@override_settings(PAGE_CACHE_SECONDS=0)
def test_page_cache_seconds_zero_turns_storage_off_in_effect(client, live, django_assert_max_num_queries):
    client.get(live.get_absolute_url())
    with django_assert_max_num_queries(5) as queries:
        client.get(live.get_absolute_url())
    assert len(queries) > 0


def stored_pages(backend_name):
    """The page entries (not generation tokens) the shared cache holds now."""
    if backend_name == "redis":
        import redis

        from tests.conftest import PAGE_CACHE_REDIS_URL

        keys = redis.Redis.from_url(PAGE_CACHE_REDIS_URL).keys("*")
    else:
        keys = list(cache._cache)
    return [key for key in keys if b"generation" not in (key if isinstance(key, bytes) else key.encode())]


def test_tracking_parameters_add_no_cache_entries(client, live, page_cache_backend):
    url = live.get_absolute_url()
    canonical = client.get(url)
    before = len(stored_pages(page_cache_backend))
    assert before >= 1
    for n in range(3000):
        response = client.get(f"{url}?utm_source=n{n}&fbclid={n}")
        assert response.status_code == 200
    assert response.content == canonical.content
    assert len(stored_pages(page_cache_backend)) == before


def test_a_variant_is_served_the_canonical_entry(client, live, page_cache_backend, django_assert_num_queries):
    client.get("/search/?q=ketamine")
    with django_assert_num_queries(HIT_QUERIES[page_cache_backend]):
        assert b"Ketamine cached" in client.get("/search/?utm_medium=mail&q=ketamine&gclid=x").content


def test_a_variant_fills_the_canonical_entry(client, live, page_cache_backend, django_assert_num_queries):
    before = len(stored_pages(page_cache_backend))
    assert b"Ketamine cached" in client.get("/search/?q=ketamine&mc_cid=1").content
    assert len(stored_pages(page_cache_backend)) == before + 1
    with django_assert_num_queries(HIT_QUERIES[page_cache_backend]):
        assert b"Ketamine cached" in client.get("/search/?q=ketamine").content


def test_the_parameters_a_page_reads_still_make_their_own_pages(client, live):
    assert b"Ketamine cached" in client.get("/search/?q=ketamine").content
    assert b"Ketamine cached" not in client.get("/search/?q=zzzz-nothing").content
    assert b"Ketamine cached" in client.get("/search/?q=ketamine&ref=newsletter").content


def test_page_numbers_beyond_a_bound_are_not_stored(client, live, page_cache_backend, editor, reviewer):
    from tests.articles.publish_helpers import make_topic

    make_topic("Depression").articles.add(live)
    client.get("/topics/depression/")
    before = len(stored_pages(page_cache_backend))
    for value in ["abc", "99999999", "-1", "1x", "\u00b2"]:
        assert client.get(f"/topics/depression/?page={value}").status_code in (200, 404)
    assert len(stored_pages(page_cache_backend)) == before
    client.get("/topics/depression/?page=1")
    assert len(stored_pages(page_cache_backend)) == before + 1


def test_a_page_larger_than_the_entry_cap_is_not_stored(client, live, settings, page_cache_backend):
    settings.PAGE_CACHE_MAX_ENTRY_KIB = 1
    before = len(stored_pages(page_cache_backend))
    assert len(client.get(live.get_absolute_url()).content) > 1024
    assert len(stored_pages(page_cache_backend)) == before

"""backfill_portal.cache: Django's Redis cache with one client per pool, against the real Redis (REDIS_URL)."""

import threading

import pytest
from django.conf import settings

from backfill_portal.cache import SharedClientRedisCache
from tests.needs import needs_service

pytestmark = needs_service(bool(settings.REDIS_URL), reason="needs Redis (REDIS_URL), as in CI")


@pytest.fixture
def redis_cache():
    cache = SharedClientRedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache-backend"})
    yield cache
    cache.delete_many(["a", "b", "counter"])


def test_it_reuses_one_client_and_behaves_as_djangos_redis_cache(redis_cache):
    client = redis_cache._cache.get_client()
    assert redis_cache._cache.get_client(write=True) is client

    redis_cache.set("a", {"page": b"<html>"}, 30)
    redis_cache.set("b", (1, b"x", "text/html"), 30)
    assert redis_cache.get_many(["a", "b", "missing"]) == {
        "a": {"page": b"<html>"},
        "b": (1, b"x", "text/html"),
    }
    assert redis_cache.add("a", "other", 30) is False
    redis_cache.delete("a")
    assert redis_cache.get("a") is None


def test_the_shared_client_serves_many_threads_at_once(redis_cache):
    redis_cache.set("counter", 0, 30)
    errors = []

    def work():
        try:
            for _ in range(200):
                redis_cache.incr("counter")
        except Exception as error:  # noqa: BLE001 - any failure of a thread fails the test below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert redis_cache.get("counter") == 1600

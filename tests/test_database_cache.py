"""backfill_portal.cache.CounterDatabaseCache: the embedded default's cache, whose counters back the objection
throttle when there is no Redis. Runs on whichever database the suite uses (SQLite or PostgreSQL)."""

import datetime
import threading

import pytest
from django.core.cache import CacheHandler
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from backfill_portal.cache import CounterDatabaseCache

TABLE = "test_counter_cache"


@pytest.fixture
def counter_cache(transactional_db):
    caches = CacheHandler(
        {"counter": {"BACKEND": "backfill_portal.cache.CounterDatabaseCache", "LOCATION": TABLE}}
    )
    call_command("createcachetable", TABLE, verbosity=0)
    cache = caches["counter"]
    assert isinstance(cache, CounterDatabaseCache)
    yield cache
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(TABLE)}")


def stored_expiry(cache, key) -> datetime.datetime:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT expires FROM {connection.ops.quote_name(TABLE)} WHERE cache_key = %s",
            [cache.make_key(key)],
        )
        (expires,) = cursor.fetchone()
    if isinstance(expires, str):  # SQLite hands back text
        expires = datetime.datetime.fromisoformat(expires)
    return expires if timezone.is_aware(expires) else timezone.make_aware(expires, datetime.UTC)


def test_it_counts_without_moving_the_counters_expiry(counter_cache):
    # django-ratelimit adds the counter with its window (an hour for "5/h"), then increments it. Django's own
    # incr() re-saved it with the default 300 s timeout, so the window shrank to five quiet minutes.
    assert counter_cache.add("objections:1.2.3.4", 1, 3600)
    expiry = stored_expiry(counter_cache, "objections:1.2.3.4")
    assert expiry > timezone.now() + datetime.timedelta(minutes=59)

    for expected in range(2, 7):
        assert counter_cache.incr("objections:1.2.3.4") == expected

    assert counter_cache.get("objections:1.2.3.4") == 6
    assert stored_expiry(counter_cache, "objections:1.2.3.4") == expiry


def test_it_refuses_to_count_a_missing_or_expired_key(counter_cache):
    with pytest.raises(ValueError):
        counter_cache.incr("never-added")
    counter_cache.set("gone", 1, -1)  # already expired
    with pytest.raises(ValueError):
        counter_cache.incr("gone")


@pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLite has one writer at a time: nothing to race")
def test_concurrent_increments_lose_no_count(counter_cache):
    counter_cache.add("race", 0, 3600)
    errors = []

    def work():
        try:
            for _ in range(20):
                counter_cache.incr("race")
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert counter_cache.get("race") == 80

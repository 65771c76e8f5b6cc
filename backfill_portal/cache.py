"""Cache backends. Django's Redis cache backend, with one redis client per connection pool instead of one per call.

Django's RedisCacheClient.get_client() builds a new `redis.Redis` for every cache operation; building one (its
response callbacks, its retry settings) cost about as much as the round trip to Redis itself, and the public pages'
cache hits make two operations a request (bench/README.md). A `redis.Redis` is safe to share between threads (it
takes a connection from the pool per command), and the pools are Django's own, so nothing else changes."""

import base64
import logging
import pickle
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# Per server (LOCATION), until when FailSafeRedisCache skips the cache after an error: shared by the threads of a
# process (Django's cache objects are per thread).
_bypass_until: dict[str, float] = {}
_UNAVAILABLE = object()
# FailSafeRedisCache.count(): INCR, and the expiry set by the call that created the counter. A value Django's
# RedisSerializer wrote for an int is the int's digits, so the counter is the one add() and incr() would keep.
_COUNT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class SharedClientRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        return SharedClientRedisCacheClient(self._servers, **self._options)


class CounterDatabaseCache(DatabaseCache):
    """Django's database cache, with an incr() that keeps the key's expiry and is atomic.

    The base class's incr() is a get() followed by a set() with the default timeout (300 s): a throttle's
    counter (django-ratelimit adds it with the window's length, then increments it) was re-saved to expire five
    minutes after each hit, so "5 an hour" became 5 every quiet 5 minutes. Here the value is read with its row
    locked (SELECT … FOR UPDATE where the database has it; SQLite serialises writers anyway) and updated in
    place, expiry untouched, so concurrent increments neither lose a count nor extend the window."""

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table, cache_key, value_column, expires_column = (
            quote_name(name) for name in (self._table, "cache_key", "value", "expires")
        )
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {value_column}, {expires_column} FROM {table} WHERE {cache_key} = %s{lock}", [key]
            )
            row = cursor.fetchone()
            expires = row[1] if row else None
            for converter in converters if row else ():
                expires = converter(expires, expression, connection)
            if row is None or expires < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode())) + delta
            pickled = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET {value_column} = %s WHERE {cache_key} = %s", [pickled, key])
        return value


class FailSafeRedisCache(SharedClientRedisCache):
    """The Redis cache where a cache that is down or slow never fails its caller (docs/architecture.md, "When the
    cache or the broker is down"): each call is bounded by the socket timeouts in OPTIONS (settings.CACHES), and an
    error is logged and answered as a miss — get() gives the default, add() and set() store nothing, incr() raises
    ValueError as for a missing key (django-ratelimit then applies RATELIMIT_FAIL_OPEN). After an error the cache is
    bypassed without a call for CACHE_RETRY_AFTER_SECONDS, so a slow cache costs one timeout per process and per
    period, not one per call, and the log gets one line per period."""

    def _guarded(self, fallback, operation, *args, **kwargs):
        if time.monotonic() < _bypass_until.get(self._servers[0], 0.0):
            return fallback
        try:
            return operation(*args, **kwargs)
        except RedisError as error:
            retry_after = settings.CACHE_RETRY_AFTER_SECONDS
            _bypass_until[self._servers[0]] = time.monotonic() + retry_after
            log.warning(
                "cache unavailable (%s: %s): bypassed for %ss", type(error).__name__, error, retry_after
            )
            return fallback

    def available(self) -> bool:
        """Whether the cache answers a PING now (bounded by the socket timeout); False while it is bypassed."""
        return self._guarded(False, lambda: bool(self._cache.get_client().ping()))

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guarded(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._guarded({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        value = self._guarded(_UNAVAILABLE, super().incr, key, delta, version)
        if value is _UNAVAILABLE:
            raise ValueError(f"Key '{key}' not found: the cache is unavailable")
        return value

    def count(self, key, timeout, version=None):
        """Add 1 to the counter `key`, created with `timeout` seconds to live if absent; its new value, or None when
        the cache is unavailable. One round trip (a Lua script, atomic on the server): django-ratelimit's add()
        then incr() is three commands (SET NX, and Django's incr() is EXISTS then INCRBY) for every counted call."""
        key = self.make_and_validate_key(key, version=version)
        return self._guarded(None, self._count, key, int(timeout))

    def _count(self, key, timeout):
        # The script sent as EVAL on a connection of the client's pool, not through a Script and redis.Redis: their
        # command path (the script's SHA and its reload after a restart, the client's retries and metrics) was 246
        # of the 342 Python calls of the API's throttle, this one 111 (bench/README.md, api.py). The pool still
        # checks a connection before handing it out (one the server closed is replaced), redis-py drops one that
        # failed mid-command, and the server keeps the script compiled by its SHA either way. No retry, as before
        # (the pool's connections had none): a cache that fails is unavailable at once, within the socket timeouts.
        pool = self._cache.get_client(key, write=True).connection_pool
        connection = pool.get_connection()
        try:
            connection.send_command("EVAL", _COUNT_SCRIPT, 1, key, timeout)
            return connection.read_response()
        finally:
            pool.release(connection)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._guarded(None, super().delete_many, keys, version)

    def clear(self):
        return self._guarded(False, super().clear)


def cache_available(alias: str = "default") -> bool:
    """Whether the cache `alias` answers now. A cache that cannot be down on its own (the database cache: the
    database is needed anyway; local memory) always does."""
    cache = caches[alias]
    return cache.available() if isinstance(cache, FailSafeRedisCache) else True

"""Django's Redis cache backend, with one redis client per connection pool instead of one per call.

Django's RedisCacheClient.get_client() builds a new `redis.Redis` for every cache operation; building one (its
response callbacks, its retry settings) cost about as much as the round trip to Redis itself, and the public pages'
cache hits make two operations a request (bench/README.md). A `redis.Redis` is safe to share between threads (it
takes a connection from the pool per command), and the pools are Django's own, so nothing else changes."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


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

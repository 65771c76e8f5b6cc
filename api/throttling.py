"""Throttles per client address (projects.client_address: X-Forwarded-For only through the trusted proxies) and per
user, on django-ratelimit's counters, as the portal's other throttles: one atomic increment of a fixed-window counter
in the default cache (Redis in production). DRF's own SimpleRateThrottle keeps every request's timestamp in one
cached list and rewrites it on each call: racy under concurrency, and its cost grows with the rate.

The rates are settings in django-ratelimit's syntax ("120/m"), read at each request: API_PUBLIC_RATE for the public
endpoints (per address, whoever calls), API_USER_RATE for the others (per user)."""

import time

from django.conf import settings
from django.core.cache import caches
from django_ratelimit import ALL
from django_ratelimit.core import EXPIRATION_FUDGE, _get_window, _make_cache_key, _split_rate, get_usage
from rest_framework.throttling import BaseThrottle

from projects.client_address import client_ip


def _address(group, request) -> str:
    return client_ip(request) or "unknown"


def _user(group, request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return _address(group, request)


class _CounterThrottle(BaseThrottle):
    group = ""
    key = staticmethod(_address)

    def rate(self) -> str:
        raise NotImplementedError

    def allow_request(self, request, view):
        # request._request: the HttpRequest, on which DRF has set the authenticated user.
        usage = _usage(request._request, group=self.group, key=self.key, rate=self.rate())
        self.time_left = usage["time_left"] if usage else None
        return usage is None or not usage["should_limit"]

    def wait(self):
        return max(1, self.time_left) if self.time_left is not None else None


def _usage(request, *, group, key, rate):
    """django-ratelimit's get_usage(…, increment=True), its counter counted in one round trip where the cache can
    (backfill_portal.cache.FailSafeRedisCache.count): the same cache key, window, expiry and answer, the same
    refusal when the cache is unavailable (RATELIMIT_FAIL_OPEN). Any other cache: get_usage itself."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    if not hasattr(cache, "count") or not getattr(settings, "RATELIMIT_ENABLE", True):
        return get_usage(request, group=group, key=key, rate=rate, increment=True)
    limit, period = _split_rate(rate)
    value = key(group, request)
    window = _get_window(value, period)
    count = cache.count(_make_cache_key(group, window, rate, value, ALL), period + EXPIRATION_FUDGE)
    if count is None:
        if getattr(settings, "RATELIMIT_FAIL_OPEN", False):
            return None
        return {"count": 0, "limit": 0, "should_limit": True, "time_left": -1}
    return {
        "count": count,
        "limit": limit,
        "should_limit": count > limit,
        "time_left": window - int(time.time()),
    }


class PublicRateThrottle(_CounterThrottle):
    """The public endpoints: every caller, logged in or not, counted by its address."""

    group = "api.public"
    key = staticmethod(_address)

    def rate(self):
        return settings.API_PUBLIC_RATE


class UserRateThrottle(_CounterThrottle):
    """The endpoints behind a login: counted by user."""

    group = "api.user"
    key = staticmethod(_user)

    def rate(self):
        return settings.API_USER_RATE

"""Throttles per client address (projects.client_address: X-Forwarded-For only through the trusted proxies) and per
user, on django-ratelimit's counters, as the portal's other throttles: one atomic increment of a fixed-window counter
in the default cache (Redis in production). DRF's own SimpleRateThrottle keeps every request's timestamp in one
cached list and rewrites it on each call: racy under concurrency, and its cost grows with the rate.

The rates are settings in django-ratelimit's syntax ("120/m"), read at each request: API_PUBLIC_RATE for the public
endpoints (per address, whoever calls), API_USER_RATE for the others (per user)."""

from django.conf import settings
from django_ratelimit.core import get_usage
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
        usage = get_usage(request._request, group=self.group, key=self.key, rate=self.rate(), increment=True)
        self.time_left = usage["time_left"] if usage else None
        return usage is None or not usage["should_limit"]

    def wait(self):
        return max(1, self.time_left) if self.time_left is not None else None


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

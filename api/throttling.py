"""Throttles per client address (projects.client_address: X-Forwarded-For only through the trusted proxies) and per
user. The rates are settings (API_PUBLIC_RATE, API_USER_RATE); counts live in the default cache (Redis in
production, atomic increments)."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from projects.client_address import client_ip


class PublicRateThrottle(SimpleRateThrottle):
    """The public endpoints: every caller, logged in or not, counted by its address."""

    scope = "public"

    def get_rate(self):
        return (
            settings.API_PUBLIC_RATE
        )  # read at each request: a test or an operator changing it takes effect

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


class UserRateThrottle(SimpleRateThrottle):
    """The endpoints behind a login: counted by user."""

    scope = "user"

    def get_rate(self):
        return settings.API_USER_RATE

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}

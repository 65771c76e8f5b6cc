"""The site's URLs plus three views that fail on purpose, for the error page tests (tests/test_public_site.py)."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from backfill_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401
from backfill_portal.urls import urlpatterns as site_urlpatterns


def fails(request):
    raise RuntimeError("an unexpected failure")


def suspicious(request):
    raise SuspiciousOperation("a forged request")


def forbidden(request):
    raise PermissionDenied("此页面仅供测试。")


urlpatterns = [
    path("test-errors/500/", fails),
    path("test-errors/400/", suspicious),
    path("test-errors/403/", forbidden),
    *site_urlpatterns,
]

"""The page cache's early hit (publicity/page_cache.py, PublicPageCacheMiddleware): a cached public page served to a
visitor without a session cookie before sessions, CSRF, authentication and the URL resolver run must be the page an
uncached request gets — the same headers (CSP, Vary, X-Frame-Options, the security headers, Content-Language,
Content-Length), the same cookies, the same body but for the visitor's own CSRF token — and run no query."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.test_public_pages import clerk, close_and_enter, jiangbei, quick_notice  # noqa: F401 (fixtures)

# The cache is told of a change after its commit: tests that commit.
pytestmark = pytest.mark.django_db(transaction=True)

LOCAL_MEMORY_CACHE = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')
# A CSRF secret as Django's middleware would have set it in an earlier visit (32 characters of its alphabet).
OLD_CSRF_SECRET = "abcdefghijklmnopqrstuvwxyzABCDEF"


@pytest.fixture
def pages(clerk, yuzhong, settings):  # noqa: F811
    settings.CACHES = LOCAL_MEMORY_CACHE  # before the notices: their commits bump the generation in it
    cache.clear()
    notices = [quick_notice(clerk, yuzhong, f"缓存头部工程{n}") for n in range(3)]
    close_and_enter(notices[0], "NP-EARLY-0001")
    code = clerk.membership.enterprise.credit_code
    return {
        "list": reverse("publicity:notice_list"),
        "search": reverse("publicity:notice_list") + "?q=%E7%BC%93%E5%AD%98%E5%A4%B4%E9%83%A8&page=1",
        "detail (a form)": reverse("publicity:notice_detail", args=[notices[1].pk]),
        "library": reverse("publicity:library_list"),
        "library detail": reverse("publicity:library_detail", args=["NP-EARLY-0001"]),
        "业绩 lookup": reverse("publicity:performance_lookup") + f"?q={code}",
    }


def visitor(with_csrf_cookie: bool) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    if with_csrf_cookie:
        client.cookies[settings.CSRF_COOKIE_NAME] = OLD_CSRF_SECRET
    return client


def cookies(response) -> dict:
    """Each cookie set, with its attributes but not its value (a new CSRF secret each time) or its expiry date (the
    clock's second)."""
    return {
        name: {key: value for key, value in morsel.items() if key != "expires"}
        for name, morsel in response.cookies.items()
    }


@pytest.mark.parametrize("with_csrf_cookie", [False, True], ids=["new visitor", "CSRF cookie from before"])
def test_an_early_hit_is_the_uncached_page_header_for_header(pages, settings, with_csrf_cookie):
    for name, url in pages.items():
        settings.PUBLIC_PAGE_CACHE_SECONDS = 0
        uncached = visitor(with_csrf_cookie).get(url)
        settings.PUBLIC_PAGE_CACHE_SECONDS = 30
        visitor(False).get(url)  # another visitor's miss renders and stores it
        with CaptureQueriesContext(connection) as queries:
            hit = visitor(with_csrf_cookie).get(url)

        assert uncached.status_code == hit.status_code == 200, name
        assert not hasattr(hit.wsgi_request, "session"), f"{name}: served before the session middleware"
        assert len(queries) == 0, name
        assert list(hit.items()) == list(uncached.items()), name
        assert cookies(hit) == cookies(uncached), name
        assert TOKEN.sub(b"", hit.content).decode() == TOKEN.sub(b"", uncached.content).decode(), name
        assert b"publicity-page-cache-csrf-token" not in hit.content, name


def test_an_early_hit_still_refuses_a_host_not_allowed(pages, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    visitor(False).get(pages["list"])  # stored

    response = visitor(False).get(pages["list"], HTTP_HOST="evil.example")

    assert response.status_code == 400  # as CommonMiddleware answers every other request for that host


def test_the_headers_carry_the_security_policy_and_vary(pages, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    Client().get(pages["list"])
    hit = Client().get(pages["list"])

    assert not hasattr(hit.wsgi_request, "session")
    assert hit["Vary"] == "Accept-Language, Cookie"
    assert "default-src 'self'" in hit["Content-Security-Policy"]
    assert hit["X-Frame-Options"] == "DENY"
    assert hit["X-Content-Type-Options"] == "nosniff"
    assert hit["Content-Language"] == "zh-hans"
    assert int(hit["Content-Length"]) == len(hit.content)


def test_an_early_hits_csrf_token_is_accepted_with_its_cookie(pages, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    url = pages["detail (a form)"]
    Client().get(url)
    client = Client(enforce_csrf_checks=True)
    hit = client.get(url)
    assert not hasattr(hit.wsgi_request, "session")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', hit.content).group(1).decode()

    refused = Client(enforce_csrf_checks=True).post(url, {"csrfmiddlewaretoken": token})  # without the cookie
    accepted = client.post(url, {"csrfmiddlewaretoken": token})  # the form's errors, not a CSRF refusal

    assert refused.status_code == 403
    assert accepted.status_code == 400 and "异议" in accepted.content.decode()


def test_a_visitor_with_a_session_cookie_goes_the_whole_way(pages, settings, clerk):  # noqa: F811
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    Client().get(pages["list"])
    client = Client()
    client.force_login(clerk)
    client.logout()  # an anonymous visitor whose browser still sends a session cookie
    client.cookies[settings.SESSION_COOKIE_NAME] = "a-session-that-does-not-exist"

    response = client.get(pages["list"])

    assert response.status_code == 200 and hasattr(response.wsgi_request, "session")
    assert response["Vary"] == "Accept-Language, Cookie"


def test_pages_outside_the_cache_are_not_looked_up(settings):
    settings.CACHES = LOCAL_MEMORY_CACHE
    settings.PUBLIC_PAGE_CACHE_SECONDS = 30
    response = Client().get(reverse("login"))

    assert response.status_code == 200 and hasattr(response.wsgi_request, "session")

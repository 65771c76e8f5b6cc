"""A short cache of the public pages for anonymous visitors (bench/notice_pages.py: rendering a page of 20 notices
costs twenty times a bare view; the queries are a fraction of it).

Correctness does not rest on the timeout: every cached page carries the publicity *generation* it was rendered at, a
number bumped after the commit of every transaction that saves or deletes a notice, snapshot or library entry; a
page of an older generation is rendered anew, so a new notice, a pause by an objection, a close or an entry shows at
the next request. What the timeout (PUBLIC_PAGE_CACHE_SECONDS, default 30 s) bounds is only "days left", which moves
with the clock alone. Logged-in users and anything but GET bypass the cache. The cache is never needed: one that is
down or slow is bypassed (backfill_portal/cache.py, FailSafeRedisCache) and the page rendered uncached. A page with a
form (the notice detail's objection form) is cached with a placeholder where the CSRF token goes, and each visitor
gets their own token put in on the way out (`csrf_context`).

A hit for a visitor without a session cookie (every anonymous visitor who has not logged in) is served by
`PublicPageCacheMiddleware` before sessions, authentication, CSRF, messages and the URL resolver run: it stores the
headers the rest of the stack gave the page when it was rendered (CSP, X-Frame-Options, Vary, Content-Language…) and
serves them again, so a hit costs about what the bare view does (bench/README.md). Visitors with a session cookie
(logged in, or an anonymous session) go the whole way, and the view's decorator serves their hits.
"""

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from .models import LibraryEntry, Notice, Snapshot

GENERATION_KEY = "publicity:page-generation"
CSRF_PLACEHOLDER = "publicity-page-cache-csrf-token"


def csrf_context(request) -> dict:
    """For a view's context: while its page is rendered for the cache, {% csrf_token %} writes the placeholder."""
    if getattr(request, "renders_for_page_cache", False):
        return {"csrf_token": CSRF_PLACEHOLDER}
    return {}


def generation() -> int:
    value = cache.get(GENERATION_KEY)
    if value is None:
        value = time.time_ns()
        cache.add(GENERATION_KEY, value, None)
    return value


def bump_generation():
    cache.set(GENERATION_KEY, time.time_ns(), None)


@receiver(post_save, sender=Notice, dispatch_uid="publicity.page_cache.notice_saved")
@receiver(post_delete, sender=Notice, dispatch_uid="publicity.page_cache.notice_deleted")
@receiver(post_save, sender=Snapshot, dispatch_uid="publicity.page_cache.snapshot_saved")
@receiver(post_save, sender=LibraryEntry, dispatch_uid="publicity.page_cache.entry_saved")
@receiver(post_delete, sender=LibraryEntry, dispatch_uid="publicity.page_cache.entry_deleted")
def public_content_changed(sender, **kwargs):
    # The cache is told after the commit, never inside the transaction (a cache that is down or slow must not hold
    # or fail a notice's close or a delivery: docs/architecture.md, "When the cache or the broker is down"). A page
    # rendered by another request before the commit carries the old generation and is not served after it. Until
    # then this transaction's own pages are rendered uncached: they must show its change.
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        connection.public_content_changed = True
    transaction.on_commit(_content_committed, robust=True)


def _content_committed():
    transaction.get_connection().public_content_changed = False
    bump_generation()


def _changed_in_this_transaction() -> bool:
    connection = transaction.get_connection()
    if not getattr(connection, "public_content_changed", False):
        return False
    if connection.in_atomic_block:
        return True
    connection.public_content_changed = False  # rolled back: nothing changed
    return False


def page_key(language: str, full_path: str) -> str:
    return f"publicity:page:{language}:{hashlib.sha256(full_path.encode()).hexdigest()}"


# What every cached page varies on, in this order whatever else the response went through: the language
# (LocaleMiddleware) and the cookie (the session, the CSRF token). Set by the view, so that the middleware's later
# additions change nothing and a stored page's Vary is the one an uncached response carries.
VARY = ("Accept-Language", "Cookie")


def cached_for_anonymous(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = _cached_or_rendered(view, request, *args, **kwargs)
        patch_vary_headers(response, VARY)
        return response

    return wrapper


def _cached_or_rendered(view, request, *args, **kwargs):
    seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
    if (
        not seconds
        or request.method != "GET"
        or request.user.is_authenticated
        or _changed_in_this_transaction()
    ):
        return view(request, *args, **kwargs)
    key = page_key(getattr(request, "LANGUAGE_CODE", ""), request.get_full_path())
    # One round trip for both: the current generation and the page, stored with the generation it was
    # rendered at. A page of an older generation is stale and rendered anew.
    found = cache.get_many([GENERATION_KEY, key])
    current = found.get(GENERATION_KEY) or generation()
    cached = found.get(key)
    if cached is None or cached[0] != current:
        request.renders_for_page_cache = True
        response = view(request, *args, **kwargs)
        if response.status_code != 200 or response.cookies:
            return response
        cached = (current, response.content, response["Content-Type"])
        if getattr(request, "page_cache_stores_headers", False):
            # PublicPageCacheMiddleware stores it on the way out, with the headers the stack gave it.
            request.page_cache_rendered = (key, cached, seconds)
        else:
            cache.set(key, cached, seconds)
    _generation, content, content_type = cached[:3]
    placeholder = CSRF_PLACEHOLDER.encode()
    if placeholder in content:
        content = content.replace(placeholder, get_token(request).encode())  # this visitor's own token
    return HttpResponse(content, content_type=content_type)


class PublicPageCacheMiddleware:
    """A cached public page for a visitor without a session cookie, served before the rest of the stack (after
    the security middleware and the refusals of malformed URLs, before sessions: settings.MIDDLEWARE).

    On a miss the page goes through the whole stack as before, and this stores it on the way out with the headers
    the middleware below gave it; on a hit it answers with those headers and the page, the visitor's own CSRF token
    put in (and its cookie set) by Django's CSRF middleware itself. Only GETs under the cached pages' paths look
    in the cache (an API call or a login page pays nothing for it)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)
        self._prefixes = None

    def prefixes(self) -> tuple[str, ...]:
        if self._prefixes is None:
            self._prefixes = (reverse("publicity:notice_list"), reverse("publicity:library_list"))
        return self._prefixes

    def __call__(self, request):
        eligible = (
            request.method == "GET"
            and settings.PUBLIC_PAGE_CACHE_SECONDS
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and request.path.startswith(self.prefixes())  # both with the script prefix, as reverse() gives it
        )
        if eligible:
            hit = self._hit(request)
            if hit is not None:
                return hit
            request.page_cache_stores_headers = True
        response = self.get_response(request)
        rendered = getattr(request, "page_cache_rendered", None)
        if (
            rendered is not None
            and response.status_code == 200
            and set(response.cookies) <= {settings.CSRF_COOKIE_NAME}
        ):
            key, (current, content, content_type), seconds = rendered
            cache.set(key, (current, content, content_type, list(response.items())), seconds)
        return response

    def _hit(self, request):
        if _changed_in_this_transaction():
            return None
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it for every other answer (a 400)
        # LocaleMiddleware's choice (no i18n_patterns here): the key the view's decorator stored the page under.
        key = page_key(translation.get_language_from_request(request), request.get_full_path())
        found = cache.get_many([GENERATION_KEY, key])
        cached = found.get(key)
        if cached is None or len(cached) < 4 or cached[0] != found.get(GENERATION_KEY):
            return None
        _generation, content, content_type, headers = cached
        response = HttpResponse(content_type=content_type)
        for name, value in headers:  # in their order (Content-Type, the first, stays first)
            response.headers[name] = value
        placeholder = CSRF_PLACEHOLDER.encode()
        if placeholder in content:
            self.csrf.process_request(request)  # the visitor's CSRF cookie, if any
            content = content.replace(placeholder, get_token(request).encode())
            self.csrf.process_response(request, response)  # a new visitor's cookie
        response.content = content
        response.headers["Content-Length"] = str(len(content))
        return response

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
from django.middleware.csrf import get_token

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


def cached_for_anonymous(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
        if (
            not seconds
            or request.method != "GET"
            or request.user.is_authenticated
            or _changed_in_this_transaction()
        ):
            return view(request, *args, **kwargs)
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"publicity:page:{getattr(request, 'LANGUAGE_CODE', '')}:{path}"
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
            cache.set(key, cached, seconds)
        _generation, content, content_type = cached
        placeholder = CSRF_PLACEHOLDER.encode()
        if placeholder in content:
            content = content.replace(placeholder, get_token(request).encode())  # this visitor's own token
        return HttpResponse(content, content_type=content_type)

    return wrapper

"""The 43 review authorities as the public lists show them (the filter's options, each row's authority's name), kept
in this process's memory keyed by a version number in the shared cache, instead of a query on every uncached list
page (bench/README.md: about a tenth of an uncached /notices/; a cache GET costs a sixth of the query's CPU).

Never stale across a change: every save or delete of an authority (the admin, `load_authorities`) sets a new version
after its commit, and a migration or a flush too (post_migrate); a process whose kept copy is of another version
reads the table again, having read the version first, so a copy read before a commit is never kept under the
version set after it. While a transaction that changed an authority is open (its on-commit call still pending),
this connection reads the table and keeps nothing: it sees its own change, nobody else sees it. With the cache down
or empty of the version, the table is read as before. A version write can still be lost (the cache down for that one
call, the process gone between the commit and the call), so a kept copy is also read again after KEEP_SECONDS:
at worst a public list names an old authority for that long, as a cached page does."""

import logging
import threading
import time

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from projects.models import Authority

from . import page_cache

log = logging.getLogger(__name__)

VERSION_KEY = "publicity:authorities-version"
KEEP_SECONDS = 60
_clock = time.monotonic

_kept: tuple = (None, (), 0.0)  # (version, rows, when they were read: _clock())
_lock = threading.Lock()


def read() -> list:
    """(id, code, name) rows in code order: one query."""
    return list(Authority.objects.order_by("code").values_list("id", "code", "name", named=True))


def rows() -> list:
    global _kept
    if _changed_in_this_transaction():
        return read()
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, time.time_ns(), None)
        version = cache.get(VERSION_KEY)
        if version is None:  # the cache is down: no version to trust
            return read()
    kept_version, kept_rows, kept_at = _kept
    now = _clock()
    if kept_version != version or now - kept_at > KEEP_SECONDS:
        kept_rows = tuple(read())
        with _lock:
            _kept = (version, kept_rows, now)
    return list(kept_rows)


def _committed():
    cache.set(VERSION_KEY, time.time_ns(), None)
    page_cache.bump_generation()  # the cached public pages name authorities too


def _changed_in_this_transaction() -> bool:
    """An authority saved or deleted in the open transaction: its on-commit call is pending (a rollback drops it)."""
    pending = transaction.get_connection().run_on_commit
    return bool(pending) and any(entry[1] is _committed for entry in pending)


def changed(sender, **kwargs):
    transaction.on_commit(_committed, robust=True)


def migrated(sender, **kwargs):
    if sender.label != "projects":
        return
    # The database cache's table is created after the first migrate (`make run`: createcachetable), and nothing is
    # kept yet then anyway: one line, not a traceback on a newcomer's first run.
    try:
        _committed()
    except Exception as error:
        log.info("the authorities' version was not renewed after migrate (the cache is not ready: %r)", error)


post_save.connect(changed, sender=Authority, dispatch_uid="publicity.authorities.saved")
post_delete.connect(changed, sender=Authority, dispatch_uid="publicity.authorities.deleted")
post_migrate.connect(migrated, dispatch_uid="publicity.authorities.migrated")

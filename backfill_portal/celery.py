"""The Celery app. Tasks are thin wrappers over service functions (see each app's tasks.py)."""

import gc
import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backfill_portal.settings")

app = Celery("backfill_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def keep_database_connections(**kwargs):
    """A worker process keeps its database connection between tasks (WORKER_DATABASE_CONN_MAX_AGE seconds; 0: a
    new one each task, as the web processes' default): one delivery is a dozen short queries, and opening a
    PostgreSQL connection for each (a server process forked, authentication, the session's settings) was a share
    of it. Checked before reuse after each task (CONN_HEALTH_CHECKS), so a database restarted meanwhile costs a
    reconnection, not a failed task. Celery's Django fixup closes the connections at each task's end only if they
    are unusable or older than this."""
    from django.conf import settings
    from django.db import connections

    for connection in connections.all(initialized_only=False):
        connection.settings_dict["CONN_MAX_AGE"] = settings.WORKER_DATABASE_CONN_MAX_AGE
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True


@worker_process_init.connect
def freeze_startup_objects(**kwargs):
    """The objects a worker process starts with (Django, the apps, their models, the rules) live as long as it
    does: frozen out of the garbage collector's generations (gc.freeze), so that the full collections a long task
    triggers (the import: thousands of model instances a minute) no longer walk them each time. Garbage is
    collected first so that none of it is frozen; what a task allocates is collected as before. The import of
    1,000 projects, run in-process, spent 0.26–0.35 s in collections instead of 0.47–0.55 s (docs/import.md,
    "Rules once a process")."""
    gc.collect()
    gc.freeze()

"""With the broker down, the portal goes on and the sweep catches up (docs/architecture.md, "When the cache or the
broker is down").

Everything real: a Redis of the test's own (tests/redis_process.py) as the broker and the cache, stopped by the
test and started again empty, as a restarted Redis without persistence is; a Celery worker and beat as processes on
it (tests/processes.py); the national platform's simulator; PostgreSQL. While Redis is down, records are submitted
and approved, notices close and the public pages answer; what the sweep could not hand to the worker is left in
the outbox, and once Redis is back the worker and beat reconnect by themselves and every record enters once.
"""

import logging

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from backfill_portal import cache as cache_backends
from backfill_portal.celery import app
from projects import services as project_services
from projects.audit import Actor
from projects.models import Project, Status
from publicity import services
from publicity.models import OutboxMessage, OutboxState
from review import services as review_services
from tests.builders import end_notices, make_project, status_of
from tests.needs import needs_service
from tests.processes import wait_for
from tests.redis_process import needs_redis_server, own_redis

pytestmark = [
    needs_service(
        django_settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql",
        reason="needs PostgreSQL (DATABASE_URL): the Celery worker is another process",
    ),
    needs_redis_server,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def own_broker(tmp_path, settings):
    """This test's Redis as the broker and the cache of this process (the workers get it through REDIS_URL)."""
    with own_redis(tmp_path / "redis") as server:
        settings.CACHES = server.caches()
        settings.CACHE_RETRY_AFTER_SECONDS = 0.5
        cache_backends._bypass_until.clear()
        previous = app.conf.broker_url
        app.conf.broker_url = server.url()
        _forget_connections()
        try:
            yield server
        finally:
            app.conf.broker_url = previous
            _forget_connections()
            cache_backends._bypass_until.clear()


def _forget_connections():
    # The app keeps a pool of connections to the broker it was configured with; the next publish opens new ones.
    app._pool = None
    app.amqp._producer_pool = None


def approved(clerk, reviewer, authority, name) -> Project:
    project = make_project(clerk.membership.enterprise, clerk, authority, name=name)
    project = project_services.submit_project(actor=Actor(user=clerk), project=project)
    return review_services.approve(actor=Actor(user=reviewer), project=project)


def page_answers() -> set[int]:
    anonymous = Client()
    return {
        anonymous.get(url).status_code
        for url in (reverse("publicity:notice_list"), reverse("publicity:library_list"))
    }


def test_with_the_broker_down_submissions_commit_and_the_sweep_delivers_once_it_is_back(
    own_broker, celery_stack, national_platform, clerk, reviewer, yuzhong, open_windows, caplog
):
    _base_url, simulator = national_platform
    workers = dict(REDIS_URL=own_broker.url())
    worker = celery_stack.worker(**workers)
    beat = celery_stack.beat(**workers)
    before = approved(clerk, reviewer, yuzhong, "停机前审核通过综合楼")

    own_broker.stop()
    caplog.set_level(logging.WARNING)
    during = approved(clerk, reviewer, yuzhong, "停机中审核通过综合楼")  # submitted and approved: committed
    assert status_of(during) == Status.IN_NOTICE
    assert page_answers() == {200}
    end_notices(before)
    # The sweep's own work, run here: beat cannot reach the broker.
    assert services.close_expired_notices() == 1
    assert status_of(before) == Status.ENTERING
    assert OutboxMessage.objects.get(project=before).state == OutboxState.PENDING
    assert "broker unavailable" in caplog.text and "left to the sweep" in caplog.text
    end_notices(during)  # ends while the broker is down: beat's sweep will close it when it is back
    assert page_answers() == {200}

    own_broker.start()  # empty: whatever was queued before is gone, as with a restarted Redis without persistence

    wait_for(
        lambda: status_of(before) == status_of(during) == Status.IN_NATIONAL_LIBRARY,
        timeout=90,
        what="both records to enter once the broker is back",
        logs=[worker, beat],
    )
    records = simulator.records()
    for project in (before, during):
        assert records["create_calls"][project.project_number]["stored"] == 1
    assert sorted(r["project_number"] for r in records["records"]) == sorted(
        [before.project_number, during.project_number]
    )
    assert page_answers() == {200}

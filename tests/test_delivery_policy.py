"""The delivery's retry policy (docs/lifecycle.md, "Delivery"), called as the worker calls it, without Celery.

The platform is unreachable here for real: NATIONAL_PLATFORM_URL points at a loopback port nothing listens on, so
every attempt ends in a refused connection, a transient failure."""

import contextlib
import datetime
import logging
import socket
import statistics
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.utils import timezone

from projects.audit import Actor
from projects.models import AuditEvent, Authority, Status
from publicity import services, tasks
from publicity.models import Notice, NoticeState, OutboxMessage, OutboxState
from review import services as review_services
from tests.builders import end_notices, make_project, make_reviewer
from tests.needs import needs_service
from tests.simulator_process import API_KEY

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections to it are refused


@pytest.fixture
def unreachable_platform(settings):
    settings.NATIONAL_PLATFORM_URL = f"http://127.0.0.1:{closed_port()}"
    settings.NATIONAL_PLATFORM_TIMEOUT = 2


def queued(clerk, reviewer, authority, **fields) -> OutboxMessage:
    project = make_project(clerk.membership.enterprise, clerk, authority, status=Status.SUBMITTED, **fields)
    review_services.approve(actor=Actor(user=reviewer), project=project)
    end_notices(project)
    services.close_expired_notices()
    return OutboxMessage.objects.get(project=project)


@contextlib.contextmanager
def held_by_another_transaction(queryset):
    """The rows locked (FOR UPDATE) by a transaction of another connection, until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                list(queryset.select_for_update())
                locked.set()
                release.wait(20)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        yield
    finally:
        release.set()
        holder.join()


# ---------------------------------------------------------------- backoff


def test_the_backoff_grows_exponentially_with_jitter_and_is_capped():
    base, cap = django_settings.OUTBOX_BACKOFF_BASE_SECONDS, django_settings.OUTBOX_BACKOFF_MAX_SECONDS
    assert base >= 1 and cap >= base  # a zero backoff would hammer a platform that is down
    for attempts in range(1, 20):
        ceiling = min(cap, base * 2 ** (attempts - 1))
        samples = [services.backoff_seconds(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= s <= ceiling for s in samples), attempts
        assert statistics.pstdev(samples) > 0, (
            attempts
        )  # jitter: retries of a burst do not come back as a burst
    assert statistics.mean(services.backoff_seconds(4) for _ in range(200)) > statistics.mean(
        services.backoff_seconds(1) for _ in range(200)
    )


# ---------------------------------------------------------------- no attempt before its time


def test_an_attempt_before_its_time_is_skipped_and_spends_nothing(
    clerk, reviewer, yuzhong, unreachable_platform
):
    message = queued(clerk, reviewer, yuzhong)
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + datetime.timedelta(hours=1)
    )

    assert services.deliver(message.pk) == "skipped"  # a redelivered task, a duplicate, an early sweep

    message.refresh_from_db()
    assert (message.attempts, message.state, message.last_error) == (0, OutboxState.PENDING, "")


# ---------------------------------------------------------------- transient failures: retried for a time


def test_a_transient_failure_is_retried_after_its_backoff(clerk, reviewer, yuzhong, unreachable_platform):
    message = queued(clerk, reviewer, yuzhong)
    before = timezone.now()

    assert services.deliver(message.pk) == "retry"

    message.refresh_from_db()
    assert message.state == OutboxState.PENDING and message.attempts == 1
    wait = (message.next_attempt_at - before).total_seconds()
    assert (
        django_settings.OUTBOX_BACKOFF_BASE_SECONDS / 2
        <= wait
        <= django_settings.OUTBOX_BACKOFF_BASE_SECONDS + 5
    )
    assert services.deliver(message.pk) == "skipped"  # and not before then


def test_an_outage_longer_than_the_old_eight_attempts_is_still_retried(
    clerk, reviewer, yuzhong, unreachable_platform
):
    # Queued 3 hours ago, 30 attempts spent: within the 72 hours, the message keeps being retried.
    message = queued(clerk, reviewer, yuzhong)
    OutboxMessage.objects.filter(pk=message.pk).update(
        retrying_since=timezone.now() - datetime.timedelta(hours=3), attempts=30
    )

    assert services.deliver(message.pk) == "retry"
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.PENDING


def test_after_the_retry_window_the_message_is_given_up_with_an_alarm(
    clerk,
    reviewer,
    yuzhong,
    unreachable_platform,
    caplog,
    mailoutbox,
    django_capture_on_commit_callbacks,
    client,
):
    message = queued(clerk, reviewer, yuzhong)
    OutboxMessage.objects.filter(pk=message.pk).update(
        retrying_since=timezone.now()
        - datetime.timedelta(seconds=django_settings.OUTBOX_RETRY_FOR_SECONDS + 60)
    )

    with (
        caplog.at_level(logging.ERROR, logger="publicity.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.deliver(message.pk) == "failed"

    message.refresh_from_db()
    assert message.state == OutboxState.FAILED
    # The log line names the message and the platform's answer.
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"outbox {message.pk}" in line.getMessage() and "Connection refused" in message.last_error
    assert message.last_error[:40] in line.getMessage()
    # An e-mail to operations.
    [mail] = mailoutbox
    assert mail.to == [django_settings.OPERATIONS_EMAIL]
    assert message.project.project_number in mail.subject and "重新报送" in mail.body
    assert AuditEvent.objects.filter(action="national.failed", object_id=str(message.pk)).exists()
    # A banner in the console for the district's reviewers and the city, not for another district.
    client.force_login(reviewer)
    assert 'id="failed-deliveries"' in client.get("/admin/").content.decode()
    other = make_reviewer(Authority.objects.get(code="500105"), username="jiangbei-reviewer")
    client.force_login(other)
    assert 'id="failed-deliveries"' not in client.get("/admin/").content.decode()


def test_a_definite_refusal_stops_at_once(clerk, reviewer, yuzhong, settings, national_platform):
    # A 401 (a wrong key) names a problem a retry cannot fix: one attempt, then failed.
    base_url, _simulator = national_platform
    settings.NATIONAL_PLATFORM_URL = base_url
    settings.NATIONAL_PLATFORM_API_KEY = "a-wrong-key"
    message = queued(clerk, reviewer, yuzhong)

    assert services.deliver(message.pk) == "failed"
    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_status_code) == (OutboxState.FAILED, 1, 401)


# ---------------------------------------------------------------- several messages to a task


def test_a_batch_task_delivers_each_message_once(clerk, reviewer, yuzhong, settings, national_platform):
    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL, settings.NATIONAL_PLATFORM_API_KEY = base_url, API_KEY
    messages = [queued(clerk, reviewer, yuzhong) for _ in range(3)]
    ids = [message.pk for message in messages]

    assert tasks.deliver_outbox_batch(ids) == dict.fromkeys(ids, "delivered")
    # The same task again (redelivered by the broker after a lost worker, or handed over again by the sweep).
    assert tasks.deliver_outbox_batch(ids) == dict.fromkeys(ids, "skipped")

    stored = simulator.records()["create_calls"]
    for message in messages:
        message.refresh_from_db()
        assert (message.state, message.attempts) == (OutboxState.DELIVERED, 1)
        assert stored[message.project.project_number]["stored"] == 1


def test_a_message_that_fails_in_a_batch_leaves_the_others_delivered(
    clerk, reviewer, yuzhong, settings, national_platform, caplog
):
    base_url, simulator = national_platform
    settings.NATIONAL_PLATFORM_URL, settings.NATIONAL_PLATFORM_API_KEY = base_url, API_KEY
    first, broken, last = (queued(clerk, reviewer, yuzhong) for _ in range(3))
    # A payload the delivery cannot read (no project table): its attempt raises after the lease.
    OutboxMessage.objects.filter(pk=broken.pk).update(payload={"TBProjectInfo": []})

    with caplog.at_level(logging.ERROR, logger="publicity.tasks"):
        results = tasks.deliver_outbox_batch([first.pk, broken.pk, last.pk])

    assert results == {first.pk: "delivered", broken.pk: "error", last.pk: "delivered"}
    assert f"outbox message {broken.pk}: the delivery raised" in caplog.text
    for message in (first, last):
        message.refresh_from_db()
        assert message.state == OutboxState.DELIVERED
        assert message.project.status == Status.IN_NATIONAL_LIBRARY
    broken.refresh_from_db()
    # Left as a failed task leaves it: pending, leased, for the sweep once the lease has expired.
    assert (broken.state, broken.attempts) == (
        OutboxState.PENDING,
        1,
    ) and broken.leased_until > timezone.now()
    assert broken.project.project_number not in simulator.records()["create_calls"]


# ---------------------------------------------------------------- the sweep skips what another worker holds


@needs_service(connection.vendor == "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_a_notice_another_transaction_holds(clerk, reviewer, yuzhong):
    held = make_project(
        clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED, name="被锁定的工程"
    )
    free = make_project(
        clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED, name="空闲的工程"
    )
    for project in (held, free):
        review_services.approve(actor=Actor(user=reviewer), project=project)
    end_notices(held, free)
    with held_by_another_transaction(Notice.objects.filter(project=held)):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL lock_timeout = '3s'"
                )  # without SKIP LOCKED the sweep would wait here
            closed = services.close_expired_notices()

    assert closed == 1
    assert Notice.objects.get(project=free).state == NoticeState.CLOSED
    assert Notice.objects.get(project=held).state == NoticeState.RUNNING
    assert services.close_expired_notices() == 1  # caught up once the other transaction let go


@needs_service(connection.vendor == "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_delivery_skips_a_message_another_transaction_holds(clerk, reviewer, yuzhong, unreachable_platform):
    message = queued(clerk, reviewer, yuzhong)
    # Another worker in the middle of recording this message's delivery.
    with held_by_another_transaction(OutboxMessage.objects.filter(pk=message.pk)):
        with connection.cursor() as cursor:
            cursor.execute(
                "SET lock_timeout = '3s'"
            )  # without SKIP LOCKED the lease would wait here, then fail
        try:
            assert services.deliver(message.pk) == "skipped"
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    message.refresh_from_db()
    assert (message.attempts, message.leased_until, message.state) == (0, None, OutboxState.PENDING)
    assert services.deliver(message.pk) == "retry"  # taken once the other transaction let go (platform down)
    message.refresh_from_db()
    assert message.attempts == 1


def test_the_consoles_retry_opens_a_new_retry_window(clerk, reviewer, yuzhong, unreachable_platform):
    # Given up after the window, then retried by a person: the transient failures that follow are retried again.
    message = queued(clerk, reviewer, yuzhong)
    OutboxMessage.objects.filter(pk=message.pk).update(
        retrying_since=timezone.now()
        - datetime.timedelta(seconds=django_settings.OUTBOX_RETRY_FOR_SECONDS + 60)
    )
    assert services.deliver(message.pk) == "failed"

    services.retry_failed_delivery(actor=Actor(user=reviewer), message_id=message.pk)
    assert services.deliver(message.pk) == "retry"
    assert OutboxMessage.objects.get(pk=message.pk).state == OutboxState.PENDING


# ---------------------------------------------------------------- the publicity statuses are state machines


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [(Notice, "state", NoticeState.CLOSED), (OutboxMessage, "state", OutboxState.DELIVERED)],
)
def test_a_publicity_status_cannot_be_set_by_hand(clerk, reviewer, yuzhong, model, field, value):
    message = queued(clerk, reviewer, yuzhong)
    row = message if model is OutboxMessage else Notice.objects.get(project=message.project)
    with pytest.raises(AttributeError):
        setattr(row, field, value)


def test_illegal_publicity_transitions_are_refused(clerk, reviewer, yuzhong):
    from django_fsm import TransitionNotAllowed

    message = queued(clerk, reviewer, yuzhong)  # the notice is closed, the message pending
    notice = Notice.objects.get(project=message.project)
    for transition in (notice.pause, notice.resume, notice.close):
        with pytest.raises(TransitionNotAllowed):
            transition()
    with pytest.raises(TransitionNotAllowed):
        message.retry()  # only a failed message is retried

"""Celery entry points: thin wrappers over publicity.services (which can be called and tested without Celery)."""

import logging

from celery import shared_task
from django import db
from django.conf import settings
from django.utils import timezone

from . import services
from .models import OutboxMessage

log = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_expired_notices():
    return services.close_expired_notices()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def deliver_outbox(self, message_id):
    result = services.deliver(message_id)
    if result == "retry":
        # Come back when the backoff is over; the beat sweep below is the safety net if this message is lost.
        message = OutboxMessage.objects.get(pk=message_id)
        countdown = max(1.0, (message.next_attempt_at - timezone.now()).total_seconds())
        raise self.retry(countdown=countdown)
    return result


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_outbox_batch(message_ids):
    """Several messages, one after the other, each exactly as deliver_outbox delivers it: its own lease (SKIP
    LOCKED, only if due), its own call, its own transaction for the outcome; one to retry comes back alone as a
    deliver_outbox task when its backoff is over. One that raises is logged and left where it is (leased: the sweep
    hands it over again once the lease has expired, as when a deliver_outbox task fails) and the others go on. A
    worker lost in the middle gives the whole task back to the broker: the messages already delivered are then
    skipped, the one in flight waits for its lease (docs/lifecycle.md, "Delivery")."""
    results = {}
    for message_id in message_ids:
        try:
            result = services.deliver(message_id)
        except Exception as error:
            log.exception(
                "outbox message %s: the delivery raised; left to the sweep once its lease expires", message_id
            )
            results[message_id] = "error"
            if isinstance(error, db.DatabaseError):
                db.close_old_connections()  # one the error left unusable is not used for the next message
            continue
        if result == "retry":
            _retry_when_due(message_id)
        results[message_id] = result
    return results


def _retry_when_due(message_id):
    """A deliver_outbox task for when the message's backoff is over. If the broker cannot take it, the beat sweep
    hands the message over once it is due."""
    message = OutboxMessage.objects.get(pk=message_id)
    countdown = max(1.0, (message.next_attempt_at - timezone.now()).total_seconds())
    try:
        deliver_outbox.apply_async((message_id,), countdown=countdown)
    except Exception as error:  # noqa: BLE001 - whatever the broker raises, the message is safe in the outbox
        log.warning(
            "broker unavailable (%s: %s): outbox message %s left to the sweep",
            type(error).__name__,
            error,
            message_id,
        )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_due_outbox():
    """Every pending delivery whose time has come and which no worker holds: lost tasks, expired leases. At most
    OUTBOX_SWEEP_BATCH a run, the longest waiting first: a backlog of thousands (after an outage of the broker) is
    handed over over several runs instead of flooding the queue in one (docs/architecture.md)."""
    ids = list(services.due_messages()[: settings.OUTBOX_SWEEP_BATCH])
    services.enqueue_deliveries(ids)
    return len(ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def reconcile_national_library():
    """Daily (beat): read every delivered record back from the platform and flag what is missing or altered."""
    return services.reconcile_national_library()

"""Celery entry points: thin wrappers over publicity.services (which can be called and tested without Celery)."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
from .models import OutboxMessage


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

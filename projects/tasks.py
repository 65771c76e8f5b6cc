"""Celery entry points: thin wrappers over projects' services (callable and tested without Celery)."""

from celery import shared_task

from . import audit, retention

DAILY = "每日定时核验"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def verify_audit_chain():
    """The daily check of the audit chain (beat); a break raises the alarm (projects/retention.py)."""
    check = retention.check_chain(checked_by=DAILY)
    return {"intact": check.intact, "events": check.events_checked}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def anchor_audit_chains():
    """Hash the heads of the audit chains that moved into the global chain (beat; projects/audit.py anchor())."""
    event = audit.anchor()
    return {"anchor": event.pk if event is not None else None}

"""Celery entry point: a thin wrapper over imports.services.run_job (callable and tested without Celery)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import(job_id):
    """acks_late: a worker that dies mid-import leaves the task in the broker, and the job is run again; each row
    finds what the first run wrote (services.RowImporter.match), so nothing is duplicated."""
    return services.run_job(job_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_stalled_imports():
    """Every minute (beat): a job whose worker died is run again (Redis would redeliver its task only after the
    visibility timeout, an hour)."""
    ids = list(services.stalled_jobs().values_list("pk", flat=True))
    for job_id in ids:
        run_import.delay(job_id)
    return len(ids)

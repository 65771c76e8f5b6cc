"""The import through the real task path: a Celery worker on Redis against PostgreSQL (tests/processes.py), the
upload made through the page, the evidence zip, and a worker killed mid-import whose job is run again by the
sweep without duplicating anything."""

import time

import pytest
from django.core.files.storage import FileSystemStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports.models import ImportJob, JobStatus
from projects.models import Evidence, Notification, Project
from tests.builders import EXE_BYTES, PDF_BYTES, make_enterprise_user
from tests.import_builders import fill, project_row
from tests.processes import needs_postgresql_and_redis, wait_for
from tests.test_imports import evidence_zip

pytestmark = [needs_postgresql_and_redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shared_storage(tmp_path, monkeypatch):
    """The private storage the workers use (their VAR_DIR is tmp_path/var, tests/processes.py), in this process too."""
    storage = FileSystemStorage(location=tmp_path / "var" / "private")
    for field_owner in (ImportJob, Evidence):
        for field in field_owner._meta.get_fields():
            if getattr(field, "storage", None) is storages["private"]:
                monkeypatch.setattr(field, "storage", storage)
    return storage


@pytest.fixture
def clerk_user(authorities, open_windows):
    return make_enterprise_user(username="worker-importer")


def job_state(pk):
    return ImportJob.objects.values("status", "processed", "total", "attempts").get(pk=pk)


def test_it_imports_through_the_worker_with_evidence_and_tells_the_clerk(
    client, clerk_user, celery_stack, shared_storage
):
    enterprise = clerk_user.membership.enterprise
    tolerant = project_row(enterprise)
    tolerant[("registration", "registered_on")] = 42430
    tolerant[("tendering", "awarded_on")] = "2016/4/15"
    tolerant[("contract", "signed_on")] = "2016年5月10日"
    tolerant[("tendering", "award_amount")] = "12,345,678.00"
    bad = project_row(enterprise)
    bad[("contract", "amount")] = "abc"
    bundle = evidence_zip(
        {"1/项目报建/立项批文.pdf": PDF_BYTES, "1/施工许可/a.pdf": EXE_BYTES, "../x.pdf": PDF_BYTES}
    )
    worker = celery_stack.worker()
    client.force_login(clerk_user)
    response = client.post(
        reverse("imports:home"),
        {
            "workbook": SimpleUploadedFile("导入.xlsx", fill([tolerant, bad, project_row(enterprise)])),
            "evidence_zip": SimpleUploadedFile("材料.zip", bundle),
        },
    )
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("imports:job", kwargs={"pk": job.pk})
    wait_for(
        lambda: job_state(job.pk)["status"] == JobStatus.DONE, timeout=60, what="the import", logs=[worker]
    )
    job.refresh_from_db()
    assert (job.created_count, job.refused_count, job.processed, job.total) == (2, 1, 3, 3)
    assert Project.objects.filter(enterprise=enterprise).count() == 2
    assert {r["path"]: r["outcome"] for r in job.evidence_results} == {
        "1/项目报建/立项批文.pdf": "stored",
        "1/施工许可/a.pdf": "refused",
        "../x.pdf": "refused",
    }
    assert Notification.objects.filter(recipient=clerk_user, title__startswith="批量导入已完成").exists()
    status = client.get(reverse("imports:job_status", kwargs={"pk": job.pk})).json()
    assert status["percent"] == 100 and status["finished"]


ROWS_TO_KILL = 400


def test_a_job_whose_worker_was_killed_is_run_again_without_duplicates(
    clerk_user, celery_stack, shared_storage
):
    from django.core.files.uploadedfile import SimpleUploadedFile as Upload

    from imports import services
    from projects.audit import Actor

    enterprise = clerk_user.membership.enterprise
    # Enough rows that the worker is still at them when it is killed: the import writes a project in a few
    # milliseconds on an idle machine (bench/README.md), and its progress every 0.5 s.
    rows = [project_row(enterprise) for _ in range(ROWS_TO_KILL)]
    fast = {"IMPORT_STALL_SECONDS": "3", "IMPORT_SWEEP_SECONDS": "1"}
    worker = celery_stack.worker(concurrency=1, **fast)
    job = services.start_import(actor=Actor(user=clerk_user), workbook=Upload("大批量.xlsx", fill(rows)))
    wait_for(
        lambda: job_state(job.pk)["processed"] >= 3, timeout=60, what="the import to start", logs=[worker]
    )
    worker.kill()
    killed = job_state(job.pk)
    assert killed["status"] == JobStatus.RUNNING and killed["processed"] < ROWS_TO_KILL, killed
    written = Project.objects.filter(enterprise=enterprise).count()
    assert written >= 3
    time.sleep(0.5)
    assert Project.objects.filter(enterprise=enterprise).count() == written  # nothing moves without a worker

    second = celery_stack.worker(concurrency=1, **fast)
    beat = celery_stack.beat(**fast)  # the sweep finds the stalled job and runs it again
    wait_for(
        lambda: job_state(job.pk)["status"] == JobStatus.DONE,
        timeout=300,
        what="the rerun",
        logs=[second, beat],
    )
    final = ImportJob.objects.get(pk=job.pk)
    assert final.attempts == 2
    assert Project.objects.filter(enterprise=enterprise).count() == ROWS_TO_KILL
    assert final.created_count + final.unchanged_count == ROWS_TO_KILL and final.refused_count == 0

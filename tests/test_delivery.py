"""Entry into the national platform with the real parts: a Celery worker process (and beat) on Redis, the national
platform simulator as an HTTP process, PostgreSQL. The only time machine is moving a notice's `ends_at` into the
past; everything after that is the sweep, the outbox, the delivery task and the simulator doing their work.

"Entered exactly once" is the simulator's word: the project appears once in its records, with one version, and
one create call stored it (`create_calls[number]["stored"] == 1`; `total` counts every call it took).
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from projects import services as project_services
from projects.audit import Actor
from projects.forms import ProjectForm, stage_form_class
from projects.models import Evidence, PermitStage, Project, RecordLocked, Status
from publicity import services
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    OutboxMessage,
    OutboxState,
    Snapshot,
)
from publicity.timing import notice_end
from review import services as review_services
from tests.builders import PDF_BYTES, end_notices, form_data, make_project, status_of
from tests.processes import needs_postgresql_and_redis, stays, wait_for

pytestmark = [needs_postgresql_and_redis, pytest.mark.django_db(transaction=True)]

ENTERED = Status.IN_NATIONAL_LIBRARY


def approved(clerk, reviewer, authority, **fields) -> Project:
    """A submitted record, approved by a reviewer of its authority: snapshot v1 and a running notice."""
    project = make_project(clerk.membership.enterprise, clerk, authority, status=Status.SUBMITTED, **fields)
    return review_services.approve(actor=Actor(user=reviewer), project=project)


def all_entered(*projects) -> bool:
    return Project.objects.filter(pk__in=[p.pk for p in projects], status=ENTERED).count() == len(projects)


def message_of(project) -> OutboxMessage:
    return OutboxMessage.objects.get(project=project)


def assert_entered_exactly_once(simulator, *projects):
    records = simulator.records()
    numbers = sorted(p.project_number for p in projects)
    assert sorted(r["project_number"] for r in records["records"]) == numbers
    for record in records["records"]:
        assert len(record["versions"]) == 1, record["project_number"]
    for number in numbers:
        assert records["create_calls"][number]["stored"] == 1, records["create_calls"][number]
    for project in projects:
        entry = LibraryEntry.objects.get(project=project)
        message = message_of(project)
        assert message.state == OutboxState.DELIVERED
        assert entry.national_id == message.national_id == f"NP-{project.project_number}"
        assert entry.snapshot_id == message.snapshot_id
    return records


# ---------------------------------------------------------------- the happy path


def test_it_enters_an_approved_record_once_after_its_notice_and_locks_it(
    celery_stack, national_platform, clerk, reviewer, yuzhong, client
):
    _base_url, simulator = national_platform
    worker = celery_stack.worker()
    started = time.monotonic()

    project = approved(clerk, reviewer, yuzhong, name="渝中区解放碑商务楼")

    snapshot = Snapshot.objects.get(project=project)
    notice = Notice.objects.get(project=project)
    assert (snapshot.version, snapshot.is_intact()) == (1, True)
    assert notice.snapshot == snapshot
    assert notice.state == NoticeState.RUNNING
    assert notice.ends_at == notice_end(notice.starts_at)
    assert status_of(project) == Status.IN_NOTICE

    end_notices(project)
    # The sweep beat runs every minute, called here: the web process's on_commit sends the task to the worker.
    assert services.close_expired_notices() == 1
    assert status_of(project) == Status.ENTERING
    assert message_of(project).idempotency_key == f"{project.project_number}-v1"

    wait_for(lambda: status_of(project) == ENTERED, timeout=30, what="the record to enter", logs=[worker])
    print(f"entered {time.monotonic() - started:.1f}s after approval")

    records = assert_entered_exactly_once(simulator, project)
    sent = message_of(project).payload
    assert records["records"][0]["versions"][0]["payload"] == sent
    assert sent["TBProjectInfo"][0]["PrjName"] == snapshot.content["project"]["name"] == "渝中区解放碑商务楼"
    assert records["create_calls"][project.project_number]["total"] == 1
    assert message_of(project).attempts == 1
    assert services.close_expired_notices() == 0  # idempotent: nothing is closed twice

    assert_every_edit_path_refused(project, clerk, client)
    snapshot.refresh_from_db()
    assert snapshot.is_intact()


def assert_every_edit_path_refused(project, clerk, client):
    """The locked record: services, model guards, the database itself, the admin and the enterprise's forms."""
    project.refresh_from_db()
    actor = Actor(user=clerk)
    permit = PermitStage.objects.get(project=project)
    evidence = Evidence.objects.filter(project=project, stage="permit").first()
    before = {
        "name": project.name,
        "permit": permit.survey_enterprise_name,
        "evidence": Evidence.objects.filter(project=project, archived_at__isnull=True).count(),
    }

    # The services every form and page goes through.
    with pytest.raises(RecordLocked):
        project_services.update_project(actor=actor, project=project, data={"name": "改名后的工程"})
    with pytest.raises(RecordLocked):
        project_services.save_stage(
            actor=actor, project=project, stage_code="permit", data={"survey_enterprise_name": "另一家勘察院"}
        )
    with pytest.raises(RecordLocked):
        project_services.add_evidence(
            actor=actor,
            project=project,
            stage_code="permit",
            uploaded_file=SimpleUploadedFile("补充.pdf", PDF_BYTES, content_type="application/pdf"),
        )
    with pytest.raises(RecordLocked):
        project_services.archive_evidence(actor=actor, evidence=evidence, reason="删除")

    # The model guards, below the services (a shell, a script, a forgotten view).
    permit.survey_enterprise_name = "另一家勘察院"
    with pytest.raises(RecordLocked):
        permit.save()
    project.name = "改名后的工程"
    with pytest.raises(RecordLocked):
        project.save()
    with pytest.raises(RecordLocked):
        evidence.delete()

    # The database (PostgreSQL triggers): raw SQL and bulk updates, which skip every model method.
    for sql, params in (
        (
            "UPDATE projects_permitstage SET survey_enterprise_name = %s WHERE project_id = %s",
            ["另一家", project.pk],
        ),
        ("UPDATE projects_project SET name = %s WHERE id = %s", ["改名后的工程", project.pk]),
        ("DELETE FROM projects_evidence WHERE project_id = %s", [project.pk]),
    ):
        with pytest.raises(DatabaseError, match="locked|never deleted"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
    with pytest.raises(DatabaseError), transaction.atomic():
        Project.objects.filter(pk=project.pk).update(address="重庆市某处")

    # The admin console: no change form for anyone, a forged POST changes nothing.
    superuser = type(clerk).objects.create_superuser("root", "root@example.com", "x")
    client.force_login(superuser)
    change_url = reverse("admin:projects_project_change", args=[project.pk])
    assert client.post(change_url, {"name": "改名后的工程", "address": "x"}).status_code == 403
    assert "_save" not in client.get(change_url).content.decode()

    # The enterprise's own pages: every form POST is refused with a message, nothing changes.
    client.force_login(clerk)
    project.refresh_from_db()
    project_form = ProjectForm(instance=project)
    data = {**form_data(project_form), "name": "改名后的工程"}
    assert ProjectForm(data, instance=Project(pk=None)).is_valid(), (
        "the POST must be one an editable record takes"
    )
    response = client.post(reverse("projects:project_edit", args=[project.pk]), data, follow=True)
    assert "不能修改" in response.content.decode()

    permit.refresh_from_db()
    stage_class = stage_form_class("permit")
    data = {**form_data(stage_class(instance=permit)), "survey_enterprise_name": "另一家勘察院"}
    assert stage_class(data, instance=permit).is_valid()
    response = client.post(reverse("projects:stage_edit", args=[project.pk, "permit"]), data, follow=True)
    assert "不能修改" in response.content.decode()

    upload = SimpleUploadedFile("补充.pdf", PDF_BYTES, content_type="application/pdf")
    client.post(
        reverse("projects:evidence_upload", args=[project.pk, "permit"]),
        {"file": upload, "description": "补充"},
    )
    client.post(reverse("projects:evidence_archive", args=[project.pk, evidence.pk]), {"reason": "删除"})

    project.refresh_from_db()
    permit.refresh_from_db()
    evidence.refresh_from_db()
    assert project.status == ENTERED
    after = {
        "name": project.name,
        "permit": permit.survey_enterprise_name,
        "evidence": Evidence.objects.filter(project=project, archived_at__isnull=True).count(),
    }
    assert after == before
    assert evidence.archived_at is None


# ---------------------------------------------------------------- a platform that fails half its calls


def test_it_enters_every_record_exactly_once_when_half_the_calls_fail(
    celery_stack, national_platform, clerk, reviewer, yuzhong
):
    _base_url, simulator = national_platform
    simulator.set_faults(error_rate=0.5)
    # A long retry window: a record must not fail for good by chance here — not what this test is about.
    worker = celery_stack.worker(OUTBOX_RETRY_FOR_SECONDS=3600)
    beat = celery_stack.beat()
    projects = [approved(clerk, reviewer, yuzhong, name=f"渝中区示范工程{i}号楼") for i in range(10)]
    started = time.monotonic()

    end_notices(*projects)

    wait_for(lambda: all_entered(*projects), timeout=120, what="all 10 records to enter", logs=[worker, beat])
    print(f"10 records entered {time.monotonic() - started:.1f}s after their notices ended")

    records = assert_entered_exactly_once(simulator, *projects)
    failed = records["faults"]["injected"]["error"]  # 503s, answered before the platform reads the call
    reached = sum(records["create_calls"][p.project_number]["total"] for p in projects)
    attempts = sum(OutboxMessage.objects.values_list("attempts", flat=True))
    assert failed > 0
    # Every attempt was either a 503 or a call the platform took; each 503 was retried with the same key. A
    # call it took is one that stored, or (an answer lost on a very slow machine) the replay of the stored one.
    assert attempts == failed + reached
    assert reached == len(projects) + sum(
        records["create_calls"][p.project_number]["replayed"] for p in projects
    )


# ---------------------------------------------------------------- a worker killed mid-delivery


def test_it_enters_once_when_the_worker_is_killed_in_the_middle_of_a_delivery(
    celery_stack, national_platform, clerk, reviewer, yuzhong
):
    _base_url, simulator = national_platform
    # The call stays in flight for 5 s (within the worker's HTTP timeout, FAST_TIMINGS): time enough to kill the
    # worker in it, even on a loaded machine.
    simulator.set_faults(latency_ms=5000)
    beat = celery_stack.beat()
    worker = celery_stack.worker()
    project = approved(clerk, reviewer, yuzhong)

    end_notices(project)

    def leased():
        message = OutboxMessage.objects.filter(project=project).first()
        return (
            message
            and message.attempts >= 1
            and message.leased_until
            and message.state == OutboxState.PENDING
        )

    wait_for(leased, timeout=60, interval=0.05, what="the delivery to be leased", logs=[worker, beat])
    # The platform has read the whole call (it counts it in flight) and is 5 s from answering.
    wait_for(
        lambda: simulator.faults()["in_flight"] == 1,
        timeout=10,
        interval=0.02,
        what="the platform to receive the call",
        logs=[worker],
    )
    worker.kill()  # SIGKILL to the worker and its pool children: no warm shutdown, no acknowledgement
    killed_at = time.monotonic()
    assert status_of(project) == Status.ENTERING
    assert message_of(project).state == OutboxState.PENDING

    # The platform finishes the call it was given and stores the record; the portal never heard the answer.
    number = project.project_number
    wait_for(
        lambda: simulator.records()["create_calls"].get(number, {}).get("stored"),
        timeout=30,
        what="the simulator to store the killed worker's call",
    )
    simulator.clear_faults()

    # A new worker; beat's sweep hands it the message once the dead worker's lease has expired.
    worker = celery_stack.worker()
    wait_for(
        lambda: status_of(project) == ENTERED, timeout=60, what="the record to enter", logs=[worker, beat]
    )
    print(f"entered {time.monotonic() - killed_at:.1f}s after the worker was killed")

    records = assert_entered_exactly_once(simulator, project)
    assert records["create_calls"][number]["replayed"] >= 1  # the retry got the stored answer back
    assert message_of(project).attempts == 2


# ---------------------------------------------------------------- beat down across a notice's end


def test_it_closes_a_notice_that_ended_while_beat_was_down_when_beat_comes_back(
    celery_stack, national_platform, clerk, reviewer, yuzhong
):
    _base_url, simulator = national_platform
    worker = celery_stack.worker()
    project = approved(clerk, reviewer, yuzhong)

    end_notices(project)

    # No beat, no sweep: a worker alone keeps no timers (nothing waits in the broker for this notice).
    assert stays(lambda: status_of(project) == Status.IN_NOTICE, seconds=4)
    assert Notice.objects.get(project=project).state == NoticeState.RUNNING

    beat = celery_stack.beat()
    started = time.monotonic()
    wait_for(
        lambda: status_of(project) == ENTERED, timeout=30, what="the record to enter", logs=[worker, beat]
    )
    print(f"entered {time.monotonic() - started:.1f}s after beat started")

    assert Notice.objects.get(project=project).state == NoticeState.CLOSED
    assert_entered_exactly_once(simulator, project)


# ---------------------------------------------------------------- a permanent failure, retried from the console


def test_it_keeps_a_permanent_failure_for_the_console_and_delivers_on_retry(
    celery_stack, national_platform, clerk, reviewer, yuzhong, client
):
    _base_url, simulator = national_platform
    worker = celery_stack.worker(NATIONAL_PLATFORM_API_KEY="a-wrong-key")
    project = approved(clerk, reviewer, yuzhong)
    end_notices(project)
    services.close_expired_notices()

    wait_for(
        lambda: message_of(project).state == OutboxState.FAILED,
        timeout=30,
        what="the delivery to fail for good",
        logs=[worker],
    )
    message = message_of(project)
    assert message.attempts == 1  # a 401 is not retried: only a person can fix it
    assert message.last_status_code == 401
    assert "unauthorized" in message.last_error
    assert status_of(project) == Status.ENTERING
    assert simulator.records()["records"] == []

    client.force_login(reviewer)
    page = client.get(reverse("admin:projects_project_change", args=[project.pk])).content.decode()
    assert f'id="retry-form-{message.pk}"' in page
    assert "unauthorized" in page

    # The key is corrected (a new worker with the right one), then the reviewer presses 重新报送.
    worker.stop()
    worker = celery_stack.worker()
    response = client.post(
        reverse("admin:projects_project_retry_delivery", args=[project.pk, message.pk]), follow=True
    )
    assert "已重新报送" in response.content.decode()

    wait_for(lambda: status_of(project) == ENTERED, timeout=30, what="the record to enter", logs=[worker])
    assert_entered_exactly_once(simulator, project)
    assert message_of(project).attempts == 1  # counted afresh from the retry

"""A correction end to end with the real parts: PostgreSQL, a Celery worker and beat on Redis, the national-platform
simulator over HTTP. The only time machine is moving a running notice's `ends_at` into the past; beat's sweep, the
outbox, the delivery task and the simulator do the rest.

version 1 enters → the enterprise files a request → the district accepts → the city approves → the corrected version
is noticed → its notice ends → the sweep → the simulator holds version 2 of the SAME national id; each version was
delivered exactly once; the public library still shows version 1 at /library/<id>/v1/.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from corrections import services as correction_services
from corrections.models import CorrectionStatus
from projects.audit import Actor
from projects.models import CityDepartment, PermitStage, Status
from publicity.models import LibraryEntry, OutboxKind, OutboxMessage, OutboxState
from review import services as review_services
from tests.builders import (
    PDF_BYTES,
    end_notices,
    make_city_user,
    make_enterprise_user,
    make_project,
    make_reviewer,
    status_of,
)
from tests.processes import needs_postgresql_and_redis, wait_for

pytestmark = [needs_postgresql_and_redis, pytest.mark.django_db(transaction=True)]

ENTERED = Status.IN_NATIONAL_LIBRARY


def national_version(project) -> int | None:
    return LibraryEntry.objects.filter(project=project).values_list("national_version", flat=True).first()


def test_it_corrects_an_entered_record_into_version_2_of_the_same_national_record(
    celery_stack, national_platform, authorities, client
):
    _base_url, simulator = national_platform
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk")
    reviewer = make_reviewer(yuzhong, username="yz-reviewer")
    approver = make_city_user(username="approval-center", department=CityDepartment.APPROVAL_CENTER)
    worker = celery_stack.worker()
    beat = celery_stack.beat()
    logs = [worker, beat]

    # Version 1 enters the library: approval, the notice ends, beat's sweep, the worker's delivery.
    project = make_project(
        clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED, name="渝中区解放碑商务楼"
    )
    review_services.approve(actor=Actor(user=reviewer), project=project)
    end_notices(project)
    wait_for(lambda: status_of(project) == ENTERED, timeout=60, what="version 1 to enter", logs=logs)
    entry = LibraryEntry.objects.get(project=project)
    national_id = entry.national_id
    assert (national_id, entry.national_version) == (f"NP-{project.project_number}", 1)
    permit_row = PermitStage.objects.filter(project=project).values().get()

    # The correction: request → district opinion → city decision.
    request = correction_services.file_correction_request(
        actor=Actor(user=clerk),
        project=project,
        statement="施工许可环节的勘察单位名称录入有误，申请更正。",
        items=[
            {
                "stage": "permit",
                "field": "survey_enterprise_name",
                "proposed_value": "重庆市勘察设计研究院",
                "reason": "勘察单位名称录入时漏字，以勘察合同为准",
            }
        ],
        evidence_files=[SimpleUploadedFile("勘察合同.pdf", PDF_BYTES, content_type="application/pdf")],
    )
    correction_services.give_district_opinion(
        actor=Actor(user=reviewer), request_id=request.pk, accepts=True, opinion="经核对勘察合同，情况属实"
    )
    correction_services.decide_at_city(
        actor=Actor(user=approver), request_id=request.pk, approves=True, opinion="同意更正"
    )
    request.refresh_from_db()
    assert request.status == CorrectionStatus.APPROVED and request.result_snapshot.version == 2
    assert status_of(project) == Status.IN_NOTICE

    # While the corrected version is noticed, the library (here and on the platform) still holds version 1.
    assert national_version(project) == 1
    assert [v["version"] for v in simulator.records()["records"][0]["versions"]] == [1]

    end_notices(project)
    wait_for(lambda: national_version(project) == 2, timeout=60, what="version 2 to enter", logs=logs)
    wait_for(
        lambda: status_of(project) == ENTERED, timeout=10, what="the record to be locked again", logs=logs
    )

    # The platform: the same national id, two versions, the second the corrected snapshot; one create.
    records = simulator.records()
    [record] = records["records"]
    assert record["national_id"] == national_id and record["current_version"] == 2
    assert [v["version"] for v in record["versions"]] == [1, 2]
    corrected = OutboxMessage.objects.get(snapshot=request.result_snapshot).payload
    assert record["versions"][1]["payload"] == corrected
    assert (
        record["versions"][1]["payload"]["TBBuilderLicenceManage"][0]["EconCorpName"]
        == "重庆市勘察设计研究院"
    )
    assert record["versions"][0]["payload"]["TBBuilderLicenceManage"][0]["EconCorpName"] == "重庆市勘察院"
    # The stage record numbers stay the same across the correction.
    numbers = [
        {
            table: rows[0].get(column)
            for table, rows in version["payload"].items()
            for column in ("TenderNum", "RecordNum", "CensorNum", "BuilderLicenceNum", "PrjFinishNum")
            if column in rows[0]
            and table != "TBProjectFinishManage"
            or column == "PrjFinishNum"
            and table == "TBProjectFinishManage"
        }
        for version in record["versions"]
    ]
    assert (
        numbers[0] == numbers[1]
        and numbers[0]["TBBuilderLicenceManage"] == f"{project.project_number}-SX-001"
    )
    assert records["create_calls"][project.project_number]["stored"] == 1

    # The outbox: exactly one delivered message per version, the second an update of the same record.
    messages = list(OutboxMessage.objects.filter(project=project).order_by("national_version"))
    assert [(m.kind, m.national_version, m.state) for m in messages] == [
        (OutboxKind.CREATE, 1, OutboxState.DELIVERED),
        (OutboxKind.UPDATE, 2, OutboxState.DELIVERED),
    ]
    assert [m.idempotency_key for m in messages] == [
        f"{project.project_number}-v1",
        f"{project.project_number}-v2",
    ]
    assert {m.national_id for m in messages} == {national_id}
    assert [v["idempotency_key"] for v in record["versions"]] == [m.idempotency_key for m in messages]

    entry.refresh_from_db()
    assert (entry.national_id, entry.snapshot_id) == (national_id, request.result_snapshot_id)
    # The stage rows keep what the district approved; the snapshot versions carry the correction.
    assert PermitStage.objects.filter(project=project).values().get() == permit_row

    # The public library: version 2 is current, version 1 still readable.
    current = client.get(reverse("publicity:library_detail", args=[national_id])).content.decode()
    assert "重庆市勘察设计研究院" in current and "第2版" in current
    first = client.get(reverse("publicity:library_version", args=[national_id, 1]))
    assert first.status_code == 200
    page = first.content.decode()
    assert "重庆市勘察院" in page and "重庆市勘察设计研究院" not in page and "历史版本" in page

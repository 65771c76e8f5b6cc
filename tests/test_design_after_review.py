"""A design record after its agency's review (docs/design-projects.md, docs/corrections.md, docs/lifecycle.md): the
agency that reviewed it handles the public's objections during its notice, and gives the correction opinion once it
is in the national library, through the same pages and services as a district does for a construction record. The
district where it lies, another agency and the enterprise are refused (audited, nothing changed)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from corrections import services as correction_services
from corrections.models import CorrectionRequest, CorrectionStatus
from projects.audit import Actor
from projects.models import AuditEvent, CityDepartment, ReviewComment, Status
from publicity import services as publicity_services
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    ObjectionStatus,
    OutboxMessage,
    OutboxState,
    Snapshot,
)
from review import queue
from review import services as review_services
from tests.builders import (
    DESIGNER_TWO_ID,
    PDF_BYTES,
    end_notices,
    make_agency,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    status_of,
)

pytestmark = pytest.mark.django_db

OTHER_AGENCY_CODE = "91500103MC00000124"


@pytest.fixture
def designer(db):
    return make_design_enterprise_user(username="designer")


@pytest.fixture
def agency_reviewer(db):
    return make_agency_reviewer(make_agency(), username="agency-reviewer")


@pytest.fixture
def other_agency_reviewer(db):
    return make_agency_reviewer(make_agency(OTHER_AGENCY_CODE, "另一审查机构"), username="other-agency")


@pytest.fixture
def noticed(designer, agency_reviewer, yuzhong, open_windows):
    """A design record its agency approved: its notice is running (DESIGN_PROJECTS_NOTICED)."""
    project = make_design_project(
        designer.membership.enterprise,
        designer,
        yuzhong,
        status=Status.SUBMITTED,
        reviewing_agency=agency_reviewer.membership.enterprise,
    )
    return review_services.approve(actor=Actor(user=agency_reviewer), project=project)


@pytest.fixture
def in_library(noticed):
    end_notices(noticed)
    assert publicity_services.close_expired_notices() == 1
    message = OutboxMessage.objects.get(project=noticed, state=OutboxState.PENDING)
    publicity_services.mark_delivered(message.pk, f"NP-{noticed.project_number}")
    noticed.refresh_from_db()
    assert noticed.status == Status.IN_NATIONAL_LIBRARY
    return noticed


def objection_to(project) -> Objection:
    return publicity_services.file_objection(
        notice_id=Notice.objects.get(project=project).pk,
        name="张三",
        contact="13800000000",
        reason="公示的设计人员中王设计并未参与该项目。",
        ip_address="203.0.113.5",
    )


def handle_url(project, objection, name):
    return reverse(f"admin:projects_project_{name}_objection", args=[project.pk, objection.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# ---------------------------------------------------------------- objections during the notice


def test_the_agency_finds_the_objection_in_its_queue_and_dismisses_it_on_the_page(
    client, noticed, agency_reviewer
):
    objection = objection_to(noticed)
    assert status_of(noticed) == Status.OBJECTED
    assert [p.pk for p in queue.in_status(agency_reviewer, Status.OBJECTED)] == [noticed.pk]
    client.force_login(agency_reviewer)
    assert (
        objection.reference
        in client.get(reverse("admin:projects_project_change", args=[noticed.pk])).content.decode()
    )

    response = client.post(
        handle_url(noticed, objection, "dismiss"),
        {"outcome": "经核实，王设计为该项目建筑专业负责人，异议不成立。"},
        follow=True,
    )

    assert any("不成立" in m for m in messages_of(response)), messages_of(response)
    objection.refresh_from_db()
    assert (objection.status, objection.handled_by) == (ObjectionStatus.DISMISSED, agency_reviewer)
    assert Notice.objects.get(project=noticed).state == NoticeState.RUNNING
    assert status_of(noticed) == Status.IN_NOTICE
    assert AuditEvent.objects.filter(action="objection.dismiss", actor=agency_reviewer).exists()


def test_the_agency_upholds_an_objection_and_the_record_goes_back_with_it_as_a_comment(
    client, noticed, agency_reviewer
):
    objection = objection_to(noticed)
    client.force_login(agency_reviewer)

    client.post(handle_url(noticed, objection, "uphold"), {"outcome": "经核实，设计人员填报有误，异议成立。"})

    assert status_of(noticed) == Status.RETURNED
    assert Notice.objects.get(project=noticed).state == NoticeState.CANCELLED
    comment = ReviewComment.objects.get(project=noticed)
    assert objection.reference in comment.text and "13800000000" not in comment.text
    assert not OutboxMessage.objects.filter(project=noticed).exists()


@pytest.mark.parametrize("who", ["district", "other_agency", "enterprise"])
@pytest.mark.parametrize("handle", ["dismiss", "uphold"])
def test_nobody_but_its_agency_handles_a_design_records_objection(
    client, noticed, reviewer, other_agency_reviewer, designer, who, handle
):
    user = {"district": reviewer, "other_agency": other_agency_reviewer, "enterprise": designer}[who]
    objection = objection_to(noticed)
    service = getattr(publicity_services, f"{handle}_objection")

    with pytest.raises(Exception) as refused:
        service(actor=Actor(user=user), objection_id=objection.pk, outcome="异议不成立。")

    assert refused.type.__name__ == "PermissionDenied"
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING
    assert status_of(noticed) == Status.OBJECTED
    assert Notice.objects.get(project=noticed).state == NoticeState.PAUSED
    assert AuditEvent.objects.filter(action=f"objection.{handle}.refused", actor=user).exists()


def test_the_district_may_not_handle_it_on_the_page_either(client, noticed, reviewer):
    objection = objection_to(noticed)
    client.force_login(reviewer)

    response = client.post(
        handle_url(noticed, objection, "dismiss"), {"outcome": "异议不成立。"}, follow=True
    )

    assert any("施工图审查机构" in m for m in messages_of(response)), messages_of(response)
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.PENDING and status_of(noticed) == Status.OBJECTED
    assert AuditEvent.objects.filter(action="objection.dismiss.refused", actor=reviewer).exists()


# ---------------------------------------------------------------- a correction once in the library

ITEMS = [
    {
        "stage": "drawing_review",
        "field": "survey_enterprise_name",
        "proposed_value": "重庆市勘察设计研究院",
        "reason": "勘察单位名称以审查合格书为准",
    },
    {
        "stage": "drawing_review",
        "field": "designers",
        "proposed_value": f"赵结构 身份证 {DESIGNER_TWO_ID} 注册结构工程师 一级 项目负责人",
        "reason": "项目负责人以图签页为准",
    },
]


def file_request(project, designer) -> CorrectionRequest:
    return correction_services.file_correction_request(
        actor=Actor(user=designer, ip_address="192.0.2.10"),
        project=project,
        statement="施工图审查环节的勘察单位名称和勘察设计人员有误，申请更正。",
        items=ITEMS,
        evidence_files=[SimpleUploadedFile("证明.pdf", PDF_BYTES, content_type="application/pdf")],
    )


def test_the_agency_that_reviewed_it_gives_the_correction_opinion_then_the_city_approves_a_new_version(
    client, in_library, designer, agency_reviewer
):
    request = file_request(in_library, designer)
    approver = make_city_user(username="approval-center", department=CityDepartment.APPROVAL_CENTER)
    # The agency's work queue lists it, as a district's lists its records' requests.
    client.force_login(agency_reviewer)
    tabs = {key: count for key, _label, count in client.get(reverse("review:queue")).context["tabs"]}
    assert tabs.get("corrections") == 1, tabs
    assert (
        request.reference
        in client.get(reverse("corrections:detail", args=[request.reference])).content.decode()
    )

    client.post(
        reverse("corrections:opinion", args=[request.reference]),
        {"accepts": "yes", "opinion": "经核对审查合格书和图签页，情况属实。"},
    )

    request.refresh_from_db()
    assert (request.status, request.district_by) == (CorrectionStatus.AT_CITY, agency_reviewer)
    assert AuditEvent.objects.filter(action="correction.opinion", actor=agency_reviewer).exists()

    correction_services.decide_at_city(
        actor=Actor(user=approver), request_id=request.pk, approves=True, opinion="同意更正"
    )
    request.refresh_from_db()
    in_library.refresh_from_db()
    assert request.status == CorrectionStatus.APPROVED and in_library.status == Status.IN_NOTICE
    v2 = request.result_snapshot
    review = v2.content["stages"]["drawing_review"]
    assert review["survey_enterprise_name"] == "重庆市勘察设计研究院"
    assert review["designers"] == [
        {
            "name": "赵结构",
            "id_type": "1",
            "id_number": DESIGNER_TWO_ID,
            "registration_type": "注册结构工程师",
            "registration_level": "一级",
            "role": "项目负责人",
        }
    ]
    # The library publishes version 1 until the corrected version has entered.
    entry = LibraryEntry.objects.get(project=in_library)
    assert entry.snapshot == Snapshot.objects.get(project=in_library, version=1)


@pytest.mark.parametrize("who", ["district", "other_agency"])
def test_nobody_but_its_agency_gives_the_opinion(
    client, in_library, designer, reviewer, other_agency_reviewer, who
):
    user = {"district": reviewer, "other_agency": other_agency_reviewer}[who]
    request = file_request(in_library, designer)

    with pytest.raises(Exception) as refused:
        correction_services.give_district_opinion(
            actor=Actor(user=user), request_id=request.pk, accepts=True, opinion="同意。"
        )

    assert refused.type.__name__ == "PermissionDenied"
    request.refresh_from_db()
    assert request.status == CorrectionStatus.FILED and request.district_by is None
    assert AuditEvent.objects.filter(action="correction.opinion.refused", actor=user).exists()

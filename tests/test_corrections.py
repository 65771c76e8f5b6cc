"""Corrections of records in the national library (corrections/, docs/corrections.md): the services with
every refusal of the issue's bad-input list (nothing changed), the start_correction_notice row of docs/lifecycle.md
cell by cell, what publicity's sweep and delivery do with a corrected version, and the pages: the role × action
matrix of every URL, the forms, and a fixed number of queries whatever the data size.

Records enter the library through the real services (approval, the sweep, the delivery's bookkeeping); only the
HTTP call to the platform is left out here (tests/test_corrections_e2e.py makes it, with a worker and the
simulator)."""

import datetime
import re
from pathlib import Path
from types import SimpleNamespace

import hypothesis
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import strategies
from stdnum.cn import uscc

from corrections import selectors as correction_selectors
from corrections import services as correction_services
from corrections import values as correction_values
from corrections.models import (
    CorrectionEvidence,
    CorrectionItem,
    CorrectionOrder,
    CorrectionRequest,
    CorrectionStatus,
)
from projects import permissions as policy
from projects.audit import Actor
from projects.forms import EARLIEST_DATE, LATEST_DATE, stage_form_class
from projects.models import (
    AuditEvent,
    CityDepartment,
    ContractStage,
    ContractType,
    Notification,
    PermitStage,
    Project,
    RecordLocked,
    Status,
)
from publicity import services as publicity_services
from publicity.models import (
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Snapshot,
)
from review import services as review_services
from tests.builders import (
    EXE_BYTES,
    PDF_BYTES,
    PNG_BYTES,
    end_notices,
    last_event_id,
    make_city_user,
    make_enterprise_user,
    make_project,
)

pytestmark = pytest.mark.django_db

CREDIT_A = "91500103MA5U0000" + "0" * 1
CREDIT_A += uscc.calc_check_digit(CREDIT_A)
CREDIT_B = "91500105MA5U1111" + "1"
CREDIT_B += uscc.calc_check_digit(CREDIT_B)
DOC = Path(__file__).resolve().parent.parent / "docs" / "lifecycle.md"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- the world


@pytest.fixture
def other_clerk(db):
    return make_enterprise_user(username="other-clerk")


@pytest.fixture
def approver(db):
    return make_city_user(username="approval-center", department=CityDepartment.APPROVAL_CENTER)


@pytest.fixture
def city_other(db):
    return make_city_user(username="design-office", department=CityDepartment.DESIGN)


def enter(project, reviewer) -> LibraryEntry:
    """A submitted record taken into the library by the real services: the district approves (snapshot v1 and its
    notice), the notice ends, the sweep writes the outbox row, and mark_delivered books what the platform answered
    (what deliver() calls after a 201)."""
    review_services.approve(actor=Actor(user=reviewer), project=project)
    end_notices(project)
    assert publicity_services.close_expired_notices() == 1
    message = OutboxMessage.objects.get(project=project, state=OutboxState.PENDING)
    publicity_services.mark_delivered(message.pk, f"NP-{project.project_number}")
    return LibraryEntry.objects.get(project=project)


def entered_record(clerk, reviewer, authority, **fields) -> Project:
    project = make_project(clerk.membership.enterprise, clerk, authority, status=Status.SUBMITTED, **fields)
    enter(project, reviewer)
    project.refresh_from_db()
    assert project.status == Status.IN_NATIONAL_LIBRARY
    return project


@pytest.fixture
def record(clerk, reviewer, yuzhong):
    return entered_record(clerk, reviewer, yuzhong, name="渝中区解放碑商务楼")


def pdf(name="更正证明.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


ITEMS = [
    {
        "stage": "permit",
        "field": "survey_enterprise_name",
        "proposed_value": "重庆市勘察设计研究院",
        "reason": "勘察单位名称录入时漏字，以勘察合同为准",
    },
    {
        "stage": "",
        "field": "name",
        "proposed_value": "渝中区解放碑商务大楼",
        "reason": "项目名称以立项批复为准",
    },
]


def file(record, clerk, items=ITEMS, evidence=None, **kwargs) -> CorrectionRequest:
    return correction_services.file_correction_request(
        actor=Actor(user=clerk, ip_address="192.0.2.10"),
        project=record,
        statement=kwargs.pop("statement", "施工许可环节的勘察单位名称和项目名称录入有误，申请更正。"),
        items=items,
        evidence_files=[pdf()] if evidence is None else evidence,
        **kwargs,
    )


def accepted(record, clerk, reviewer) -> CorrectionRequest:
    request = file(record, clerk)
    return correction_services.give_district_opinion(
        actor=Actor(user=reviewer),
        request_id=request.pk,
        accepts=True,
        opinion="经核对勘察合同和立项批复，情况属实",
    )


def approved(record, clerk, reviewer, approver) -> CorrectionRequest:
    request = accepted(record, clerk, reviewer)
    return correction_services.decide_at_city(
        actor=Actor(user=approver), request_id=request.pk, approves=True, opinion="同意更正"
    )


def state_of(project) -> dict:
    """Everything a correction service may change."""
    return {
        "project": Project.objects.filter(pk=project.pk).values().get(),
        "requests": list(CorrectionRequest.objects.order_by("id").values()),
        "items": list(CorrectionItem.objects.order_by("id").values()),
        "evidence": CorrectionEvidence.objects.count(),
        "orders": list(CorrectionOrder.objects.order_by("id").values()),
        "snapshots": list(Snapshot.objects.order_by("id").values_list("id", "version", "content_hash")),
        "notices": list(Notice.objects.order_by("id").values_list("id", "state")),
        "outbox": OutboxMessage.objects.count(),
        "entry": LibraryEntry.objects.filter(project=project).values().first(),
        "notifications": Notification.objects.count(),
        "permit": PermitStage.objects.filter(project=project).values().first(),
    }


def events_since(since) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=since).order_by("id"))


def assert_refused_and_audited(call, project, action, expected, actor_user):
    """Refused with a Chinese message, nothing changed, the refusal recorded once."""
    before, since = state_of(project), last_event_id()
    with pytest.raises(expected) as refused:
        call()
    message = str(refused.value)
    assert CHINESE.search(message), message
    assert state_of(project) == before
    [event] = events_since(since)
    assert (event.action, event.project_id, event.message) == (f"{action}.refused", project.pk, message)
    assert event.actor == (actor_user if actor_user.is_authenticated else None)
    return message


# ---------------------------------------------------------------- what may be corrected


def test_it_defines_the_correctable_fields_from_the_published_snapshot(record):
    content = Snapshot.objects.get(project=record, version=1).content
    project_fields = set(content["project"])
    assert set(correction_values.CORRECTABLE_FIELDS[""]) == project_fields - set(
        correction_values.NOT_CORRECTABLE_PROJECT_FIELDS
    )
    assert {"project_number", "county_code"} & set(correction_values.CORRECTABLE_FIELDS[""]) == set()
    for code, fields in content["stages"].items():
        assert set(correction_values.CORRECTABLE_FIELDS[code]) == set(fields), code
    keys = {t["key"] for t in correction_values.correctable_targets(content)}
    assert "permit.permit_number" in keys and "project.name" in keys and "project.project_number" not in keys


# ---------------------------------------------------------------- the enterprise files a request


def test_it_files_a_request_with_its_items_and_evidence_and_tells_the_district(
    record, clerk, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    since = last_event_id()
    with django_capture_on_commit_callbacks(execute=True):
        request = file(record, clerk, evidence=[pdf(), SimpleUploadedFile("照片.png", PNG_BYTES)])

    assert request.status == CorrectionStatus.FILED
    assert request.base_snapshot == LibraryEntry.objects.get(project=record).snapshot
    items = {(i.stage, i.field_name): i for i in request.items.all()}
    permit = items[("permit", "survey_enterprise_name")]
    assert (permit.current_value, permit.proposed_value) == ("重庆市勘察院", "重庆市勘察设计研究院")
    assert items[("", "name")].current_value == "渝中区解放碑商务楼"
    evidence = list(request.evidence.order_by("id"))
    assert [(e.original_name, e.content_type) for e in evidence] == [
        ("更正证明.pdf", "application/pdf"),
        ("照片.png", "image/png"),
    ]
    assert evidence[0].file.open("rb").read() == PDF_BYTES
    [event] = [e for e in events_since(since) if e.action == "correction.file"]
    assert (event.actor, event.project_id, event.ip_address) == (clerk, record.pk, "192.0.2.10")
    assert event.changes["items"][1][0] == {
        "stage": "permit",
        "field": "survey_enterprise_name",
        "from": "重庆市勘察院",
        "to": "重庆市勘察设计研究院",
    }
    [note] = Notification.objects.filter(recipient=reviewer)
    assert request.reference in note.body and "勘察单位名称" in note.body
    assert [m.to for m in mailoutbox] == [[reviewer.email]]
    record.refresh_from_db()
    assert record.status == Status.IN_NATIONAL_LIBRARY  # nothing moves until the city approves


def test_it_parses_each_value_as_the_stage_form_does(record, clerk):
    # Each proposal is derived from the record's current value, so it always differs from it. A fixed "2016/07/02"
    # once failed: the builders' permit date is 2016-07-01 plus one day per 99 records built earlier in the run,
    # so from the 100th record of a session on it equalled the proposal ("更正后的内容与现有内容相同").
    issued_on = record.permit.issued_on - datetime.timedelta(days=1)
    actual_cost = (record.completion.actual_cost or 0) + 1
    contract_type = "600" if record.contract.contract_type != "600" else "301"
    passed = "否" if record.drawing_review.passed_first_review else "是"
    members = f"重庆甲建设有限公司 {CREDIT_A}\n重庆乙建设有限公司，{CREDIT_B.lower()}"
    request = file(
        record,
        clerk,
        items=[
            {
                "stage": "completion",
                "field": "actual_cost",
                "proposed_value": f"{actual_cost}",
                "reason": "以结算书为准",
            },
            {
                "stage": "contract",
                "field": "contract_type",
                "proposed_value": dict(ContractType.choices)[contract_type],
                "reason": "合同类别错选",
            },
            {
                "stage": "drawing_review",
                "field": "passed_first_review",
                "proposed_value": passed,
                "reason": "误选",
            },
            {
                "stage": "permit",
                "field": "issued_on",
                "proposed_value": f"{issued_on:%Y/%m/%d}",
                "reason": "以证书为准",
            },
            {
                "stage": "contract",
                "field": "joint_venture_members",
                "proposed_value": members,
                "reason": "漏填联合体",
            },
        ],
    )

    stored = {i.field_name: i.proposed_value for i in request.items.all()}
    assert stored == {
        "actual_cost": f"{actual_cost:.2f}",
        "contract_type": contract_type,
        "passed_first_review": passed,
        "issued_on": issued_on.isoformat(),
        # As the contract stage's form reads them: name + credit-code pairs, one a line, the code upper-cased.
        "joint_venture_members": f"重庆甲建设有限公司 {CREDIT_A}\n重庆乙建设有限公司 {CREDIT_B}",
    }
    field = ContractStage._meta.get_field("joint_venture_members")
    assert correction_values.parse_value(field, stored["joint_venture_members"]) == [
        {"name": "重庆甲建设有限公司", "credit_code": CREDIT_A},
        {"name": "重庆乙建设有限公司", "credit_code": CREDIT_B},
    ]


def test_a_joint_venture_member_with_a_wrong_code_is_refused_as_the_contract_stage_refuses_it(record, clerk):
    wrong = CREDIT_A[:-1] + ("0" if CREDIT_A[-1] != "0" else "1")
    item = {"stage": "contract", "field": "joint_venture_members", "reason": "漏填联合体"}
    for proposed, words in (
        (f"重庆甲建设有限公司 {wrong}", "联合体成员“重庆甲建设有限公司”的统一社会信用代码"),
        ("重庆甲建设有限公司", "缺少统一社会信用代码"),
    ):
        with pytest.raises(ValidationError) as refused:
            file(record, clerk, items=[{**item, "proposed_value": proposed}])
        assert words in " ".join(refused.value.messages)
    assert not CorrectionRequest.objects.filter(project=record).exists()


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    day=strategies.dates(EARLIEST_DATE, LATEST_DATE),
    style=strategies.sampled_from(["%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%Y年%m月%d日", "%Y.%m.%d"]),
)
def test_a_date_is_parsed_as_the_stage_form_parses_it(day, style):
    """Whatever the form takes, a correction takes as the same day; whatever it refuses, a correction refuses."""
    text = day.strftime(style)
    field = PermitStage._meta.get_field("issued_on")
    try:
        form_value = stage_form_class("permit").base_fields["issued_on"].clean(text).isoformat()
    except ValidationError:
        with pytest.raises(ValidationError):
            correction_values.parse_value(field, text)
        return
    assert correction_values.parse_value(field, text) == form_value == day.isoformat()


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(
    members=strategies.lists(
        strategies.tuples(
            strategies.text(alphabet="重庆甲乙丙丁建设工程有限公司集团（）", min_size=2, max_size=20),
            strategies.from_regex(r"[0-9]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{9}", fullmatch=True),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_joint_venture_members_round_trip_as_the_contract_form_reads_them(members):
    pairs = [{"name": name, "credit_code": body + uscc.calc_check_digit(body)} for name, body in members]
    text = correction_values.value_text(ContractStage._meta.get_field("joint_venture_members"), pairs)
    field = ContractStage._meta.get_field("joint_venture_members")
    form_value = stage_form_class("contract").base_fields["joint_venture_members"].clean(text)
    assert correction_values.parse_value(field, text) == form_value == pairs


BAD_ITEMS = {
    "nonexistent field": ({"stage": "permit", "field": "no_such_field"}, "没有“no_such_field”这个字段"),
    "nonexistent stage": ({"stage": "nowhere", "field": "permit_number"}, "没有“nowhere”这个环节"),
    "project number (not correctable)": ({"stage": "", "field": "project_number"}, "不是可以更正的内容"),
    "county code (not correctable)": ({"stage": "", "field": "county_code"}, "不是可以更正的内容"),
    "stage's internal field": ({"stage": "permit", "field": "updated_by"}, "不是可以更正的内容"),
    "same as now": (
        {"stage": "permit", "field": "design_enterprise_name", "proposed_value": "重庆市设计院"},
        "与现有内容相同",
    ),
    "no value": (
        {"stage": "permit", "field": "design_enterprise_name", "proposed_value": " "},
        "请填写更正后的内容",
    ),
    "no reason": ({"stage": "permit", "field": "design_enterprise_name", "reason": ""}, "请说明错误原因"),
    "not a date": ({"stage": "permit", "field": "issued_on", "proposed_value": "2016-13-45"}, "日期"),
    "bad credit code": (
        {
            "stage": "permit",
            "field": "construction_enterprise_credit_code",
            "proposed_value": "915001030000000000",
        },
        "统一社会信用代码",
    ),
    "bad choice": ({"stage": "contract", "field": "contract_type", "proposed_value": "999"}, "有效"),
    "markup": ({"stage": "permit", "field": "design_enterprise_name", "proposed_value": "<b>x</b>"}, ""),
    "dates out of order (rule engine)": (
        {"stage": "completion", "field": "actual_completion_on", "proposed_value": "2016-12-01"},
        "未通过校验",
    ),
    "permit cites no drawing review (rule engine)": (
        {
            "stage": "permit",
            "field": "drawing_review_certificate_number",
            "proposed_value": "渝审字（2016）第1号",
        },
        "未通过校验",
    ),
    "out of scope type (rule engine)": (
        {"stage": "", "field": "project_type", "proposed_value": "other"},
        "未通过校验",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ITEMS), ids=list(BAD_ITEMS))
def test_it_refuses_an_item_it_cannot_apply_and_changes_nothing(record, clerk, case):
    bad, expected = BAD_ITEMS[case]
    item = {"proposed_value": "重庆市另一家单位", "reason": "录入有误", **bad}
    before, since = state_of(record), last_event_id()

    with pytest.raises(ValidationError) as refused:
        file(record, clerk, items=[ITEMS[0], item])

    text = " ".join(refused.value.messages)
    assert expected in text and "第2项" in text, text
    assert state_of(record) == before
    assert events_since(since) == []  # a form error, shown to the enterprise: not a refusal of who or when


def test_it_refuses_a_document_number_another_record_uses(record, clerk, reviewer, yuzhong):
    other = make_project(clerk.membership.enterprise, clerk, yuzhong)
    taken = PermitStage.objects.get(project=other).permit_number
    before = state_of(record)

    with pytest.raises(ValidationError) as refused:
        file(
            record,
            clerk,
            items=[{"stage": "permit", "field": "permit_number", "proposed_value": taken, "reason": "x"}],
        )

    assert f"已被项目{other.project_number}使用" in " ".join(refused.value.messages)
    assert state_of(record) == before


@pytest.mark.parametrize(
    "files,expected",
    [
        ([], "请上传至少一份证明材料"),
        ([SimpleUploadedFile("证明.pdf", EXE_BYTES)], "不是PDF、JPEG或PNG"),
        ([pdf()] * 11, "最多10份"),
    ],
    ids=["none", "an executable named .pdf", "too many"],
)
def test_it_refuses_missing_or_wrong_evidence_whole(record, clerk, files, expected):
    before = state_of(record)

    with pytest.raises(ValidationError) as refused:
        file(record, clerk, evidence=files)

    assert expected in " ".join(refused.value.messages)
    assert state_of(record) == before


def test_it_refuses_evidence_over_the_size_limit(record, clerk, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    before = state_of(record)

    with pytest.raises(ValidationError) as refused:
        file(record, clerk)

    assert "超过上限" in " ".join(refused.value.messages)
    assert state_of(record) == before


@pytest.mark.parametrize("status", [Status.SUBMITTED, Status.IN_NOTICE, Status.DRAFT])
def test_it_refuses_a_request_on_a_record_not_in_the_library(clerk, reviewer, yuzhong, status):
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    if status == Status.IN_NOTICE:
        review_services.approve(actor=Actor(user=reviewer), project=project)
    elif status == Status.DRAFT:
        Project.objects.filter(pk=project.pk).update(status=Status.DRAFT)
    project.refresh_from_db()

    message = assert_refused_and_audited(
        lambda: file(project, clerk), project, "correction.file", RecordLocked, clerk
    )
    assert f"“{Status(status).label}”" in message and "不能申请更正" in message


def test_it_refuses_a_request_during_the_notice_of_a_correction(record, clerk, reviewer, approver):
    approved(record, clerk, reviewer, approver)
    record.refresh_from_db()
    assert record.status == Status.IN_NOTICE

    message = assert_refused_and_audited(
        lambda: file(record, clerk), record, "correction.file", RecordLocked, clerk
    )
    assert "请待本次公示和入库完成后再申请" in message


@pytest.mark.parametrize("who", ["other enterprise", "reviewer", "city"])
def test_it_refuses_a_request_by_anyone_but_the_owner(record, other_clerk, reviewer, approver, who):
    user = {"other enterprise": other_clerk, "reviewer": reviewer, "city": approver}[who]

    assert_refused_and_audited(lambda: file(record, user), record, "correction.file", PermissionDenied, user)


def test_it_refuses_a_second_open_request_and_takes_one_after_the_first_ends(record, clerk, reviewer):
    first = file(record, clerk)

    message = assert_refused_and_audited(
        lambda: file(record, clerk), record, "correction.file", RecordLocked, clerk
    )
    assert first.reference in message and "待区县核查" in message

    correction_services.give_district_opinion(
        actor=Actor(user=reviewer), request_id=first.pk, accepts=False, opinion="证明材料不能证明原信息有误"
    )
    second = file(record, clerk)
    assert second.status == CorrectionStatus.FILED


# ---------------------------------------------------------------- the enterprise withdraws


def test_the_owner_withdraws_a_filed_request_and_the_district_is_told(
    record, clerk, reviewer, approver, django_capture_on_commit_callbacks, mailoutbox
):
    request = file(record, clerk)
    entry_before = LibraryEntry.objects.filter(project=record).values().get()
    since = last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        correction_services.withdraw_correction_request(
            actor=Actor(user=clerk, ip_address="192.0.2.10"),
            request_id=request.pk,
            reason="自行核对后原信息无误",
        )

    request.refresh_from_db()
    assert request.status == CorrectionStatus.WITHDRAWN
    [event] = events_since(since)
    assert (event.action, event.actor, event.ip_address, event.changes) == (
        "correction.withdraw",
        clerk,
        "192.0.2.10",
        {"status": ["filed", "withdrawn"]},
    )
    assert event.message == f"撤回更正申请{request.reference}：自行核对后原信息无误"
    notice = Notification.objects.get(recipient=reviewer, title__startswith="更正申请已撤回")
    assert request.reference in notice.body and "自行核对后原信息无误" in notice.body
    assert not Notification.objects.filter(recipient=approver).exists()
    assert [m.to for m in mailoutbox] == [[reviewer.email]]
    # The record and its library entry are untouched, and a new request may be filed.
    assert LibraryEntry.objects.filter(project=record).values().get() == entry_before
    assert file(record, clerk).status == CorrectionStatus.FILED


def test_a_request_at_the_city_may_be_withdrawn_and_the_approval_center_is_told(
    record, clerk, reviewer, approver
):
    request = accepted(record, clerk, reviewer)

    correction_services.withdraw_correction_request(actor=Actor(user=clerk), request_id=request.pk)

    request.refresh_from_db()
    assert request.status == CorrectionStatus.WITHDRAWN
    assert Notification.objects.filter(recipient=approver, title__startswith="更正申请已撤回").count() == 1
    assert policy.may_decide_correction(approver, request) is False


@pytest.mark.parametrize("ended", ["district declined", "city approved", "withdrawn"])
def test_a_request_that_has_ended_cannot_be_withdrawn(record, clerk, reviewer, approver, ended):
    if ended == "district declined":
        request = file(record, clerk)
        correction_services.give_district_opinion(
            actor=Actor(user=reviewer), request_id=request.pk, accepts=False, opinion="不予更正"
        )
    elif ended == "city approved":
        request = approved(record, clerk, reviewer, approver)
    else:
        request = file(record, clerk)
        correction_services.withdraw_correction_request(actor=Actor(user=clerk), request_id=request.pk)

    message = assert_refused_and_audited(
        lambda: correction_services.withdraw_correction_request(
            actor=Actor(user=clerk), request_id=request.pk
        ),
        record,
        "correction.withdraw",
        RecordLocked,
        clerk,
    )
    assert "已办结，不能撤回" in message


@pytest.mark.parametrize("who", ["another enterprise", "the district", "city approval center"])
def test_only_the_owner_may_withdraw(record, clerk, other_clerk, reviewer, approver, who):
    request = file(record, clerk)
    user = {"another enterprise": other_clerk, "the district": reviewer, "city approval center": approver}[
        who
    ]

    assert_refused_and_audited(
        lambda: correction_services.withdraw_correction_request(
            actor=Actor(user=user), request_id=request.pk
        ),
        record,
        "correction.withdraw",
        PermissionDenied,
        user,
    )


def test_a_reason_with_markup_is_refused_and_nothing_changes(record, clerk):
    request = file(record, clerk)
    before, since = state_of(record), last_event_id()

    with pytest.raises(ValidationError) as refused:
        correction_services.withdraw_correction_request(
            actor=Actor(user=clerk), request_id=request.pk, reason="<script>alert(1)</script>"
        )

    assert CHINESE.search(refused.value.messages[0])
    assert state_of(record) == before
    assert events_since(since) == []


def test_a_withdrawn_answer_leaves_its_order_unanswered_and_overdue_again(record, clerk, reviewer):
    late = order_due(record, reviewer, 3, "施工许可证编号有误")
    answer = file(record, clerk, order=late)
    assert list(correction_selectors.overdue_orders(reviewer)) == []

    correction_services.withdraw_correction_request(actor=Actor(user=clerk), request_id=answer.pk)

    assert list(correction_selectors.overdue_orders(reviewer)) == [late]


def test_the_owner_withdraws_through_the_detail_page(client, record, clerk, reviewer):
    request = file(record, clerk)
    client.force_login(reviewer)
    assert 'id="withdraw-request"' not in client.get(detail_url(request)).content.decode()
    client.force_login(clerk)
    assert 'id="withdraw-request"' in client.get(detail_url(request)).content.decode()

    response = client.post(
        reverse("corrections:withdraw", args=[request.reference]), {"reason": "申请有误"}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        f"已撤回更正申请{request.reference}。该记录保持入库时的内容。"
    ]
    assert "企业已撤回" in response.content.decode()
    assert 'id="withdraw-request"' not in response.content.decode()
    response = client.post(reverse("corrections:withdraw", args=[request.reference]), {}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "该更正申请当前状态为“企业已撤回”，已办结，不能撤回（可能已有其他人处理）。"
    ]


# ---------------------------------------------------------------- the district's opinion


def test_it_sends_an_accepted_request_to_the_approval_center(
    record, clerk, reviewer, approver, city_other, django_capture_on_commit_callbacks, mailoutbox
):
    request = file(record, clerk)
    since = last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        correction_services.give_district_opinion(
            actor=Actor(user=reviewer),
            request_id=request.pk,
            accepts=True,
            opinion="经核对勘察合同，情况属实",
        )

    request.refresh_from_db()
    assert (request.status, request.district_accepts, request.district_by) == (
        CorrectionStatus.AT_CITY,
        True,
        reviewer,
    )
    [event] = events_since(since)
    assert event.action == "correction.opinion" and event.changes["status"] == ["filed", "at_city"]
    assert Notification.objects.filter(recipient=clerk, title__contains="区县同意更正").count() == 1
    assert Notification.objects.filter(recipient=approver, title__contains="待审定").count() == 1
    assert not Notification.objects.filter(recipient=city_other).exists()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([clerk.email, approver.email])


def test_it_ends_a_declined_request_at_the_district(record, clerk, reviewer):
    request = file(record, clerk)

    correction_services.give_district_opinion(
        actor=Actor(user=reviewer),
        request_id=request.pk,
        accepts=False,
        opinion="证明材料与原登记一致，不予更正",
    )

    request.refresh_from_db()
    assert request.status == CorrectionStatus.DISTRICT_DECLINED
    assert "不予更正" in Notification.objects.filter(recipient=clerk).latest("id").body


@pytest.mark.parametrize("who", ["another district", "owner", "city approval center"])
def test_it_refuses_an_opinion_by_anyone_but_the_records_district(
    record, clerk, other_reviewer, approver, who
):
    request = file(record, clerk)
    user = {"another district": other_reviewer, "owner": clerk, "city approval center": approver}[who]

    message = assert_refused_and_audited(
        lambda: correction_services.give_district_opinion(
            actor=Actor(user=user), request_id=request.pk, accepts=True, opinion="同意"
        ),
        record,
        "correction.opinion",
        PermissionDenied,
        user,
    )
    if who == "another district":
        assert "只能核查本辖区" in message


def test_it_refuses_a_second_opinion_and_a_blank_one(record, clerk, reviewer):
    request = file(record, clerk)
    with pytest.raises(ValidationError, match="请填写更正意见"):
        correction_services.give_district_opinion(
            actor=Actor(user=reviewer), request_id=request.pk, accepts=True, opinion=" "
        )
    correction_services.give_district_opinion(
        actor=Actor(user=reviewer), request_id=request.pk, accepts=True, opinion="属实"
    )

    message = assert_refused_and_audited(
        lambda: correction_services.give_district_opinion(
            actor=Actor(user=reviewer), request_id=request.pk, accepts=False, opinion="改变主意"
        ),
        record,
        "correction.opinion",
        RecordLocked,
        reviewer,
    )
    assert "待市审批服务中心审定" in message


# ---------------------------------------------------------------- the city decides


def test_it_approves_a_correction_into_a_new_version_and_its_notice(
    record, clerk, reviewer, approver, django_capture_on_commit_callbacks, mailoutbox
):
    request = accepted(record, clerk, reviewer)
    base = Snapshot.objects.get(project=record, version=1)
    permit_row = PermitStage.objects.filter(project=record).values().get()
    since = last_event_id()

    with django_capture_on_commit_callbacks(execute=True):
        correction_services.decide_at_city(
            actor=Actor(user=approver), request_id=request.pk, approves=True, opinion="同意"
        )

    request.refresh_from_db()
    record.refresh_from_db()
    assert request.status == CorrectionStatus.APPROVED and request.city_by == approver
    assert record.status == Status.IN_NOTICE
    v2 = request.result_snapshot
    assert (v2.version, v2.is_intact()) == (2, True)
    expected = {**base.content}
    expected["project"] = {**base.content["project"], "name": "渝中区解放碑商务大楼"}
    expected["stages"] = {
        **base.content["stages"],
        "permit": {**base.content["stages"]["permit"], "survey_enterprise_name": "重庆市勘察设计研究院"},
    }
    assert v2.content == expected
    notice = Notice.objects.get(snapshot=v2)
    assert (notice.state, notice.project_name) == (NoticeState.RUNNING, "渝中区解放碑商务大楼")
    # The library still publishes version 1 until the corrected version has entered.
    entry = LibraryEntry.objects.get(project=record)
    assert (entry.snapshot_id, entry.national_version) == (base.pk, 1)
    # The stage rows keep what the district approved: the snapshot versions are the record of truth.
    assert PermitStage.objects.filter(project=record).values().get() == permit_row
    base.refresh_from_db()
    assert base.is_intact()
    actions = [e.action for e in events_since(since)]
    assert actions == ["notice.start", "correction.approve"]
    [event] = [e for e in events_since(since) if e.action == "correction.approve"]
    assert event.changes["status"] == ["in_national_library", "in_notice"] and event.actor == approver
    assert Notification.objects.filter(recipient=clerk, title__contains="批准更正").count() == 1
    assert Notification.objects.filter(recipient=reviewer, title__contains="批准更正").count() == 1
    assert {m.to[0] for m in mailoutbox} == {clerk.email, reviewer.email}


def test_it_declines_at_the_city_and_leaves_the_record_as_it_is(record, clerk, reviewer, approver):
    request = accepted(record, clerk, reviewer)

    correction_services.decide_at_city(
        actor=Actor(user=approver), request_id=request.pk, approves=False, opinion="依据不足"
    )

    request.refresh_from_db()
    record.refresh_from_db()
    assert request.status == CorrectionStatus.CITY_DECLINED and request.result_snapshot is None
    assert record.status == Status.IN_NATIONAL_LIBRARY
    assert Snapshot.objects.filter(project=record).count() == 1


def test_it_refuses_a_city_decision_before_the_district_accepted(record, clerk, approver):
    request = file(record, clerk)

    message = assert_refused_and_audited(
        lambda: correction_services.decide_at_city(
            actor=Actor(user=approver), request_id=request.pk, approves=True, opinion="同意"
        ),
        record,
        "correction.decide",
        RecordLocked,
        approver,
    )
    assert "待区县核查" in message


# ---------------------------------------------------------------- docs/lifecycle.md, the start_correction_notice row

ROLES = (
    "enterprise (owner)",
    "enterprise (other)",
    "reviewer (own authority)",
    "reviewer (other authority)",
    "city",
    "public",
    "system",
)
Y, N = "✔", "✘"
ROW = (N, N, N, N, Y, N, N)


def documented_row(name: str) -> tuple[list[str], list[str]]:
    header = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if cells and cells[0] == "transition":
            header = cells
        elif header and cells and cells[0] == f"`{name}`":
            return header, cells
    raise AssertionError(f"{name} is not in docs/lifecycle.md")


def test_the_lifecycle_document_says_who_starts_a_correction_notice():
    header, cells = documented_row("start_correction_notice")
    assert header[2 : 2 + len(ROLES)] == list(ROLES)
    assert cells[1] == "in_national_library → in_notice"
    assert tuple(cells[2 : 2 + len(ROLES)]) == ROW
    assert "corrections.services.decide_at_city" in cells[-1] and "市审批服务中心" in cells[-1]


@pytest.fixture
def cast(record, clerk, other_clerk, reviewer, other_reviewer, approver):
    return SimpleNamespace(
        record=record,
        actors={
            "enterprise (owner)": Actor(clerk, "192.0.2.10"),
            "enterprise (other)": Actor(other_clerk, "192.0.2.11"),
            "reviewer (own authority)": Actor(reviewer, "192.0.2.12"),
            "reviewer (other authority)": Actor(other_reviewer, "192.0.2.13"),
            "city": Actor(approver, "192.0.2.14"),
            "public": Actor(AnonymousUser(), "203.0.113.7"),
            "system": Actor(AnonymousUser(), None),
        },
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_start_correction_notice_row_cell_by_cell(cast, clerk, reviewer, role):
    request = accepted(cast.record, clerk, reviewer)
    actor = cast.actors[role]
    decide = lambda: correction_services.decide_at_city(  # noqa: E731
        actor=actor, request_id=request.pk, approves=True, opinion="同意更正"
    )

    if ROW[ROLES.index(role)] == N:
        message = assert_refused_and_audited(
            decide, cast.record, "correction.decide", PermissionDenied, actor.user
        )
        assert "只有市审批服务中心" in message
        [event] = AuditEvent.objects.filter(action="correction.decide.refused")
        assert event.ip_address == actor.ip_address
        return

    since = last_event_id()
    decide()
    cast.record.refresh_from_db()
    assert cast.record.status == Status.IN_NOTICE
    [event] = [e for e in events_since(since) if e.action == "correction.approve"]
    assert event.changes["status"] == [Status.IN_NATIONAL_LIBRARY, Status.IN_NOTICE]
    assert (event.actor, event.ip_address, event.organisation) == (actor.user, "192.0.2.14", "市审批服务中心")


def test_a_city_user_of_another_department_may_not_start_a_correction_notice(
    record, clerk, reviewer, city_other
):
    request = accepted(record, clerk, reviewer)

    assert_refused_and_audited(
        lambda: correction_services.decide_at_city(
            actor=Actor(user=city_other), request_id=request.pk, approves=True, opinion="同意"
        ),
        record,
        "correction.decide",
        PermissionDenied,
        city_other,
    )


# ---------------------------------------------------------------- after approval: the sweep and the delivery


def test_the_sweep_sends_the_corrected_version_as_an_update_of_the_same_national_record(
    record, clerk, reviewer, approver, client
):
    approved(record, clerk, reviewer, approver)
    end_notices(record)

    assert publicity_services.close_expired_notices() == 1

    message = OutboxMessage.objects.get(project=record, state=OutboxState.PENDING)
    assert (message.kind, message.national_version, message.snapshot.version) == (OutboxKind.UPDATE, 2, 2)
    assert message.idempotency_key == f"{record.project_number}-v2"
    record.refresh_from_db()
    assert record.status == Status.ENTERING

    publicity_services.mark_delivered(message.pk, f"NP-{record.project_number}")

    record.refresh_from_db()
    entry = LibraryEntry.objects.get(project=record)
    assert record.status == Status.IN_NATIONAL_LIBRARY
    assert (entry.national_id, entry.national_version, entry.snapshot.version) == (
        f"NP-{record.project_number}",
        2,
        2,
    )
    assert entry.project_name == "渝中区解放碑商务大楼" and entry.updated_at is not None
    current = client.get(reverse("publicity:library_detail", args=[entry.national_id])).content.decode()
    assert "重庆市勘察设计研究院" in current and "第2版" in current
    first = client.get(reverse("publicity:library_version", args=[entry.national_id, 1])).content.decode()
    assert "重庆市勘察院" in first and "重庆市勘察设计研究院" not in first and "历史版本" in first


def test_a_second_correction_builds_on_the_version_that_entered(record, clerk, reviewer, approver):
    approved(record, clerk, reviewer, approver)
    end_notices(record)
    publicity_services.close_expired_notices()
    publicity_services.mark_delivered(
        OutboxMessage.objects.get(project=record, state=OutboxState.PENDING).pk, f"NP-{record.project_number}"
    )

    second = file(
        record,
        clerk,
        items=[
            {
                "stage": "permit",
                "field": "chief_supervisor_name",
                "proposed_value": "李建监",
                "reason": "笔误",
            }
        ],
    )

    assert second.base_snapshot.version == 2
    correction_services.give_district_opinion(
        actor=Actor(user=reviewer), request_id=second.pk, accepts=True, opinion="属实"
    )
    correction_services.decide_at_city(
        actor=Actor(user=approver), request_id=second.pk, approves=True, opinion="同意"
    )
    second.refresh_from_db()
    v3 = second.result_snapshot.content
    assert v3["stages"]["permit"]["chief_supervisor_name"] == "李建监"
    assert (
        v3["stages"]["permit"]["survey_enterprise_name"] == "重庆市勘察设计研究院"
    )  # the first correction stays
    assert v3["project"]["name"] == "渝中区解放碑商务大楼"


def test_an_objection_upheld_against_a_corrected_version_returns_the_record_and_the_library_keeps_its_version(
    record, clerk, reviewer, approver
):
    """docs/corrections.md: the rule for every notice holds for a correction's too."""
    request = approved(record, clerk, reviewer, approver)
    notice = Notice.objects.get(snapshot=request.result_snapshot)
    objection = publicity_services.file_objection(
        notice_id=notice.pk, name="张三", contact="13800000000", reason="勘察单位并非该院"
    )

    publicity_services.uphold_objection(
        actor=Actor(user=reviewer), objection_id=objection.pk, outcome="经核实，异议成立"
    )

    record.refresh_from_db()
    entry = LibraryEntry.objects.get(project=record)
    assert record.status == Status.RETURNED
    assert (entry.snapshot.version, entry.national_version) == (1, 1)
    assert Objection.objects.get(pk=objection.pk).status == "upheld"
    assert not OutboxMessage.objects.filter(project=record, state=OutboxState.PENDING).exists()


# ---------------------------------------------------------------- orders (责令更正) and the overdue list


def test_it_issues_an_order_and_tells_the_enterprise(
    record, clerk, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    due = timezone.localdate() + datetime.timedelta(days=15)
    with django_capture_on_commit_callbacks(execute=True):
        order = correction_services.issue_correction_order(
            actor=Actor(user=reviewer), project=record, finding="施工许可证编号与发证机关存档不符", due_on=due
        )

    assert (order.issued_by, order.issuer_name, order.due_on) == (reviewer, "渝中区", due)
    note = Notification.objects.get(recipient=clerk, title__startswith="更正通知")
    assert "施工许可证编号与发证机关存档不符" in note.body
    assert [m.to for m in mailoutbox] == [[clerk.email]]
    assert AuditEvent.objects.filter(action="correction.order", project=record, actor=reviewer).count() == 1


def test_the_city_may_order_a_correction_of_any_record(record, city_other):
    order = correction_services.issue_correction_order(
        actor=Actor(user=city_other),
        project=record,
        finding="抽查发现竣工日期有误",
        due_on=timezone.localdate(),
    )
    assert order.issuer_name == "市城乡建委设计处"


@pytest.mark.parametrize("who", ["another district", "owner"])
def test_it_refuses_an_order_by_anyone_but_the_records_district_or_the_city(
    record, clerk, other_reviewer, who
):
    user = {"another district": other_reviewer, "owner": clerk}[who]
    assert_refused_and_audited(
        lambda: correction_services.issue_correction_order(
            actor=Actor(user=user), project=record, finding="有误", due_on=timezone.localdate()
        ),
        record,
        "correction.order",
        PermissionDenied,
        user,
    )


def test_it_refuses_an_order_on_a_record_not_in_the_library_or_due_in_the_past(
    clerk, reviewer, yuzhong, record
):
    submitted = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    assert_refused_and_audited(
        lambda: correction_services.issue_correction_order(
            actor=Actor(user=reviewer), project=submitted, finding="有误", due_on=timezone.localdate()
        ),
        submitted,
        "correction.order",
        RecordLocked,
        reviewer,
    )
    before = state_of(record)
    with pytest.raises(ValidationError, match="不能早于今天"):
        correction_services.issue_correction_order(
            actor=Actor(user=reviewer),
            project=record,
            finding="有误",
            due_on=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert state_of(record) == before


def order_due(record, issuer, days_ago, finding="有误") -> CorrectionOrder:
    order = correction_services.issue_correction_order(
        actor=Actor(user=issuer), project=record, finding=finding, due_on=timezone.localdate()
    )
    CorrectionOrder.objects.filter(pk=order.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=days_ago)
    )
    return order


def test_it_lists_overdue_orders_scoped_and_drops_the_answered_ones(
    record, clerk, reviewer, other_reviewer, approver, liangjiang, other_clerk
):
    late = order_due(record, reviewer, 3, "施工许可证编号有误")
    due_today = order_due(record, reviewer, 0, "今天到期")
    other_record = entered_record(other_clerk, other_reviewer, liangjiang, name="两江新区厂房")
    elsewhere = order_due(other_record, other_reviewer, 5)

    assert list(correction_selectors.overdue_orders(reviewer)) == [late]
    assert list(correction_selectors.overdue_orders(other_reviewer)) == [elsewhere]
    assert set(correction_selectors.overdue_orders(approver)) == {late, elsewhere}
    assert due_today not in correction_selectors.overdue_orders(approver)

    file(record, clerk, order=late)

    assert list(correction_selectors.overdue_orders(reviewer)) == []
    assert CorrectionRequest.objects.get(order=late).project == record


def test_it_refuses_an_answer_to_an_order_of_another_record(record, clerk, reviewer, yuzhong):
    other_record = entered_record(clerk, reviewer, yuzhong, name="另一个项目")
    order = order_due(other_record, reviewer, 0)
    before = state_of(record)

    with pytest.raises(ValidationError, match="不是针对该项目"):
        file(record, clerk, order=order)

    assert state_of(record) == before


# ---------------------------------------------------------------- pages: role × action

ROLE_NAMES = (
    "anonymous",
    "owner",
    "other enterprise",
    "reviewer own",
    "reviewer other",
    "city approval",
    "city other",
)


@pytest.fixture
def people(clerk, other_clerk, reviewer, other_reviewer, approver, city_other):
    return {
        "anonymous": None,
        "owner": clerk,
        "other enterprise": other_clerk,
        "reviewer own": reviewer,
        "reviewer other": other_reviewer,
        "city approval": approver,
        "city other": city_other,
    }


def login(client, user):
    if user is not None:
        client.force_login(user)


def detail_url(request):
    return reverse("corrections:detail", args=[request.reference])


# (view, method, the request's state needed, expected status by role). 302 for anonymous: to the login page.
# fmt: off
MATRIX = {
    #                  anon owner other rev-own rev-other city-appr city-other
    "list":           (302, 200,  200,  200,    200,      200,      200),
    "detail":         (302, 200,  404,  200,    404,      200,      200),
    "evidence":       (302, 200,  404,  200,    404,      200,      200),
    "opinion":        (302, 403,  404,  302,    404,      403,      403),
    "decision":       (302, 403,  404,  403,    404,      302,      403),
    "withdraw":       (302, 302,  404,  403,    404,      403,      403),
    "create (GET)":   (302, 200,  404,  403,    403,      403,      403),
    "create (POST)":  (302, 302,  404,  403,    403,      403,      403),
    "orders":         (302, 200,  200,  200,    200,      200,      200),
    "overdue orders": (302, 200,  200,  200,    200,      200,      200),
    "order (GET)":    (302, 403,  403,  200,    200,      200,      200),
    "order (POST)":   (302, 403,  403,  302,    400,      302,      302),
}
# fmt: on


def create_post(record):
    return {
        "statement": "勘察单位名称有误",
        "items-TOTAL_FORMS": "3",
        "items-INITIAL_FORMS": "0",
        "items-MIN_NUM_FORMS": "1",
        "items-MAX_NUM_FORMS": "30",
        "items-0-target": "permit.survey_enterprise_name",
        "items-0-proposed_value": "重庆市勘察设计研究院",
        "items-0-reason": "以勘察合同为准",
        "evidence": pdf(),
    }


def perform(client, action, record, clerk, reviewer):
    """Set up what the action needs, then do it; returns the response."""
    if action in ("create (GET)", "create (POST)"):
        url = reverse("corrections:create", args=[record.pk])
        return client.get(url) if action == "create (GET)" else client.post(url, create_post(record))
    if action == "list":
        return client.get(reverse("corrections:list"))
    if action == "orders":
        return client.get(reverse("corrections:orders"))
    if action == "overdue orders":
        return client.get(reverse("corrections:orders") + "?overdue=1")
    if action == "order (GET)":
        return client.get(reverse("corrections:order_create"))
    if action == "order (POST)":
        due = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
        data = {"project_number": record.project_number, "finding": "竣工日期有误", "due_on": due}
        return client.post(reverse("corrections:order_create"), data)
    request = file(record, clerk)
    if action == "detail":
        return client.get(detail_url(request))
    if action == "evidence":
        evidence = request.evidence.get()
        return client.get(reverse("corrections:evidence", args=[request.reference, evidence.pk]))
    if action == "opinion":
        url = reverse("corrections:opinion", args=[request.reference])
        return client.post(url, {"accepts": "yes", "opinion": "情况属实"})
    if action == "withdraw":
        return client.post(
            reverse("corrections:withdraw", args=[request.reference]), {"reason": "自行核对无误"}
        )
    correction_services.give_district_opinion(
        actor=Actor(user=reviewer), request_id=request.pk, accepts=True, opinion="属实"
    )
    return client.post(
        reverse("corrections:decision", args=[request.reference]), {"approves": "yes", "opinion": "同意"}
    )


CELLS = [(action, role) for action in MATRIX for role in ROLE_NAMES]


@pytest.mark.parametrize("action,role", CELLS, ids=[f"{a}-{r}" for a, r in CELLS])
def test_the_role_by_action_matrix_of_every_page(client, record, clerk, reviewer, people, action, role):
    """Every page for every role. A refused write changes nothing; a refusal by a service (the user may see the
    request but not act on it) is audited, a page's own gate (an enterprise on a staff form) is a plain 403."""
    user = people[role]
    expected = MATRIX[action][ROLE_NAMES.index(role)]
    allowed = user is not None and expected in (200, 302)
    login(client, user)
    since = last_event_id()

    response = perform(client, action, record, clerk, reviewer)

    assert response.status_code == expected, response.content.decode()[:500]
    if user is None:
        assert response["Location"].startswith(reverse("login"))
    if expected in (400, 403):
        assert CHINESE.search(response.content.decode())
    request = CorrectionRequest.objects.filter(project=record).first()
    record.refresh_from_db()
    if action == "create (POST)":
        assert (request is not None) == allowed
    if action == "opinion":
        assert request.status == (CorrectionStatus.AT_CITY if allowed else CorrectionStatus.FILED)
    if action == "decision":
        assert request.status == (CorrectionStatus.APPROVED if allowed else CorrectionStatus.AT_CITY)
        assert record.status == (Status.IN_NOTICE if allowed else Status.IN_NATIONAL_LIBRARY)
    if action == "withdraw":
        assert request.status == (CorrectionStatus.WITHDRAWN if allowed else CorrectionStatus.FILED)
    if action == "order (POST)":
        assert CorrectionOrder.objects.count() == (1 if allowed else 0)
    refusals = AuditEvent.objects.filter(id__gt=since, action__endswith=".refused")
    by_service = (
        action in ("opinion", "decision", "withdraw")
        and expected == 403
        or action == "order (POST)"
        and expected == 400
    )
    assert refusals.count() == (1 if by_service else 0)


def test_the_lists_show_each_role_only_its_own_requests(client, record, clerk, people):
    request = file(record, clerk)
    for role, user in people.items():
        if user is None:
            continue
        client.force_login(user)
        page = client.get(reverse("corrections:list")).content.decode()
        visible = role in ("owner", "reviewer own", "city approval", "city other")
        assert (request.reference in page) == visible, role


def test_the_evidence_is_served_as_stored_with_safe_headers(client, record, clerk, reviewer):
    request = file(record, clerk)
    client.force_login(reviewer)

    response = client.get(
        reverse("corrections:evidence", args=[request.reference, request.evidence.get().pk])
    )

    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_the_evidence_downloads_under_its_name_with_the_extension_of_its_detected_type(
    client, record, clerk, reviewer
):
    request = file(record, clerk, evidence=[pdf("evil.html")])
    client.force_login(reviewer)

    response = client.get(
        reverse("corrections:evidence", args=[request.reference, request.evidence.get().pk])
    )

    assert response["Content-Disposition"] == "inline; filename*=UTF-8''evil.pdf"
    assert request.evidence.get().original_name == "evil.html"


def test_a_refused_opinion_page_changes_nothing_and_says_why(client, record, clerk, other_reviewer, reviewer):
    request = file(record, clerk)
    client.force_login(reviewer)
    response = client.post(
        reverse("corrections:opinion", args=[request.reference]), {"accepts": "yes", "opinion": ""}
    )
    assert response.status_code == 400 and "必填项" in response.content.decode()
    request.refresh_from_db()
    assert request.status == CorrectionStatus.FILED


# ---------------------------------------------------------------- pages: the forms


def test_the_enterprise_files_a_request_through_the_form(client, record, clerk):
    client.force_login(clerk)
    page = client.get(reverse("projects:project_detail", args=[record.pk])).content.decode()
    assert reverse("corrections:create", args=[record.pk]) in page

    form = client.get(reverse("corrections:create", args=[record.pk])).content.decode()
    assert "重庆市勘察院" in form and 'value="permit.survey_enterprise_name"' in form
    assert 'value="project.project_number"' not in form

    response = client.post(reverse("corrections:create", args=[record.pk]), create_post(record), follow=True)

    request = CorrectionRequest.objects.get(project=record)
    assert response.redirect_chain[-1][0] == detail_url(request)
    page = response.content.decode()
    assert "待区县核查" in page and "重庆市勘察设计研究院" in page and "更正证明.pdf" in page
    assert request.filed_by == clerk and request.evidence.count() == 1


def test_the_form_refuses_a_forged_field_and_bad_evidence_and_keeps_nothing(client, record, clerk):
    client.force_login(clerk)
    forged = {
        **create_post(record),
        "items-0-target": "project.project_number",
        "items-0-proposed_value": "5001031",
    }
    response = client.post(reverse("corrections:create", args=[record.pk]), forged)
    assert response.status_code == 400 and "选择一个有效的选项" in response.content.decode()

    exe = {**create_post(record), "evidence": SimpleUploadedFile("证明.pdf", EXE_BYTES)}
    response = client.post(reverse("corrections:create", args=[record.pk]), exe)
    assert response.status_code == 400 and "不是PDF、JPEG或PNG" in response.content.decode()

    same = {**create_post(record), "items-0-proposed_value": "重庆市勘察院"}
    response = client.post(reverse("corrections:create", args=[record.pk]), same)
    assert response.status_code == 400 and "与现有内容相同" in response.content.decode()

    assert CorrectionRequest.objects.count() == CorrectionEvidence.objects.count() == 0


def test_the_form_is_refused_on_a_record_not_in_the_library(client, clerk, yuzhong):
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, status=Status.SUBMITTED)
    client.force_login(clerk)
    page = client.get(reverse("projects:project_detail", args=[project.pk])).content.decode()
    assert reverse("corrections:create", args=[project.pk]) not in page

    response = client.get(reverse("corrections:create", args=[project.pk]), follow=True)
    assert "不能申请更正" in response.content.decode()

    response = client.post(
        reverse("corrections:create", args=[project.pk]), create_post(project), follow=True
    )
    assert "不能申请更正" in response.content.decode()
    assert CorrectionRequest.objects.count() == 0
    assert AuditEvent.objects.filter(action="correction.file.refused", project=project).count() == 1


def test_the_form_points_to_the_open_request(client, record, clerk):
    request = file(record, clerk)
    client.force_login(clerk)
    response = client.get(reverse("corrections:create", args=[record.pk]))
    assert response.status_code == 302 and response["Location"] == detail_url(request)


def test_the_enterprise_answers_an_order_with_a_prefilled_form(client, record, clerk, reviewer):
    order = order_due(record, reviewer, 0, "勘察单位名称与合同不符")
    client.force_login(clerk)
    orders = client.get(reverse("corrections:orders")).content.decode()
    answer = f"{reverse('corrections:create', args=[record.pk])}?order={order.pk}"
    assert answer in orders and "待企业申请" in orders

    form = client.get(answer).content.decode()
    assert "勘察单位名称与合同不符" in form and f'name="order" value="{order.pk}"' in form
    response = client.post(answer, {**create_post(record), "order": order.pk})

    assert response.status_code == 302
    assert CorrectionRequest.objects.get(project=record).order == order
    assert "已提交更正申请" in client.get(reverse("corrections:orders")).content.decode()


def test_the_district_and_the_city_act_through_the_detail_page(client, record, clerk, reviewer, approver):
    request = file(record, clerk)
    client.force_login(reviewer)
    page = client.get(detail_url(request)).content.decode()
    assert 'id="give-opinion"' in page and 'id="decide"' not in page
    client.post(
        reverse("corrections:opinion", args=[request.reference]), {"accepts": "yes", "opinion": "属实"}
    )

    client.force_login(approver)
    page = client.get(detail_url(request)).content.decode()
    assert 'id="decide"' in page and 'id="give-opinion"' not in page and "属实" in page
    response = client.post(
        reverse("corrections:decision", args=[request.reference]),
        {"approves": "yes", "opinion": "同意"},
        follow=True,
    )

    assert "已批准更正" in response.content.decode()
    record.refresh_from_db()
    assert record.status == Status.IN_NOTICE


def test_a_reviewer_issues_an_order_through_the_form_and_another_district_is_refused(
    client, record, reviewer, other_reviewer
):
    data = {"project_number": record.project_number, "finding": "竣工日期有误", "due_on": "2099-01-01"}
    client.force_login(other_reviewer)
    response = client.post(reverse("corrections:order_create"), data)
    assert response.status_code == 400 and "本辖区没有项目编号为" in response.content.decode()
    assert CorrectionOrder.objects.count() == 0

    client.force_login(reviewer)
    response = client.post(reverse("corrections:order_create"), data, follow=True)
    assert "已向" in response.content.decode()
    assert CorrectionOrder.objects.get().project == record

    response = client.post(
        reverse("corrections:order_create"), {**data, "project_number": "5001039999999999"}
    )
    assert "没有项目编号为" in response.content.decode()


def test_an_order_for_another_districts_draft_reads_exactly_like_one_for_an_unknown_number(
    client, clerk, yuzhong, other_reviewer
):
    draft = make_project(clerk.membership.enterprise, clerk, yuzhong, name="渝中区未提交的草稿")
    unknown = "5001039999999999"
    client.force_login(other_reviewer)

    def error_for(number):
        data = {"project_number": number, "finding": "竣工日期有误", "due_on": "2099-01-01"}
        response = client.post(reverse("corrections:order_create"), data)
        assert response.status_code == 400
        return response.context["form"].errors["project_number"][0].replace(number, "N")

    assert error_for(draft.project_number) == error_for(unknown) == "本辖区没有项目编号为“N”的补录项目。"
    assert CorrectionOrder.objects.count() == 0


# ---------------------------------------------------------------- pages: a fixed number of queries


def many_requests(clerk, authority, count, status=CorrectionStatus.FILED):
    """Requests on records in the library, written straight to the tables (the query counts are about reading)."""
    for _ in range(count):
        project = make_project(
            clerk.membership.enterprise,
            clerk,
            authority,
            status=Status.IN_NATIONAL_LIBRARY,
            stages=False,
            evidence=False,
        )
        snapshot = Snapshot.objects.create(project=project, version=1, content={"project": {}, "stages": {}})
        CorrectionRequest.objects.create(
            project=project, base_snapshot=snapshot, statement="有误", filed_by=clerk, status=status
        )


def queries_of(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["owner", "reviewer own", "city approval"])
def test_the_request_list_takes_the_same_queries_for_3_or_25_requests(client, clerk, yuzhong, people, who):
    client.force_login(people[who])
    url = reverse("corrections:list") + "?status=filed"
    many_requests(clerk, yuzhong, 3)
    small = queries_of(client, url)
    many_requests(clerk, yuzhong, 22)
    large = queries_of(client, url)
    assert small == large <= 10, (small, large)


def test_the_order_lists_take_the_same_queries_for_3_or_25_orders(client, record, reviewer, approver):
    for user in (reviewer, approver):
        CorrectionOrder.objects.all().delete()
        client.force_login(user)
        for _ in range(3):
            order_due(record, reviewer, 2)
        small = [
            queries_of(client, reverse("corrections:orders")),
            queries_of(client, reverse("corrections:orders") + "?overdue=1"),
        ]
        for _ in range(22):
            order_due(record, reviewer, 2)
        large = [
            queries_of(client, reverse("corrections:orders")),
            queries_of(client, reverse("corrections:orders") + "?overdue=1"),
        ]
        assert small == large and max(large) <= 10, (small, large)


def test_the_detail_page_takes_the_same_queries_for_1_or_12_items_and_files(client, record, clerk, reviewer):
    request = file(record, clerk)
    client.force_login(reviewer)
    small = queries_of(client, detail_url(request))
    for n in range(11):
        CorrectionItem.objects.create(
            request=request,
            stage="completion",
            field_name=f"remarks{n}",
            current_value="",
            proposed_value="x",
            reason="y",
        )
        CorrectionEvidence.objects.create(
            request=request, file=request.evidence.first().file.name, original_name=f"{n}.pdf",
            content_type="application/pdf", size=1, sha256="0" * 64, uploaded_by=clerk,
        )  # fmt: skip
    large = queries_of(client, detail_url(request))
    assert small == large <= 14, (small, large)


def test_the_request_form_takes_the_same_queries_however_many_requests_the_record_had(
    client, record, clerk, reviewer
):
    client.force_login(clerk)
    url = reverse("corrections:create", args=[record.pk])
    small = queries_of(client, url)
    for _ in range(5):
        request = file(record, clerk)
        correction_services.give_district_opinion(
            actor=Actor(user=reviewer), request_id=request.pk, accepts=False, opinion="否"
        )
    large = queries_of(client, url)
    assert small == large <= 12, (small, large)

"""projects.permissions as one table: every function of the policy against every kind of actor.

The world: enterprise A's submitted record P and its draft D, both in 渝中区; enterprise B's submitted record Q in
大渡口区; design enterprise C's submitted design records E and R in 渝中区 (docs/design-projects.md). The actors, one column each:

    anon      an anonymous visitor
    a         a clerk of enterprise A (the owner of P and D)
    b         a clerk of enterprise B
    rev       a reviewer of 渝中区 (P's authority)
    rev2      a reviewer of 大渡口区 (another authority)
    agency    a clerk of a drawing-review agency (an enterprise membership, of kind drawing_review)
    cm design tender quality approval
              a city user of each CityDepartment (建管处, 设计处, 招标办, 质监总站, 审批服务中心)
    staff     a staff user without a membership
    su        a superuser without a membership
    off       an inactive user of enterprise A (the login keeps it out; the policy answers as for A)
    c         a clerk of survey/design enterprise C, which has two submitted design records in 渝中区: E, routed to
              the agency 审图机构, and R, whose agency has no account (it waits in the city's queue)
    arev      a reviewer of the agency 审图机构 (审查机构审核人员)
    arev2     a reviewer of another agency, 审图机构二

Each row states every cell: "Y" allowed / "." not, a value, or the refusal message of an ensure_ helper ("ok" when
it lets the actor through). The expected answers are written out here, not recomputed by the policy's logic.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from corrections.models import CorrectionRequest
from projects import permissions
from projects.models import CityDepartment, EnterpriseKind, Membership, Notification, ProjectKind, Status
from publicity.models import Snapshot
from tests.builders import (
    EnterpriseFactory,
    UserFactory,
    make_agency_reviewer,
    make_city_user,
    make_design_enterprise_user,
    make_design_project,
    make_enterprise_user,
    make_project,
    make_reviewer,
)

pytestmark = pytest.mark.django_db

ACTORS = (
    "anon",
    "a",
    "b",
    "rev",
    "rev2",
    "agency",
    "cm",
    "design",
    "tender",
    "quality",
    "approval",
    "staff",
    "su",
    "off",
    "c",
    "arev",
    "arev2",
)
CITY = {
    "cm": CityDepartment.CONSTRUCTION_MANAGEMENT,
    "design": CityDepartment.DESIGN,
    "tender": CityDepartment.TENDERING_OFFICE,
    "quality": CityDepartment.QUALITY_STATION,
    "approval": CityDepartment.APPROVAL_CENTER,
}


@pytest.fixture
def world(authorities):
    yuzhong, dadukou = authorities["500103"], authorities["500104"]
    enterprise_a = EnterpriseFactory(name="企业A")
    enterprise_b = EnterpriseFactory(name="企业B")
    agency = EnterpriseFactory(name="审图机构", kind=EnterpriseKind.DRAWING_REVIEW)
    other_agency = EnterpriseFactory(name="审图机构二", kind=EnterpriseKind.DRAWING_REVIEW)
    enterprise_c = EnterpriseFactory(name="设计企业C", kind=EnterpriseKind.SURVEY_DESIGN)
    users = {
        "anon": AnonymousUser(),
        "a": make_enterprise_user(enterprise_a, username="a"),
        "b": make_enterprise_user(enterprise_b, username="b"),
        "rev": make_reviewer(yuzhong, username="rev"),
        "rev2": make_reviewer(dadukou, username="rev2"),
        "agency": make_enterprise_user(agency, username="agency"),
        **{name: make_city_user(username=name, department=department) for name, department in CITY.items()},
        "staff": UserFactory(username="staff", is_staff=True),
        "su": UserFactory(username="su", is_staff=True, is_superuser=True),
        "off": make_enterprise_user(enterprise_a, username="off", is_active=False),
        "c": make_design_enterprise_user(enterprise_c, username="c"),
        "arev": make_agency_reviewer(agency, username="arev"),
        "arev2": make_agency_reviewer(other_agency, username="arev2"),
    }
    p = make_project(enterprise_a, users["a"], yuzhong, status=Status.SUBMITTED, stages=False, evidence=False)
    d = make_project(enterprise_a, users["a"], yuzhong, stages=False, evidence=False)
    q = make_project(enterprise_b, users["b"], dadukou, status=Status.SUBMITTED, stages=False, evidence=False)
    e, r = (
        make_design_project(
            enterprise_c,
            users["c"],
            yuzhong,
            status=Status.SUBMITTED,
            stages=False,
            evidence=False,
            reviewing_agency=routed_to,
        )
        for routed_to in (agency, None)
    )
    # Rows about records (as correction requests and orders are), one per record, for the scoped_to_ filters.
    for name, project in (("P", p), ("D", d), ("Q", q), ("E", e), ("R", r)):
        Notification.objects.create(recipient=users["a"], project=project, title=name, body=name)
    # Correction requests for correction_requests_awaiting: filed on P (渝中区), sent up to the city on Q, filed on
    # the design record E (its agency's opinion: docs/corrections.md).
    for project, clerk, status in (
        (p, users["a"], "filed"),
        (q, users["b"], "at_city"),
        (e, users["c"], "filed"),
    ):
        snapshot = Snapshot.objects.create(project=project, version=1, content={}, reason="测试")
        CorrectionRequest.objects.create(
            project=project, base_snapshot=snapshot, statement="更正", status=status, filed_by=clerk
        )
    return SimpleNamespace(
        users=users, p=p, d=d, q=q, e=e, r=r, yuzhong=yuzhong, enterprise_a=enterprise_a, agency=agency
    )


def request_on(project, status):
    """A correction request as the policy reads it: its status and its record."""
    return SimpleNamespace(status=status, project=project)


# A spot-check item as the policy reads it: the drawing review stage, checked by the design department.
DESIGN_ITEM = SimpleNamespace(department=CityDepartment.DESIGN, stage="drawing_review")


def row(text):
    """ "Y . Y …" → {actor: True/False}, one cell per actor in ACTORS' order."""
    cells = text.split()
    assert len(cells) == len(ACTORS), text
    return dict(zip(ACTORS, [cell == "Y" for cell in cells], strict=True))


def cells(*values):
    assert len(values) == len(ACTORS), values
    return dict(zip(ACTORS, values, strict=True))


def names(rows, w):
    """Rows (records or memberships) named as the table names them."""
    by_project = {w.p.pk: "P", w.d.pk: "D", w.q.pk: "Q", w.e.pk: "E", w.r.pk: "R"}
    out = set()
    for item in rows:
        if isinstance(item, Membership):
            out.add(item.user.username)
        elif hasattr(item, "project_id"):
            out.add(by_project[item.project_id])
        else:
            out.add(by_project[item.pk])
    return out


def of_user(predicate):
    """A predicate of the user alone, asked as the table asks every check: (user, world)."""
    return lambda user, _world: predicate(user)


def outcome(check):
    try:
        check()
    except PermissionDenied as refusal:
        return str(refusal)
    return "ok"


# ---------------------------------------------------------------- the table
#
# name → (how to ask the policy for one actor, the expected answers).
# Columns:        anon  a  b  rev rev2 agency cm design tender quality approval staff su off

NOT_ENTERPRISE = "只有企业填报人员可以补录项目信息。"
NOT_REVIEWER = "只有区县（开发区）主管部门或施工图审查机构的审核人员可以审核补录项目。"
AGENCY_NOT_CONSTRUCTION = "施工图审查机构只审核设计项目；施工项目由项目所在地区县（开发区）主管部门审核。"
DISTRICT_READS_DESIGN = (
    "设计项目由施工图审查机构审核；项目所在地区县（开发区）主管部门可以查阅，市级分派给本辖区后方可审核。"
)
NOT_ROUTER = "只有市级管理人员可以分派设计项目的审核。"
ROUTED = "该项目不在待分派的设计项目中（可能已分派或已处理），请刷新后查看。"
NO_RETRY = "只有项目所在地审核部门或市级管理人员可以重新报送。"
NOT_ASSIGNER = "只有审核人员可以分派。"
NOT_CITY = "只有市级管理人员可以设置补录时限。"
NO_ORGANISATION = "您的账号尚未关联单位，请联系管理员。"
NOT_OWNER = "只有企业填报人员可以申请更正本企业的入库记录。"
NOT_DISTRICT = "只有项目所在地区县（开发区）主管部门的审核人员可以核查更正申请。"
NOT_CENTER = "只有市审批服务中心可以审定更正申请。"
NOT_ORDERER = "只有区县（开发区）主管部门或市级管理人员可以发出更正通知。"
NOT_DESIGN = "该抽查事项（施工图审查）由市城乡建委设计处核查，只有市城乡建委设计处的人员可以记录核查结论。"
ALL = {"P", "D", "Q", "E", "R"}
NONE: set = set()

MATRIX = {
    # ------------------------------------------------ role predicates
    "membership_of": (
        lambda u, w: permissions.membership_of(u) is not None,
        row(".  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  .  .  Y  Y  Y  Y"),
    ),
    "is_enterprise": (
        of_user(permissions.is_enterprise),
        row(".  Y  Y  .  .  Y  .  .  .  .  .  .  .  Y  Y  .  ."),
    ),
    "enterprise_of": (
        lambda u, w: getattr(permissions.enterprise_of(u), "name", None),
        cells(
            None,
            "企业A",
            "企业B",
            None,
            None,
            "审图机构",
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "企业A",
            "设计企业C",
            None,
            None,
        ),
    ),
    "is_reviewer": (
        of_user(permissions.is_reviewer),
        row(".  .  .  Y  Y  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "is_city": (of_user(permissions.is_city), row(".  .  .  .  .  .  Y  Y  Y  Y  Y  .  Y  .  .  .  .")),
    "department_of": (
        of_user(permissions.department_of),
        cells(
            "",
            "",
            "",
            "",
            "",
            "",
            "construction_management",
            "design",
            "tendering_office",
            "quality_station",
            "approval_center",
            "",
            "",
            "",
            "",
            "",
            "",
        ),
    ),
    "is_approval_center": (
        of_user(permissions.is_approval_center),
        row(".  .  .  .  .  .  .  .  .  .  Y  .  Y  .  .  .  ."),
    ),
    "is_console_user": (
        of_user(permissions.is_console_user),
        row(".  .  .  Y  Y  .  Y  Y  Y  Y  Y  .  Y  .  .  Y  Y"),
    ),
    "has_organisation": (
        of_user(permissions.has_organisation),
        row(".  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  .  Y  Y  Y  Y  Y"),
    ),
    "organisation_name": (
        of_user(permissions.organisation_name),
        cells(
            "",
            "企业A",
            "企业B",
            "渝中区",
            "大渡口区",
            "审图机构",
            "市城乡建委建管处",
            "市城乡建委设计处",
            "市招标办",
            "市质监总站",
            "市审批服务中心",
            "",
            "",
            "企业A",
            "设计企业C",
            "审图机构",
            "审图机构二",
        ),
    ),
    # ------------------------------------------------ object checks (P: A's submitted record in 渝中区)
    "owns(P)": (
        lambda u, w: permissions.owns(u, w.p),
        row(".  Y  .  .  .  .  .  .  .  .  .  .  .  Y  .  .  ."),
    ),
    "reviewer_of(P)": (
        lambda u, w: permissions.reviewer_of(u, w.p),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_decide(P)": (
        lambda u, w: permissions.may_decide(u, w.p),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_decide(D, a draft)": (
        lambda u, w: permissions.may_decide(u, w.d),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_handle_objections(P)": (
        lambda u, w: permissions.may_handle_objections(u, w.p),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_retry_delivery(P)": (
        lambda u, w: permissions.may_retry_delivery(u, w.p),
        row(".  .  .  Y  .  .  Y  Y  Y  Y  Y  .  .  .  .  .  ."),
    ),
    "may_order(P)": (
        lambda u, w: permissions.may_order(u, w.p),
        row(".  .  .  Y  .  .  Y  Y  Y  Y  Y  .  Y  .  .  .  ."),
    ),
    "may_give_opinion(filed on P)": (
        lambda u, w: permissions.may_give_opinion(u, request_on(w.p, "filed")),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_give_opinion(at_city on P)": (
        lambda u, w: permissions.may_give_opinion(u, request_on(w.p, "at_city")),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_withdraw_correction(filed on P)": (
        lambda u, w: permissions.may_withdraw_correction(u, request_on(w.p, "filed")),
        row(".  Y  .  .  .  .  .  .  .  .  .  .  .  Y  .  .  ."),
    ),
    "may_withdraw_correction(approved on P)": (
        lambda u, w: permissions.may_withdraw_correction(u, request_on(w.p, "approved")),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_decide_correction(at_city on P)": (
        lambda u, w: permissions.may_decide_correction(u, request_on(w.p, "at_city")),
        row(".  .  .  .  .  .  .  .  .  .  Y  .  Y  .  .  .  ."),
    ),
    "may_decide_correction(filed on P)": (
        lambda u, w: permissions.may_decide_correction(u, request_on(w.p, "filed")),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_record_finding(design's item)": (
        lambda u, w: permissions.may_record_finding(u, DESIGN_ITEM),
        row(".  .  .  .  .  .  .  Y  .  .  .  .  Y  .  .  .  ."),
    ),
    # ------------------------------------------------ visible querysets (P, D: A's in 渝中区; Q: B's in 大渡口区)
    "visible_projects": (
        lambda u, w: names(permissions.visible_projects(u), w),
        cells(
            NONE,
            {"P", "D"},
            {"Q"},
            {"P", "E", "R"},  # the district reads the design records of its area
            {"Q"},
            NONE,
            {"P", "Q", "E", "R"},
            {"P", "Q", "E", "R"},
            {"P", "Q", "E", "R"},
            {"P", "Q", "E", "R"},
            {"P", "Q", "E", "R"},
            NONE,
            NONE,
            {"P", "D"},
            {"E", "R"},
            {"E"},
            NONE,
        ),
    ),
    "scoped_to_records": (
        lambda u, w: names(permissions.scoped_to_records(u, Notification.objects.all()), w),
        cells(
            NONE,
            {"P", "D"},
            {"Q"},
            {"P", "D", "E", "R"},
            {"Q"},
            NONE,
            ALL,
            ALL,
            ALL,
            ALL,
            ALL,
            NONE,
            ALL,
            {"P", "D"},
            {"E", "R"},
            {"E"},
            NONE,
        ),
    ),
    "scoped_to_console": (
        lambda u, w: names(permissions.scoped_to_console(u, Notification.objects.all()), w),
        cells(
            NONE,
            NONE,
            NONE,
            {"P", "D", "E", "R"},
            {"Q"},
            NONE,
            ALL,
            ALL,
            ALL,
            ALL,
            ALL,
            NONE,
            ALL,
            NONE,
            NONE,
            {"E"},
            NONE,
        ),
    ),
    "scoped_to_department (memberships)": (
        lambda u, w: names(permissions.scoped_to_department(u, Membership.objects.select_related("user")), w),
        cells(
            NONE,
            NONE,
            NONE,
            NONE,
            NONE,
            NONE,
            {"cm"},
            {"design"},
            {"tender"},
            {"quality"},
            {"approval"},
            NONE,
            {
                "a",
                "b",
                "rev",
                "rev2",
                "agency",
                "cm",
                "design",
                "tender",
                "quality",
                "approval",
                "off",
                "c",
                "arev",
                "arev2",
            },
            NONE,
            NONE,
            NONE,
            NONE,
        ),
    ),
    "correction_requests_awaiting (filed on P and E, at_city on Q)": (
        lambda u, w: (
            None
            if (rows := permissions.correction_requests_awaiting(u, CorrectionRequest.objects.all())) is None
            else names(rows, w)
        ),
        # fmt: off
        cells(
            None,
            None,
            None,
            {"P"},
            NONE,
            None,
            None,
            None,
            None,
            None,
            {"Q"},
            None,
            {"Q"},
            None,
            None,
            {"E"},
            NONE,
        ),
        # fmt: on
    ),
    "checks_spot_checks": (
        of_user(permissions.checks_spot_checks),
        row(".  .  .  .  .  .  Y  Y  Y  Y  Y  .  Y  .  .  .  ."),
    ),
    # ------------------------------------------------ who acts for an organisation: is the actor among them
    "in enterprise_members(A)": (
        lambda u, w: permissions.enterprise_members(w.enterprise_a.pk).filter(user_id=u.pk).exists(),
        row(".  Y  .  .  .  .  .  .  .  .  .  .  .  Y  .  .  ."),
    ),
    "in authority_reviewers(渝中区)": (
        lambda u, w: permissions.authority_reviewers(w.yuzhong.pk).filter(user_id=u.pk).exists(),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "in department_members(design, approval)": (
        lambda u, w: (
            permissions.department_members([CityDepartment.DESIGN, CityDepartment.APPROVAL_CENTER])
            .filter(user_id=u.pk)
            .exists()
        ),
        row(".  .  .  .  .  .  .  Y  .  .  Y  .  .  .  .  .  ."),
    ),
    # ------------------------------------------------ ensure_ helpers: "ok" or the refusal's message
    "ensure_enterprise": (
        lambda u, w: outcome(lambda: permissions.ensure_enterprise(u)),
        cells(
            NOT_ENTERPRISE,
            "ok",
            "ok",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            "ok",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            "ok",
            "ok",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
        ),
    ),
    "ensure_own_project(P)": (
        lambda u, w: outcome(lambda: permissions.ensure_own_project(u, w.p)),
        cells(
            NOT_ENTERPRISE,
            "ok",
            "只能操作本企业的补录项目。",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            "只能操作本企业的补录项目。",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            "ok",
            "只能操作本企业的补录项目。",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
        ),
    ),
    "ensure_reviewer_of(P)": (
        lambda u, w: outcome(lambda: permissions.ensure_reviewer_of(u, w.p)),
        cells(
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            "ok",
            "只能审核本辖区内的项目。",
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            NOT_REVIEWER,
            AGENCY_NOT_CONSTRUCTION,
            AGENCY_NOT_CONSTRUCTION,
        ),
    ),
    "ensure_may_retry_delivery(P)": (
        lambda u, w: outcome(lambda: permissions.ensure_may_retry_delivery(u, w.p)),
        cells(
            NO_RETRY,
            NO_RETRY,
            NO_RETRY,
            "ok",
            NO_RETRY,
            NO_RETRY,
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            NO_RETRY,
            NO_RETRY,
            NO_RETRY,
            NO_RETRY,
            NO_RETRY,
            NO_RETRY,
        ),
    ),
    "ensure_may_assign(P to rev)": (
        lambda u, w: outcome(
            lambda: permissions.ensure_may_assign(u, reviewer=w.users["rev"], projects=[w.p])
        ),
        cells(
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            "ok",
            "只能分派给本部门的审核人员。",
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            "只能分派给本部门的审核人员。",
            "只能分派给本部门的审核人员。",
        ),
    ),
    "ensure_may_assign(Q to rev)": (
        lambda u, w: outcome(
            lambda: permissions.ensure_may_assign(u, reviewer=w.users["rev"], projects=[w.q])
        ),
        cells(
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            "只能分派本辖区内的项目。",
            "只能分派给本部门的审核人员。",
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            NOT_ASSIGNER,
            "只能分派给本部门的审核人员。",
            "只能分派给本部门的审核人员。",
        ),
    ),
    "ensure_city(设置补录时限)": (
        lambda u, w: outcome(lambda: permissions.ensure_city(u, "设置补录时限")),
        cells(
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            NOT_CITY,
            "ok",
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
            NOT_CITY,
        ),
    ),
    "ensure_has_organisation": (
        lambda u, w: outcome(lambda: permissions.ensure_has_organisation(u)),
        cells(
            NO_ORGANISATION,
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            NO_ORGANISATION,
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
        ),
    ),
    "ensure_owner(P)": (
        lambda u, w: outcome(lambda: permissions.ensure_owner(u, w.p)),
        cells(
            NOT_OWNER,
            "ok",
            "只能申请更正本企业的项目。",
            NOT_OWNER,
            NOT_OWNER,
            "只能申请更正本企业的项目。",
            NOT_OWNER,
            NOT_OWNER,
            NOT_OWNER,
            NOT_OWNER,
            NOT_OWNER,
            NOT_OWNER,
            NOT_OWNER,
            "ok",
            "只能申请更正本企业的项目。",
            NOT_OWNER,
            NOT_OWNER,
        ),
    ),
    "ensure_district_of(P)": (
        lambda u, w: outcome(lambda: permissions.ensure_district_of(u, w.p)),
        cells(
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            "ok",
            "只能核查本辖区项目的更正申请。",
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            NOT_DISTRICT,
            "只能核查本辖区项目的更正申请。",
            "只能核查本辖区项目的更正申请。",
        ),
    ),
    "ensure_approval_center": (
        lambda u, w: outcome(lambda: permissions.ensure_approval_center(u)),
        cells(
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            "ok",
            NOT_CENTER,
            "ok",
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
            NOT_CENTER,
        ),
    ),
    "ensure_may_order(P)": (
        # The refusal names the number asked for (the same words as for an unknown number): "P" here.
        lambda u, w: outcome(lambda: permissions.ensure_may_order(u, w.p)).replace(w.p.project_number, "P"),
        cells(
            NOT_ORDERER,
            NOT_ORDERER,
            NOT_ORDERER,
            "ok",
            "本辖区没有项目编号为“P”的补录项目。",
            NOT_ORDERER,
            "ok",
            "ok",
            "ok",
            "ok",
            "ok",
            NOT_ORDERER,
            "ok",
            NOT_ORDERER,
            NOT_ORDERER,
            "本辖区没有项目编号为“P”的补录项目。",
            "本辖区没有项目编号为“P”的补录项目。",
        ),
    ),
    "ensure_may_record_finding(design's item)": (
        lambda u, w: outcome(lambda: permissions.ensure_may_record_finding(u, DESIGN_ITEM)),
        cells(
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            "ok",
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            "ok",
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
            NOT_DESIGN,
        ),
    ),
    # ------------------------------------------------ design records (docs/design-projects.md)
    # E: C's submitted design record in 渝中区, routed to 审图机构 (arev's agency); R: C's, waiting in the city's queue.
    "is_agency_reviewer": (
        of_user(permissions.is_agency_reviewer),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  Y"),
    ),
    "agency_of": (
        lambda u, w: getattr(permissions.agency_of(u), "name", None),
        cells(*[None] * 15, "审图机构", "审图机构二"),
    ),
    "is_review_staff": (
        of_user(permissions.is_review_staff),
        row(".  .  .  Y  Y  .  .  .  .  .  .  .  .  .  .  Y  Y"),
    ),
    "reviewer_of(E)": (
        lambda u, w: permissions.reviewer_of(u, w.e),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  ."),
    ),
    "reviewer_of(R, waiting for the city)": (
        lambda u, w: permissions.reviewer_of(u, w.r),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "may_decide(E)": (
        lambda u, w: permissions.may_decide(u, w.e),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  ."),
    ),
    "may_handle_objections(E)": (
        lambda u, w: permissions.may_handle_objections(u, w.e),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  ."),
    ),
    "may_start(construction)": (
        lambda u, w: permissions.may_start(u, ProjectKind.CONSTRUCTION),
        row(".  Y  Y  .  .  .  .  .  .  .  .  .  .  Y  .  .  ."),
    ),
    "may_start(design)": (
        lambda u, w: permissions.may_start(u, ProjectKind.DESIGN),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  .  ."),
    ),
    "may_route(R)": (
        lambda u, w: permissions.may_route(u, w.r),
        row(".  .  .  .  .  .  Y  Y  Y  Y  Y  .  Y  .  .  .  ."),
    ),
    "may_route(E, already routed)": (
        lambda u, w: permissions.may_route(u, w.e),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "decided_projects": (
        lambda u, w: names(permissions.decided_projects(u), w),
        cells(*[NONE] * 3, {"P"}, {"Q"}, *[NONE] * 10, {"E"}, NONE),
    ),
    "awaiting_routing": (
        lambda u, w: names(permissions.awaiting_routing(u), w),
        cells(*[NONE] * 6, *[{"R"}] * 5, NONE, {"R"}, *[NONE] * 4),
    ),
    "in agency_reviewers(审图机构)": (
        lambda u, w: permissions.agency_reviewers(w.agency.pk).filter(user_id=u.pk).exists(),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  ."),
    ),
    "in agency_reviewers_with_account()": (
        lambda u, w: permissions.agency_reviewers_with_account().filter(user_id=u.pk).exists(),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  Y"),
    ),
    "in project_reviewers(E)": (
        lambda u, w: permissions.project_reviewers(w.e).filter(user_id=u.pk).exists(),
        row(".  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y  ."),
    ),
    "in project_reviewers(P)": (
        lambda u, w: permissions.project_reviewers(w.p).filter(user_id=u.pk).exists(),
        row(".  .  .  Y  .  .  .  .  .  .  .  .  .  .  .  .  ."),
    ),
    "ensure_reviewer_of(E)": (
        lambda u, w: outcome(lambda: permissions.ensure_reviewer_of(u, w.e)),
        cells(
            *[NOT_REVIEWER] * 3,
            DISTRICT_READS_DESIGN,
            DISTRICT_READS_DESIGN,
            *[NOT_REVIEWER] * 10,
            "ok",
            "只能审核本机构审查的设计项目。",
        ),
    ),
    "ensure_may_start(design)": (
        lambda u, w: outcome(lambda: permissions.ensure_may_start(u, ProjectKind.DESIGN)),
        cells(
            NOT_ENTERPRISE,
            "建筑企业不能补录设计项目。",
            "建筑企业不能补录设计项目。",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
            "施工图审查机构不能补录设计项目。",
            *[NOT_ENTERPRISE] * 7,
            "建筑企业不能补录设计项目。",
            "ok",
            NOT_ENTERPRISE,
            NOT_ENTERPRISE,
        ),
    ),
    "ensure_may_route(R)": (
        lambda u, w: outcome(lambda: permissions.ensure_may_route(u, w.r)),
        cells(*[NOT_ROUTER] * 6, *["ok"] * 5, NOT_ROUTER, "ok", *[NOT_ROUTER] * 4),
    ),
    "ensure_may_route(E, already routed)": (
        lambda u, w: outcome(lambda: permissions.ensure_may_route(u, w.e)),
        cells(*[NOT_ROUTER] * 6, *[ROUTED] * 5, NOT_ROUTER, ROUTED, *[NOT_ROUTER] * 4),
    ),
}


@pytest.mark.parametrize("name", list(MATRIX))
def test_the_policy_answers_every_actor_as_the_table_says(world, name):
    check, expected = MATRIX[name]

    answers = {actor: check(world.users[actor], world) for actor in ACTORS}

    assert answers == expected


PUBLIC_FUNCTIONS = {
    name
    for name, value in vars(permissions).items()
    if callable(value)
    and not name.startswith("_")
    and getattr(value, "__module__", "") == permissions.__name__
}


def test_every_function_of_the_policy_has_a_row():
    # The three administrators' functions have a table of their own.
    from tests.test_admin_duties import FUNCTIONS as ADMINISTRATORS_TABLE

    covered = (
        ADMINISTRATORS_TABLE
        | {name.split("(")[0].split(" ")[0] for name in MATRIX}
        | {name.split("(")[0].removeprefix("in ") for name in MATRIX if name.startswith("in ")}
    )
    assert PUBLIC_FUNCTIONS - covered == set()


def test_the_correction_states_it_reads_are_the_corrections_own():
    from corrections.models import OPEN_CORRECTION_STATUSES, CorrectionStatus

    assert permissions.CORRECTION_FILED == CorrectionStatus.FILED
    assert permissions.CORRECTION_AT_CITY == CorrectionStatus.AT_CITY
    assert set(permissions.CORRECTION_OPEN) == set(OPEN_CORRECTION_STATUSES)


def test_the_matrix_is_seventeen_actors_wide():
    assert len(ACTORS) == 17 and all(len(expected) == 17 for _check, expected in MATRIX.values())

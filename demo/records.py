"""The demo's records, in every state of docs/lifecycle.md, made through the services a user's click runs.

Nothing here writes a record, a decision, an objection or an entry by hand: each step is the service the pages
and the Celery worker call, so the audit trail, the snapshots, the notices, the objections and the outbox rows
are what the portal itself would have written, and `python manage.py verify_audit` holds. One thing cannot be
done by a service: letting time pass. Notices are started by an approval, so they start now; the seed then moves
each notice's start back (see backdate_notice) to show days left from 1 to 10, or to let it expire.

`seed_records()` runs once per database: the records of the demo enterprises are the marker (`is_seeded()`).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from stdnum.cn import ric, uscc

from corrections import services as corrections
from inspections import services as inspections
from inspections.models import Finding, SpotCheckItem
from integrity import services as integrity
from projects import services as projects
from projects.audit import Actor
from projects.models import (
    STAGE_ORDER,
    Authority,
    Enterprise,
    EvidencePart,
    Project,
    ProjectKind,
    ProjectType,
    StartBasis,
    Status,
)
from publicity import services as publicity
from publicity.models import Notice, NoticeState, OutboxMessage, OutboxState
from publicity.timing import days_left, notice_end
from review import services as review
from review.models import RejectionGround

from .accounts import DEMO_AGENCY, DEMO_CITY_USER, DEMO_DESIGN_ENTERPRISE, DEMO_ENTERPRISES, DEMO_REVIEWERS
from .national import running_simulator

# ---------------------------------------------------------------- what a record holds


def _id_number(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def _credit_code(body: str) -> str:
    return body + uscc.calc_check_digit(body)


# Parties other than the backfilling enterprise (fictitious; their check characters are computed).
PROJECT_MANAGER_ID = _id_number("51020219850312123")  # born 1985 in 市中区 (today 渝中区)
CHIEF_SUPERVISOR_ID = _id_number("51021219860921456")  # born 1986 in 沙坪坝区
OWNER_CREDIT_CODE = _credit_code("12500103MB0000001")
REVIEW_AGENCY_CREDIT_CODE = _credit_code("91500103MC0000001")
TENDER_AGENCY_CREDIT_CODE = _credit_code("91500103MC0000002")
SURVEY_CREDIT_CODE = _credit_code("91500103MC0000003")
DESIGN_CREDIT_CODE = _credit_code("91500103MC0000004")
SUPERVISION_CREDIT_CODE = _credit_code("91500103MC0000005")

# A one-page PDF standing for each scanned document (the portal checks evidence by content: it must be a PDF).
EVIDENCE_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n"
)
EVIDENCE_NAMES = {
    "registration": "项目报建登记表.pdf",
    "tendering": "中标通知书.pdf",
    "contract": "合同备案表.pdf",
    "drawing_review": "施工图审查合格书.pdf",
    "permit": "施工许可证.pdf",
    "completion": "竣工验收备案表.pdf",
}


@dataclass
class Plan:
    """One demo record: who backfills it, where it lies, how far it goes."""

    seq: int
    enterprise: str  # a key of DEMO_ENTERPRISES
    authority: str  # an authority code
    name: str
    state: str  # a Status value, or "entering" / "in_national_library"
    stages: list = field(default_factory=lambda: list(STAGE_ORDER))
    evidence: list | None = None  # stage codes with a file; None: every stage entered
    days_left: int | None = None  # in notice: the days the public sees left
    scale: Decimal = Decimal("1")  # the record's money and areas, relative to the base record


# Six authorities: 渝中区 500103, 两江新区 LJXQ (lies in 渝北区 500112), 江北区, 沙坪坝区, 九龙坡区, 南岸区.
COUNTY_OF_ZONE = {"LJXQ": "500112"}

PLANS = [
    # Drafts: one ready to submit, two the self-check stops (stages missing, evidence missing).
    Plan(1, "shifan", "500103", "渝中区解放碑商业步行街立面整治工程", Status.DRAFT),
    Plan(2, "shifan", "500105", "江北区观音桥小学教学楼工程", Status.DRAFT,
         stages=["registration", "tendering", "contract"], evidence=["registration"]),
    Plan(3, "shancheng", "500106", "沙坪坝区大学城人才公寓工程", Status.DRAFT, evidence=[]),
    # Waiting for a reviewer: in 渝中区 and 两江新区 (demo-reviewer-yuzhong, demo-reviewer-liangjiang), and 九龙坡区.
    Plan(4, "shifan", "500103", "渝中区大坪医院门诊综合楼工程", Status.SUBMITTED, scale=Decimal("2.4")),
    Plan(5, "jialing", "500103", "渝中区化龙桥社区卫生服务中心工程", Status.SUBMITTED, scale=Decimal("0.6")),
    Plan(6, "shifan", "LJXQ", "两江新区悦来会展配套酒店工程", Status.SUBMITTED, scale=Decimal("3.1")),
    Plan(7, "jialing", "LJXQ", "两江新区鱼复工业园标准厂房工程", Status.SUBMITTED, scale=Decimal("1.7")),
    Plan(8, "shancheng", "500107", "九龙坡区西彭镇卫生院综合楼工程", Status.SUBMITTED, scale=Decimal("0.8")),
    # Returned with comments on fields, and one rejected.
    Plan(9, "shifan", "500103", "渝中区石油路街道安置房工程", Status.RETURNED, scale=Decimal("1.9")),
    Plan(10, "shancheng", "500106", "沙坪坝区磁器口游客服务中心工程", Status.RETURNED, scale=Decimal("0.5")),
    Plan(11, "jialing", "500107", "九龙坡区华岩寺停车楼工程", Status.REJECTED),
    # In notice, days left 10 down to 1.
    *[
        Plan(12 + i, enterprise, authority, name, Status.IN_NOTICE, days_left=10 - i, scale=scale)
        for i, (enterprise, authority, name, scale) in enumerate(
            [
                ("shifan", "500103", "渝中区鹅岭公园游客中心工程", Decimal("0.7")),
                ("jialing", "LJXQ", "两江新区礼嘉智慧公园配套用房工程", Decimal("1.2")),
                ("shancheng", "500106", "沙坪坝区歌乐山小学综合楼工程", Decimal("1.1")),
                ("shifan", "500105", "江北区大石坝社区养老服务中心工程", Decimal("0.9")),
                ("jialing", "500108", "南岸区弹子石滨江步道配套用房工程", Decimal("0.4")),
                ("shancheng", "500107", "九龙坡区杨家坪中学实验楼工程", Decimal("1.3")),
                ("shifan", "LJXQ", "两江新区水土高新园研发楼工程", Decimal("2.7")),
                ("jialing", "500103", "渝中区菜园坝公交枢纽站房工程", Decimal("1.6")),
                ("shancheng", "500105", "江北区五里店消防站工程", Decimal("0.6")),
                ("shifan", "500108", "南岸区南坪体育馆改扩建工程", Decimal("2.2")),
            ]
        )
    ],
    # Paused by an objection from the public, waiting for 江北区.
    Plan(22, "shancheng", "500105", "江北区鸿恩寺公园管理用房工程", Status.OBJECTED, days_left=6),
    # The notice is over; the Celery worker delivers it once `make run` is up.
    Plan(23, "jialing", "500108", "南岸区茶园新区农贸市场工程", Status.ENTERING, scale=Decimal("0.9")),
    # In the national library. 24 is corrected to a second version; 28 and 29 are found false by the spot check.
    Plan(24, "shifan", "500103", "渝中区示范综合楼工程", Status.IN_NATIONAL_LIBRARY),
    Plan(25, "shifan", "LJXQ", "两江新区果园港综合服务楼工程", Status.IN_NATIONAL_LIBRARY, scale=Decimal("2.0")),
    Plan(26, "shancheng", "500106", "沙坪坝区三峡广场地下停车库工程", Status.IN_NATIONAL_LIBRARY,
         scale=Decimal("1.4")),
    Plan(27, "jialing", "500105", "江北区北滨路市民服务中心工程", Status.IN_NATIONAL_LIBRARY, scale=Decimal("1.8")),
    Plan(28, "huaxin", "500108", "南岸区南山街道办公楼工程", Status.IN_NATIONAL_LIBRARY, scale=Decimal("0.7")),
    Plan(29, "huaxin", "500107", "九龙坡区黄桷坪文创园改造工程", Status.IN_NATIONAL_LIBRARY, scale=Decimal("1.0")),
    Plan(30, "jialing", "500103", "渝中区朝天门客运码头候船楼工程", Status.IN_NATIONAL_LIBRARY,
         scale=Decimal("2.6")),
]  # fmt: skip

# Design records of demo-design (渝建〔2018〕103号), reviewed by demo-review-agency: (seq, name, authority, state).
# 104 names an agency that has no account: it waits in the city's queue (审核工作台 → 待分派的设计项目).
DESIGN_PLANS = [
    (101, "渝中区大坪医院门诊综合楼设计", "500103", Status.DRAFT),
    (102, "渝中区鹅岭公园游客中心设计", "500103", Status.SUBMITTED),
    (103, "江北区观音桥商圈步行街改造设计", "500105", Status.IN_NOTICE),
    (104, "沙坪坝区大学城图书馆扩建设计", "500106", Status.SUBMITTED),
    (105, "南岸区弹子石滨江步道设计", "500108", Status.IN_NATIONAL_LIBRARY),
]
UNKNOWN_AGENCY = (_credit_code("91500106MC0000009"), "重庆某施工图审查事务所（演示，无账号）")
DESIGNERS = [
    {
        "name": "王建筑",
        "id_type": "1",
        "id_number": _id_number("50010319800101123"),
        "registration_type": "注册建筑师",
        "registration_level": "一级",
        "role": "项目负责人",
    },
    {
        "name": "赵结构",
        "id_type": "1",
        "id_number": _id_number("50010619820202234"),
        "registration_type": "注册结构工程师",
        "registration_level": "一级",
        "role": "专业负责人",
    },
]
DESIGN_EVIDENCE = [
    ("tendering", "", "设计中标通知书.pdf"),
    ("contract", "", "设计合同.pdf"),
    ("drawing_review", EvidencePart.CERTIFICATE, "施工图审查合格书.pdf"),
    ("drawing_review", EvidencePart.COVER_SHEET, "施工图图签页（盖章）.pdf"),
]


def design_stage_values(seq: int, enterprise: Enterprise) -> dict[str, dict]:
    """A design tender, the design contract and the drawing review of a design record that passes every rule,
    reviewed before the cut-off (2018-06-30)."""
    tag = f"YS{seq:03d}"
    start = datetime.date(2016, 1, 10) + datetime.timedelta(days=7 * (seq - 100))
    agency_code, agency_name = UNKNOWN_AGENCY if seq == 104 else DEMO_AGENCY[:2]
    amount = Decimal("860000.00") + Decimal(seq)
    return {
        "tendering": {
            "award_notice_number": f"SJZB-{start.year}-{tag}",
            "tender_class": "design",
            "tender_method": "open",
            "awarded_on": start,
            "award_amount": amount,
            "tender_agency_name": "重庆市建设工程招标代理有限公司",
            "tender_agency_credit_code": TENDER_AGENCY_CREDIT_CODE,
            "winner_name": enterprise.name,
            "winner_credit_code": enterprise.credit_code,
        },
        "contract": {
            "filing_number": f"SJHT-{start.year}-{tag}",
            "contract_number": f"SJ-{start.year}-{tag}",
            "contract_type": "200",
            "amount": amount,
            "signed_on": start + datetime.timedelta(days=20),
            "employer_name": "重庆市城市建设投资（集团）有限公司",
            "employer_credit_code": OWNER_CREDIT_CODE,
            "contractor_name": enterprise.name,
            "contractor_credit_code": enterprise.credit_code,
        },
        "drawing_review": {
            "certificate_number": f"渝设审（{start.year}）第{tag}号",
            "review_agency_name": agency_name,
            "review_agency_credit_code": agency_code,
            "completed_on": start + datetime.timedelta(days=120),
            "passed_first_review": True,
            "first_review_violation_count": 0,
            "survey_enterprise_name": "重庆市勘察院",
            "survey_enterprise_credit_code": SURVEY_CREDIT_CODE,
            "design_enterprise_name": enterprise.name,
            "design_enterprise_credit_code": enterprise.credit_code,
            "designers": DESIGNERS,
        },
    }


CORRECTED = 24  # the record corrected to a second version
FALSE_INFORMATION = 28  # the spot check finds it false: its enterprise is blacklisted
WRONG_INFORMATION = 30  # the spot check finds an error: the enterprise is told to correct it


def project_fields(plan: Plan, authority: Authority) -> dict:
    area = (Decimal("8888.00") * plan.scale).quantize(Decimal("0.01"))
    district = authority.name
    return {
        "authority": authority,
        "county_code": COUNTY_OF_ZONE.get(authority.code, ""),
        "name": plan.name,
        "address": f"重庆市{district}示范路{plan.seq}号",
        "project_type": ProjectType.BUILDING_GENERAL,
        "is_completed": True,
        "start_basis": StartBasis.PERMIT,
        "total_investment": (Decimal("15000000.00") * plan.scale).quantize(Decimal("0.01")),
        "total_area": area,
    }


def stage_values(plan: Plan, enterprise: Enterprise, county_code: str) -> dict[str, dict]:
    """Six stages of a record that passes every rule (projects/rules.py): dates in order in 2015–2017, the
    enterprise as contractor throughout, document numbers unique to the record (YS = 演示)."""
    n = plan.seq
    tag = f"YS{n:03d}"
    start = datetime.date(2015, 3, 1) + datetime.timedelta(days=11 * n)

    def day(offset):
        return start + datetime.timedelta(days=offset)

    amount = (Decimal("12345678.00") * plan.scale).quantize(Decimal("0.01"))
    area = (Decimal("8888.00") * plan.scale).quantize(Decimal("0.01"))
    storeys = 6 + n % 20
    scale_text = f"地上{storeys}层，地下2层"
    permit_number = f"{county_code}{day(120):%Y%m%d}{n % 99 + 1:02d}01"
    certificate_number = f"渝审字（{day(110).year}）第{tag}号"
    land_use = f"地字第{county_code}{day(0).year}{tag}号"
    works_planning = f"建字第{county_code}{day(0).year}{tag}号"
    contractor = {"name": enterprise.name, "credit_code": enterprise.credit_code}
    return {
        "registration": {
            "registration_number": f"BJ-{day(0).year}-{tag}",
            "registered_on": day(0),
            "owner_name": "重庆市城市建设投资（集团）有限公司",
            "owner_credit_code": OWNER_CREDIT_CODE,
            "approval_number": f"渝发改投〔{day(0).year}〕{tag}号",
            "approval_level": "county",
            "land_use_permit_number": land_use,
            "works_planning_permit_number": works_planning,
            "nature": "001",
            "works_category": "01",  # 房屋建筑工程: every demo record is building works (rule NAT-5)
            "function_code": "301",
            "function": "公共建筑",
            "scale": scale_text,
        },
        "tendering": {
            "award_notice_number": f"ZB-{day(45).year}-{tag}",
            "tender_class": "construction",
            "tender_method": "open",
            "awarded_on": day(45),
            "award_amount": amount,
            "area": area,
            "tender_agency_name": "重庆市建设工程招标代理有限公司",
            "tender_agency_credit_code": TENDER_AGENCY_CREDIT_CODE,
            "winner_name": contractor["name"],
            "winner_credit_code": contractor["credit_code"],
            "project_manager_name": "张建国",
            "project_manager_id_type": "1",
            "project_manager_id_number": PROJECT_MANAGER_ID,
        },
        "contract": {
            "filing_number": f"HTBA-{day(70).year}-{tag}",
            "contract_number": f"HT-{day(70).year}-{tag}",
            "contract_type": "301",
            "amount": amount,
            "signed_on": day(70),
            "employer_name": "重庆市城市建设投资（集团）有限公司",
            "employer_credit_code": OWNER_CREDIT_CODE,
            "contractor_name": contractor["name"],
            "contractor_credit_code": contractor["credit_code"],
        },
        "drawing_review": {
            "certificate_number": certificate_number,
            "review_agency_name": "重庆市施工图审查中心",
            "review_agency_credit_code": REVIEW_AGENCY_CREDIT_CODE,
            "completed_on": day(110),
            "passed_first_review": True,
            "first_review_violation_count": 0,
        },
        "permit": {
            "permit_number": permit_number,
            "land_use_permit_number": land_use,
            "works_planning_permit_number": works_planning,
            "drawing_review_certificate_number": certificate_number,
            "contract_amount": amount,
            "area": area,
            "issued_on": day(120),
            "survey_enterprise_name": "重庆市勘察院",
            "survey_enterprise_credit_code": SURVEY_CREDIT_CODE,
            "design_enterprise_name": "重庆市设计院",
            "design_enterprise_credit_code": DESIGN_CREDIT_CODE,
            "construction_enterprise_name": contractor["name"],
            "construction_enterprise_credit_code": contractor["credit_code"],
            "supervision_enterprise_name": "重庆市建设监理有限公司",
            "supervision_enterprise_credit_code": SUPERVISION_CREDIT_CODE,
            "safety_licence_number": f"（渝）JZ安许证字〔2014〕{tag}",
            "project_manager_name": "张建国",
            "project_manager_id_type": "1",
            "project_manager_id_number": PROJECT_MANAGER_ID,
            "chief_supervisor_name": "李监理",
            "chief_supervisor_id_type": "1",
            "chief_supervisor_id_number": CHIEF_SUPERVISOR_ID,
        },
        "completion": {
            "filing_number": f"JGBA-{day(560).year}-{tag}",
            "permit_number": permit_number,
            "quality_supervision_body": "重庆市建设工程质量监督站",
            "construction_enterprise_name": contractor["name"],
            "construction_enterprise_credit_code": contractor["credit_code"],
            "actual_cost": (amount * Decimal("0.97")).quantize(Decimal("0.01")),
            "actual_area": area,
            "actual_scale": scale_text,
            "structure_type": "004",
            "actual_start_on": day(130),
            "actual_completion_on": day(520),
            "filed_on": day(560),
        },
    }


# ---------------------------------------------------------------- the clock


def backdate_notice(notice: Notice, *, days: int) -> Notice:
    """Make a notice the approval started just now look as if it had started `days` days ago.

    The one write outside a service, because a service cannot let time pass: starts_at moves back by `days`, and
    ends_at is computed again from the new start by publicity.timing.notice_end, exactly as start_notice computed
    it, so the public pages, the console and the sweep all read one consistent notice. The audit trail keeps the
    true moment of the approval (its `notice.start` event names the end the notice had then)."""
    starts_at = notice.starts_at - datetime.timedelta(days=days)
    Notice.objects.filter(pk=notice.pk).update(starts_at=starts_at, ends_at=notice_end(starts_at))
    notice.refresh_from_db()
    return notice


def days_back_for(left: int, now: datetime.datetime) -> int:
    """How many days back a notice must have started for the public to see `left` days left today
    (publicity.timing.days_left; it depends on NOTICE_DAY_MODE, so it is searched, not computed)."""
    for back in range(1, 60):
        starts_at = now - datetime.timedelta(days=back)
        if days_left(starts_at, notice_end(starts_at), now) == left:
            return back
    raise ValueError(f"no start gives {left} days left")


def days_back_to_expire(now: datetime.datetime) -> int:
    """How many days back a notice must have started to have ended by now."""
    back = settings.NOTICE_DAYS
    while notice_end(now - datetime.timedelta(days=back)) > now:
        back += 1
    return back


# ---------------------------------------------------------------- the seed


def is_seeded() -> bool:
    codes = [credit_code for credit_code, _, _ in DEMO_ENTERPRISES.values()]
    return Project.objects.filter(enterprise__credit_code__in=codes).exists()


class Seeder:
    def __init__(self, users: dict):
        self.actors = {login: Actor(user=user, ip_address="127.0.0.1") for login, user in users.items()}
        self.authorities = {
            a.code: a for a in Authority.objects.filter(code__in=set(DEMO_REVIEWERS.values()))
        }
        self.reviewer_of = {code: login for login, code in DEMO_REVIEWERS.items()}
        self.projects: dict[int, Project] = {}
        self.now = timezone.now()

    def enterprise_actor(self, plan: Plan) -> Actor:
        return self.actors[DEMO_ENTERPRISES[plan.enterprise][2]]

    def reviewer(self, project: Project) -> Actor:
        return self.actors[self.reviewer_of[project.authority.code]]

    # -- one record, as far as its plan goes

    def enter(self, plan: Plan) -> Project:
        actor = self.enterprise_actor(plan)
        authority = self.authorities[plan.authority]
        project = projects.create_project(actor=actor, data=project_fields(plan, authority))
        values = stage_values(plan, actor.membership.enterprise, project.county_code)
        for code in plan.stages:
            projects.save_stage(actor=actor, project=project, stage_code=code, data=values[code])
        for code in plan.stages if plan.evidence is None else plan.evidence:
            projects.add_evidence(
                actor=actor,
                project=project,
                stage_code=code,
                uploaded_file=SimpleUploadedFile(EVIDENCE_NAMES[code], EVIDENCE_PDF, "application/pdf"),
            )
        self.projects[plan.seq] = project
        return project

    def submit(self, plan: Plan, project: Project) -> Project:
        return projects.submit_project(actor=self.enterprise_actor(plan), project=project)

    def approve(self, project: Project) -> Notice:
        review.approve(actor=self.reviewer(project), project=project, comment="材料齐全，信息与原件一致。")
        return Notice.objects.get(project=project, state=NoticeState.RUNNING)

    def seed_design(self) -> list[Project]:
        """demo-design's records, each as far as its plan goes; returns those to deliver to the library."""
        actor = self.actors[DEMO_DESIGN_ENTERPRISE[2]]
        agency = self.actors[DEMO_AGENCY[2]]
        to_library = []
        for seq, name, code, state in DESIGN_PLANS:
            authority = self.authorities[code]
            data = {
                "kind": ProjectKind.DESIGN,
                "authority": authority,
                "county_code": "",
                "name": name,
                "address": f"重庆市{authority.name}示范路{seq}号",
                "project_type": ProjectType.BUILDING_WORKS,
                "is_classified": False,
                "already_in_national_library": False,
                "total_investment": Decimal("15000000.00"),
                "total_area": Decimal("8888.00"),
            }
            project = projects.create_project(actor=actor, data=data)
            for stage_code, values in design_stage_values(seq, actor.membership.enterprise).items():
                projects.save_stage(actor=actor, project=project, stage_code=stage_code, data=values)
            for stage_code, part, file_name in DESIGN_EVIDENCE:
                projects.add_evidence(
                    actor=actor,
                    project=project,
                    stage_code=stage_code,
                    part=part,
                    uploaded_file=SimpleUploadedFile(file_name, EVIDENCE_PDF, "application/pdf"),
                )
            if state == Status.DRAFT:
                continue
            project = projects.submit_project(actor=actor, project=project)
            if state in (Status.IN_NOTICE, Status.IN_NATIONAL_LIBRARY):
                review.approve(actor=agency, project=project, comment="与审查合格书及存档图纸一致。")
                notice = Notice.objects.get(project=project, state=NoticeState.RUNNING)
                back = (
                    days_back_for(6, self.now) if state == Status.IN_NOTICE else days_back_to_expire(self.now)
                )
                backdate_notice(notice, days=back)
                if state == Status.IN_NATIONAL_LIBRARY:
                    to_library.append(project)
        return to_library

    def seed(self):
        to_library = []
        design_to_library = self.seed_design()
        for plan in PLANS:
            project = self.enter(plan)
            if plan.state == Status.DRAFT:
                continue
            project = self.submit(plan, project)
            if plan.state == Status.RETURNED:
                self.return_with_comments(project)
            elif plan.state == Status.REJECTED:
                review.reject(
                    actor=self.reviewer(project),
                    project=project,
                    ground=RejectionGround.OUT_OF_SCOPE,
                    reason="该停车楼为企业自用附属设施，2018年前已纳入全国平台，不在本次补录范围。",
                )
            elif plan.state in (Status.IN_NOTICE, Status.OBJECTED):
                notice = backdate_notice(self.approve(project), days=days_back_for(plan.days_left, self.now))
                if plan.state == Status.OBJECTED:
                    self.object_to(notice)
            elif plan.state in (Status.ENTERING, Status.IN_NATIONAL_LIBRARY):
                backdate_notice(self.approve(project), days=days_back_to_expire(self.now))
                to_library.append(plan)
        publicity.close_expired_notices()  # the beat sweep: expired notices → entering + outbox rows
        with running_simulator() as simulator_up:
            if simulator_up:
                self.deliver([p for p in to_library if p.state == Status.IN_NATIONAL_LIBRARY])
                self.deliver_projects(design_to_library)
                self.correct(self.projects[CORRECTED])
                self.spot_check()

    def return_with_comments(self, project: Project):
        review.return_for_revision(
            actor=self.reviewer(project),
            project=project,
            comments=[
                {
                    "stage": "permit",
                    "field": "safety_licence_number",
                    "text": "安全生产许可证编号与证书原件不一致，请核对后修改。",
                },
                {
                    "stage": "completion",
                    "field": "evidence",
                    "text": "竣工验收备案表扫描件缺少备案机关印章页，请补充上传。",
                },
                {"stage": "", "field": "address", "text": "项目地址请写到门牌号。"},
            ],
        )

    def object_to(self, notice: Notice):
        publicity.file_objection(
            notice_id=notice.pk,
            name="王先生",
            contact="138****0000（演示）",
            reason="该项目竣工验收备案表所列实际竣工日期与现场公示牌不一致，请核实。",
            ip_address="127.0.0.1",
        )

    def deliver(self, plans: list[Plan]):
        """What the worker's deliver_outbox task does for each pending row (publicity/tasks.py)."""
        self.deliver_projects([self.projects[plan.seq] for plan in plans])

    def deliver_projects(self, records: list[Project]):
        numbers = [project.pk for project in records]
        pending = OutboxMessage.objects.filter(project__in=numbers, state=OutboxState.PENDING)
        for message_id in pending.values_list("pk", flat=True):
            outcome = publicity.deliver(message_id)
            if outcome != "delivered":
                raise RuntimeError(f"报送全国平台模拟器失败 / delivery to the simulator: {outcome}")

    def correct(self, project: Project):
        """A correction to a second version: the enterprise's request, the district's opinion, the city's
        decision (which starts a notice of the corrected version), the notice's end, the update delivered."""
        project.refresh_from_db()
        request = corrections.file_correction_request(
            actor=self.actors[DEMO_ENTERPRISES["shifan"][2]],
            project=project,
            statement="竣工结算审计后实际造价有调整，申请更正竣工验收备案的实际造价。",
            items=[
                {
                    "stage": "completion",
                    "field": "actual_cost",
                    "proposed_value": "11890000.00",
                    "reason": "以竣工结算审计报告（渝审结〔2017〕YS024号）为准。",
                }
            ],
            evidence_files=[SimpleUploadedFile("竣工结算审计报告.pdf", EVIDENCE_PDF, "application/pdf")],
        )
        corrections.give_district_opinion(
            actor=self.reviewer(project),
            request_id=request.pk,
            accepts=True,
            opinion="经核对竣工结算审计报告原件，更正内容属实，同意更正。",
        )
        corrections.decide_at_city(
            actor=self.actors[DEMO_CITY_USER],
            request_id=request.pk,
            approves=True,
            opinion="同意更正，更正后的信息公示10日。",
        )
        notice = Notice.objects.get(project=project, state=NoticeState.RUNNING)
        backdate_notice(notice, days=days_back_to_expire(self.now))
        publicity.close_expired_notices()
        self.deliver([plan for plan in PLANS if plan.seq == CORRECTED])

    def spot_check(self):
        """The city's spot check of the permits in the library, its findings, and a blacklisting."""
        city = self.actors[DEMO_CITY_USER]
        today = timezone.localdate()
        campaign = inspections.create_campaign(
            actor=city,
            name=f"{today.year}年第一批补录项目施工许可信息抽查（演示）",
            authorities=list(self.authorities.values()),
            stages=["permit"],
            period_start=today - datetime.timedelta(days=90),
            period_end=today,
            sample_size=20,
        )
        inspections.draw_sample(actor=city, campaign_id=campaign.pk, seed=2018)
        items = {item.project_id: item for item in SpotCheckItem.objects.filter(campaign=campaign)}
        false_item = items[self.projects[FALSE_INFORMATION].pk]
        inspections.record_finding(
            actor=city,
            item_id=false_item.pk,
            finding=Finding.FALSE_INFORMATION,
            notes="发证机关无该施工许可证的核发记录，许可证复印件系伪造。",
        )
        inspections.record_finding(
            actor=city,
            item_id=items[self.projects[WRONG_INFORMATION].pk].pk,
            finding=Finding.ERROR,
            notes="施工许可证所列合同价款与发证存档不一致。",
            correction_due_on=today + datetime.timedelta(days=30),
        )
        for plan in PLANS:
            project = self.projects[plan.seq]
            item = items.get(project.pk)
            if item and plan.seq not in (FALSE_INFORMATION, WRONG_INFORMATION, CORRECTED):
                inspections.record_finding(
                    actor=city, item_id=item.pk, finding=Finding.CORRECT, notes="与发证存档一致。"
                )
        # The corrected record's item stays to be checked: a campaign in progress.
        integrity.blacklist(
            actor=city,
            source_item_id=false_item.pk,
            reason="补录项目施工许可信息经抽查认定虚假（提供伪造的施工许可证）。",
            starts_on=today,
            ends_on=today + datetime.timedelta(days=730),
        )


def seed_records(users: dict) -> bool:
    """Seed the records unless they exist. Returns whether it seeded."""
    if is_seeded():
        return False
    Seeder(users).seed()
    return True

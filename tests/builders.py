"""Plain functions and factories that build test data through the ORM, for tests and benchmarks: the one module of
builders (fixtures shared by several test modules are in tests/conftest.py).

`valid_stage_data()` is a record that passes every rule of projects/rules.py with no error and no warning;
tests break one thing in it at a time. `make_project()` writes such a record (project, six stages, one PDF per
stage) in a dozen queries, so hundreds can be made in seconds. Users and organisations: factory-boy factories and
`make_enterprise_user()`, `make_reviewer()`, `make_city_user()`, which give the user a Membership.

Also here: small but real files for upload tests (PDF_BYTES, PNG_BYTES, JPEG_BYTES) and one that must be refused
(EXE_BYTES); helpers that read back what tests assert on (`status_of()`, `last_event_id()`, `form_data()`) and move
the clock (`end_notices()`).
"""

import datetime
import hashlib
import itertools
import struct
import uuid
import zlib
from decimal import Decimal

import factory
from django import forms
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from stdnum.cn import ric, uscc

from projects import services
from projects.models import (
    STAGE_MODELS,
    STAGE_ORDER,
    AuditEvent,
    Authority,
    BackfillWindow,
    Enterprise,
    EnterpriseKind,
    Evidence,
    EvidencePart,
    Membership,
    Project,
    ProjectKind,
    ProjectType,
    Role,
    StartBasis,
    Status,
)
from publicity import services as publicity_services
from publicity import snapshots
from publicity.models import LibraryEntry, Notice, NoticeState, Snapshot

# ---------------------------------------------------------------- files


def _pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table (readable by any PDF viewer)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _png() -> bytes:
    """A 1x1 white grayscale PNG."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit, grayscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff"))  # filter 0, one white pixel
        + chunk(b"IEND", b"")
    )


def _jpeg() -> bytes:
    """A 1x1 grey baseline JPEG: one 8x8 block whose coefficients are all zero.

    Huffman tables with a single 1-bit code each (DC category 0, AC end-of-block), so the scan is the bits
    "0" (DC diff 0) and "0" (EOB), padded with ones: 0x3F. Decodes (e.g. in Chromium) to one pixel of 128 grey.
    """

    def segment(marker, payload):
        return b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload

    one_code_of_length_1 = bytes([1] + [0] * 15) + b"\x00"
    return (
        b"\xff\xd8"  # SOI
        + segment(0xDB, b"\x00" + bytes([1]) * 64)  # DQT: table 0, all ones
        + segment(0xC0, b"\x08" + struct.pack(">HH", 1, 1) + b"\x01" + b"\x01\x11\x00")  # SOF0: 1x1, 1 comp.
        + segment(0xC4, b"\x00" + one_code_of_length_1)  # DHT: DC table 0
        + segment(0xC4, b"\x10" + one_code_of_length_1)  # DHT: AC table 0
        + segment(0xDA, b"\x01" + b"\x01\x00" + b"\x00\x3f\x00")  # SOS
        + b"\x3f"
        + b"\xff\xd9"  # EOI
    )


PDF_BYTES = _pdf()
PNG_BYTES = _png()
JPEG_BYTES = _jpeg()
# A Windows executable: the "MZ" DOS header, then padding. Must be refused whatever its file name says.
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 496


# ---------------------------------------------------------------- identifiers


def credit_code(body: str) -> str:
    """A valid unified social credit code (GB 32100-2015) from its first 17 characters, e.g. "91500103MA0000001":
    91 = registered by the market regulator, an enterprise; then the division code; then a 9-character organisation
    code (within the code's alphabet, which has no I, O, S, V, Z). The check character is python-stdnum's."""
    assert len(body) == 17, body
    return body + uscc.calc_check_digit(body)


def id_number(body: str) -> str:
    """A valid resident identity number from its first 17 digits (GB 11643 check digit by python-stdnum)."""
    assert len(body) == 17, body
    return body + ric.calc_check_digit(body + "0")


# Parties other than the backfilling enterprise. Not unique per record: only document numbers must be.
OWNER_CREDIT_CODE = credit_code("12500103MB0000001")  # 建设单位 (a public institution)
REVIEW_AGENCY_CREDIT_CODE = credit_code("91500103MC0000001")
TENDER_AGENCY_CREDIT_CODE = credit_code("91500103MC0000002")
SURVEY_CREDIT_CODE = credit_code("91500103MC0000003")
DESIGN_CREDIT_CODE = credit_code("91500103MC0000004")
SUPERVISION_CREDIT_CODE = credit_code("91500103MC0000005")
# Born 1983–1997, when Chongqing's districts had Sichuan codes (510202, 510212): python-stdnum checks that a
# birthplace code existed in the birth year.
PROJECT_MANAGER_ID = id_number("51020219850312123")  # 市中区 (today 渝中区), 1985
CHIEF_SUPERVISOR_ID = id_number("51021219860921456")  # 沙坪坝区, 1986

_sequence = itertools.count()
_run = uuid.uuid4().hex[:6].upper()  # document numbers of this test run never meet another run's


def valid_stage_data(enterprise, *, seq: int | None = None) -> dict[str, dict]:
    """Field values of all six stages of a clean record of `enterprise` (it is the contractor throughout).

    Dates in order in 2016–2017; every document number unique per call, the 18-digit permit number included
    (500103 + issue date + 2-digit serial + works class 01: the serial runs 01–99, then the issue date moves on).
    """
    n = next(_sequence) if seq is None else seq
    tag = f"{_run}{n:05d}"
    contractor = enterprise.credit_code
    issued_on = datetime.date(2016, 7, 1) + datetime.timedelta(days=n // 99)
    permit_number = f"500103{issued_on:%Y%m%d}{n % 99 + 1:02d}01"
    certificate_number = f"渝审字（2016）第{tag}号"
    land_use_permit_number = f"地字第500103201600{tag}号"
    works_planning_permit_number = f"建字第500103201600{tag}号"
    amount = Decimal("12345678.00")
    area = Decimal("8888.00")
    return {
        "registration": {
            "registration_number": f"BJ-2016-{tag}",
            "registered_on": datetime.date(2016, 3, 1),
            "owner_name": "重庆市渝中区城市建设投资有限公司",
            "owner_credit_code": OWNER_CREDIT_CODE,
            "approval_number": f"渝中发改投〔2016〕{tag}号",
            "approval_level": "county",
            "land_use_permit_number": land_use_permit_number,
            "works_planning_permit_number": works_planning_permit_number,
            "nature": "001",
            "works_category": "01",
            "function_code": "301",
            "function": "办公",
            "scale": "地上18层，地下2层",
        },
        "tendering": {
            "award_notice_number": f"ZB-2016-{tag}",
            "tender_class": "construction",
            "tender_method": "open",
            "awarded_on": datetime.date(2016, 4, 15),
            "award_amount": amount,
            "area": area,
            "tender_agency_name": "重庆市建设工程招标代理有限公司",
            "tender_agency_credit_code": TENDER_AGENCY_CREDIT_CODE,
            "winner_name": enterprise.name,
            "winner_credit_code": contractor,
            "project_manager_name": "张建国",
            "project_manager_id_type": "1",
            "project_manager_id_number": PROJECT_MANAGER_ID,
        },
        "contract": {
            "filing_number": f"HTBA-2016-{tag}",
            "contract_number": f"HT-2016-{tag}",
            "contract_type": "301",
            "amount": amount,
            "signed_on": datetime.date(2016, 5, 10),
            "employer_name": "重庆市渝中区城市建设投资有限公司",
            "employer_credit_code": OWNER_CREDIT_CODE,
            "contractor_name": enterprise.name,
            "contractor_credit_code": contractor,
        },
        "drawing_review": {
            "certificate_number": certificate_number,
            "review_agency_name": "重庆市施工图审查中心",
            "review_agency_credit_code": REVIEW_AGENCY_CREDIT_CODE,
            "completed_on": datetime.date(2016, 6, 20),
            "passed_first_review": True,
            "first_review_violation_count": 0,
        },
        "permit": {
            "permit_number": permit_number,
            "land_use_permit_number": land_use_permit_number,
            "works_planning_permit_number": works_planning_permit_number,
            "drawing_review_certificate_number": certificate_number,
            "contract_amount": amount,
            "area": area,
            "issued_on": issued_on,
            "survey_enterprise_name": "重庆市勘察院",
            "survey_enterprise_credit_code": SURVEY_CREDIT_CODE,
            "design_enterprise_name": "重庆市设计院",
            "design_enterprise_credit_code": DESIGN_CREDIT_CODE,
            "construction_enterprise_name": enterprise.name,
            "construction_enterprise_credit_code": contractor,
            "supervision_enterprise_name": "重庆市建设监理有限公司",
            "supervision_enterprise_credit_code": SUPERVISION_CREDIT_CODE,
            "safety_licence_number": f"（渝）JZ安许证字〔2015〕{tag}",
            "project_manager_name": "张建国",
            "project_manager_id_type": "1",
            "project_manager_id_number": PROJECT_MANAGER_ID,
            "chief_supervisor_name": "李监理",
            "chief_supervisor_id_type": "1",
            "chief_supervisor_id_number": CHIEF_SUPERVISOR_ID,
        },
        "completion": {
            "filing_number": f"JGBA-2017-{tag}",
            "permit_number": permit_number,
            "quality_supervision_body": "重庆市渝中区建设工程质量监督站",
            "construction_enterprise_name": enterprise.name,
            "construction_enterprise_credit_code": contractor,
            "actual_cost": Decimal("12000000.00"),
            "actual_area": area,
            "actual_scale": "地上18层，地下2层",
            "structure_type": "004",
            "actual_start_on": datetime.date(2017, 1, 5),
            "actual_completion_on": datetime.date(2017, 10, 20),
            "filed_on": datetime.date(2017, 11, 15),
        },
    }


DESIGNER_ID = id_number("50010319800101123")  # 渝中区, 1980
DESIGNER_TWO_ID = id_number("50010619820202234")  # 沙坪坝区, 1982


def design_stage_data(enterprise, *, seq: int | None = None) -> dict[str, dict]:
    """Field values of a clean design record of `enterprise` (a survey/design enterprise, the design contractor and
    the design unit): a design tender, the design contract and the drawing review by REVIEW_AGENCY_CREDIT_CODE's
    agency, completed before the cut-off 2018-06-30, with two registered designers."""
    n = next(_sequence) if seq is None else seq
    tag = f"{_run}{n:05d}"
    amount = Decimal("860000.00")
    return {
        "tendering": {
            "award_notice_number": f"SJZB-2016-{tag}",
            "tender_class": "design",
            "tender_method": "open",
            "awarded_on": datetime.date(2016, 2, 1),
            "award_amount": amount,
            "tender_agency_name": "重庆市建设工程招标代理有限公司",
            "tender_agency_credit_code": TENDER_AGENCY_CREDIT_CODE,
            "winner_name": enterprise.name,
            "winner_credit_code": enterprise.credit_code,
        },
        "contract": {
            "filing_number": f"SJHT-2016-{tag}",
            "contract_number": f"SJ-2016-{tag}",
            "contract_type": "200",
            "amount": amount,
            "signed_on": datetime.date(2016, 2, 20),
            "employer_name": "重庆市渝中区城市建设投资有限公司",
            "employer_credit_code": OWNER_CREDIT_CODE,
            "contractor_name": enterprise.name,
            "contractor_credit_code": enterprise.credit_code,
        },
        "drawing_review": {
            "certificate_number": f"渝设审（2016）第{tag}号",
            "review_agency_name": "重庆市施工图审查中心",
            "review_agency_credit_code": REVIEW_AGENCY_CREDIT_CODE,
            "completed_on": datetime.date(2016, 6, 20),
            "passed_first_review": False,
            "first_review_violation_count": 1,
            "first_review_violations": "GB 50016-2014 第5.5.17条",
            "survey_enterprise_name": "重庆市勘察院",
            "survey_enterprise_credit_code": SURVEY_CREDIT_CODE,
            "design_enterprise_name": enterprise.name,
            "design_enterprise_credit_code": enterprise.credit_code,
            "designers": [
                {
                    "name": "王设计",
                    "id_type": "1",
                    "id_number": DESIGNER_ID,
                    "registration_type": "注册建筑师",
                    "registration_level": "一级",
                    "role": "项目负责人",
                },
                {
                    "name": "赵结构",
                    "id_type": "1",
                    "id_number": DESIGNER_TWO_ID,
                    "registration_type": "注册结构工程师",
                    "registration_level": "一级",
                    "role": "专业负责人",
                },
            ],
        },
    }


# ---------------------------------------------------------------- users and organisations

TEST_PASSWORD = "test-pass-2018"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"重庆测试建设工程有限公司{n}")
    credit_code = factory.Sequence(lambda n: credit_code(f"91500103MA{n:07d}"))
    kind = EnterpriseKind.CONSTRUCTION


def _member(user, **membership):
    Membership.objects.create(user=user, **membership)
    return user


def make_enterprise_user(enterprise=None, username=None, **user_fields):
    """A user who fills in backfills for `enterprise` (a new construction enterprise if None)."""
    if username:
        user_fields["username"] = username
    user = UserFactory(**user_fields)
    return _member(user, role=Role.ENTERPRISE, enterprise=enterprise or EnterpriseFactory())


def make_reviewer(authority: Authority, username=None, **user_fields):
    """A reviewer of `authority` (a district/county or development zone), with access to the admin."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.REVIEWER, authority=authority)


def make_design_enterprise_user(enterprise=None, username=None, **user_fields):
    """A clerk of a survey/design enterprise (a new one if None): backfills design records."""
    return make_enterprise_user(
        enterprise or EnterpriseFactory(kind=EnterpriseKind.SURVEY_DESIGN), username, **user_fields
    )


def make_agency(credit_code=None, name="重庆市施工图审查中心"):
    """A drawing-review agency (施工图审查机构), REVIEW_AGENCY_CREDIT_CODE's by default (what design records name)."""
    agency, _ = Enterprise.objects.get_or_create(
        credit_code=credit_code or REVIEW_AGENCY_CREDIT_CODE,
        defaults={"name": name, "kind": EnterpriseKind.DRAWING_REVIEW},
    )
    return agency


def make_agency_reviewer(agency=None, username=None, **user_fields):
    """A reviewer of a drawing-review agency (审查机构审核人员), with access to the console."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.AGENCY_REVIEWER, enterprise=agency or make_agency())


def make_city_user(username=None, department="", **user_fields):
    """A city commission user (spot checks, corrections, figures per district), of `department` (a
    projects.models.CityDepartment value; "" = the commission as a whole)."""
    if username:
        user_fields["username"] = username
    user_fields.setdefault("is_staff", True)
    user = UserFactory(**user_fields)
    return _member(user, role=Role.CITY, department=department)


# ---------------------------------------------------------------- records


def open_backfill_windows(basis: str):
    """Every enterprise kind's backfill window open from 2018 to 2099 (processes and benches that make records at
    any date); `basis` is what the window cites."""
    for kind in EnterpriseKind.values:
        BackfillWindow.objects.update_or_create(
            enterprise_kind=kind,
            defaults={
                "opens_on": datetime.date(2018, 1, 1),
                "closes_on": datetime.date(2099, 12, 31),
                "basis": basis,
            },
        )


def add_evidence(
    project, stage_code, user, content=PDF_BYTES, *, name=None, content_type="application/pdf", part=""
):
    """One active evidence file of a stage (of `part` where the stage asks for several), stored in the private
    storage (no rule check, no audit event)."""
    evidence = Evidence(
        project=project,
        stage=stage_code,
        part=part,
        original_name=name or f"{stage_code}.pdf",
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user,
    )
    evidence.file.save(uuid.uuid4().hex, ContentFile(content), save=False)
    evidence.save()
    return evidence


def make_project(
    enterprise,
    user,
    authority,
    *,
    status=Status.DRAFT,
    stages=True,
    evidence=True,
    stage_data=None,
    **overrides,
) -> Project:
    """A backfill record of `enterprise`, entered by `user`, located in `authority`'s area.

    Clean by default (no rule finds anything): in-scope type, completed, started on a permit, total area equal to
    the completion's actual area. `overrides` are Project fields; `stages` may be False (no stage), True (all
    six) or a list of stage codes; `stage_data` replaces valid_stage_data()'s values stage by stage. The status is
    written straight to the row (the FSM field is protected); any status past draft gets a submission time.
    """
    data = valid_stage_data(enterprise)
    if overrides.get("project_type") == ProjectType.MUNICIPAL_GENERAL:
        data["registration"]["works_category"] = "02"  # 市政工程 (rule NAT-5)
    for code, values in (stage_data or {}).items():
        data[code] = {**data[code], **values}
    county_code = overrides.pop("county_code", None) or authority.division_code or "500103"
    fields = {
        "name": "渝中区示范综合楼工程",
        "address": "重庆市渝中区解放碑街道民族路1号",
        "project_type": ProjectType.BUILDING_GENERAL,
        "is_completed": True,
        "start_basis": StartBasis.PERMIT,
        "total_investment": Decimal("15000000.00"),
        "total_area": data["completion"]["actual_area"],
        **overrides,
    }
    if not fields.get("project_number"):
        fields["project_number"] = services.issue_project_number(county_code, timezone.localdate())
    project = Project.objects.create(
        enterprise=enterprise, authority=authority, county_code=county_code, created_by=user, **fields
    )

    codes = STAGE_ORDER if stages is True else list(stages or [])
    for code in codes:
        STAGE_MODELS[code].objects.create(project=project, updated_by=user, **data[code])
    if evidence:
        for code in codes if evidence is True else evidence:
            add_evidence(project, code, user)

    if status != Status.DRAFT:
        now = timezone.now()
        Project.objects.filter(pk=project.pk).update(status=status, submitted_at=now, first_submitted_at=now)
    project.refresh_from_db()
    return project


def make_design_project(
    enterprise,
    user,
    authority,
    *,
    status=Status.DRAFT,
    stages=True,
    evidence=True,
    stage_data=None,
    reviewing_agency=None,
    **overrides,
) -> Project:
    """A design record of `enterprise` (survey/design), clean by default: basic information, a design tender, the
    design contract and the drawing review with designers, each part evidenced (the review by its certificate and
    the drawings' cover sheet). `stages`: True (all three) or a list; `reviewing_agency`: where it was routed."""
    data = design_stage_data(enterprise)
    for code, values in (stage_data or {}).items():
        data[code] = {**data[code], **values}
    county_code = overrides.pop("county_code", None) or authority.division_code or "500103"
    fields = {
        "name": "渝中区示范综合楼工程设计",
        "address": "重庆市渝中区解放碑街道民族路1号",
        "project_type": ProjectType.BUILDING_WORKS,
        "total_investment": Decimal("15000000.00"),
        "total_area": Decimal("8888.00"),
        **overrides,
    }
    if not fields.get("project_number"):
        fields["project_number"] = services.issue_project_number(county_code, timezone.localdate())
    project = Project.objects.create(
        kind=ProjectKind.DESIGN,
        enterprise=enterprise,
        authority=authority,
        county_code=county_code,
        created_by=user,
        reviewing_agency=reviewing_agency,
        **fields,
    )
    codes = list(data) if stages is True else list(stages or [])
    for code in codes:
        STAGE_MODELS[code].objects.create(project=project, updated_by=user, **data[code])
    if evidence:
        for code in codes:
            if code == "drawing_review":
                for part in EvidencePart.values:
                    add_evidence(project, code, user, name=f"{part}.pdf", part=part)
            else:
                add_evidence(project, code, user)
    if status != Status.DRAFT:
        now = timezone.now()
        Project.objects.filter(pk=project.pk).update(status=status, submitted_at=now, first_submitted_at=now)
    project.refresh_from_db()
    return project


def enter_library(project, *, national_id=None, entered_at=None):
    """Put a record (made by make_project) in the national library the short way: its snapshot v1 as
    publicity.snapshots builds it, a LibraryEntry (its enterprise's name noted, as publicity.services.mark_delivered
    does), the status in_national_library. No notice, no outbox, no audit: for tests that need records in the
    library in bulk (spot checks, integrity)."""
    content = snapshots.build_content(project)
    snapshot = Snapshot.objects.create(project=project, version=1, content=content, reason="测试入库")
    LibraryEntry.objects.create(
        project=project,
        national_id=national_id or f"NP-TEST-{project.pk:06d}",
        snapshot=snapshot,
        entered_at=entered_at or timezone.now(),
        project_number=project.project_number,
        project_name=project.name,
        enterprise_name=content["enterprise"]["name"],
        enterprise_credit_code=content["enterprise"]["credit_code"],
        authority_id=project.authority_id,
        project_type=project.project_type,
        document_numbers=snapshots.document_numbers(content),
    )
    publicity_services.note_enterprise_name(content["enterprise"]["name"])
    Project.objects.filter(pk=project.pk).update(status=Status.IN_NATIONAL_LIBRARY)
    project.refresh_from_db()
    return project


# ---------------------------------------------------------------- reading back, and the clock


def status_of(project) -> str:
    """The record's status as stored now."""
    return Project.objects.values_list("status", flat=True).get(pk=project.pk)


def last_event_id() -> int:
    """The id of the latest audit event (0 if none): what a test counts events after."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def form_data(form) -> dict:
    """What a browser would POST for an unchanged form."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    return data


def end_notices(*projects):
    """The time machine: the running notices of these records ended a second ago."""
    Notice.objects.filter(project__in=projects, state=NoticeState.RUNNING).update(
        ends_at=timezone.now() - datetime.timedelta(seconds=1)
    )

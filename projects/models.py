"""The backfill record: organisations, the Project and its six stage records, evidence, the audit trail."""

import hashlib
import json
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import DatabaseError, models
from django.db.models import Q
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from .validators import (
    validate_credit_code,
    validate_designers,
    validate_joint_venture_members,
    validate_optional_credit_code,
    validate_plain_text,
)

PLAIN = [validate_plain_text]
MONEY = {"max_digits": 16, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}
AREA = {"max_digits": 14, "decimal_places": 2, "validators": [MinValueValidator(Decimal("0"))]}


def text(verbose_name, max_length=200, **kwargs):
    """A plain-text CharField: blank allowed while the record is a draft (the rule engine asks for it)."""
    kwargs.setdefault("blank", True)
    return models.CharField(verbose_name, max_length=max_length, validators=PLAIN, **kwargs)


def credit_code(verbose_name):
    return models.CharField(
        verbose_name, max_length=18, blank=True, validators=[validate_optional_credit_code]
    )


def id_number(verbose_name):
    """A person's document number. Checked as a resident ID (GB 11643) by the rule engine when its document type is
    身份证 (LEGAL-3), so a passport or an officer's card can be recorded too (the national tables' varchar(30))."""
    return models.CharField(verbose_name, max_length=30, blank=True, validators=PLAIN)


class IdDocumentType(models.TextChoices):
    """证件类型: the national code list tbIDCardTypeDic (docs/national-standard.md), values as the standard's."""

    RESIDENT_ID = "1", "身份证"
    MILITARY_OFFICER = "2", "军官证"
    PASSPORT = "3", "护照"
    TAIWAN_ID = "4", "台湾居民身份证"
    HONG_KONG_ID = "5", "香港永久居民身份证"
    POLICE_OFFICER = "6", "警官证"
    OTHER = "7", "其他"


def id_type(verbose_name):
    return models.CharField(verbose_name, max_length=1, choices=IdDocumentType.choices, blank=True)


# ---------------------------------------------------------------- organisations


class EnterpriseKind(models.TextChoices):
    CONSTRUCTION = "construction", "建筑企业"
    SURVEY_DESIGN = "survey_design", "勘察设计企业"
    DRAWING_REVIEW = "drawing_review", "施工图审查机构"


class Enterprise(models.Model):
    name = models.CharField("企业名称", max_length=200, validators=PLAIN)
    credit_code = models.CharField(
        "统一社会信用代码", max_length=18, unique=True, validators=[validate_credit_code]
    )
    kind = models.CharField("企业类别", max_length=20, choices=EnterpriseKind.choices)
    # Contact details are private: shown to the enterprise and its reviewers, never publicly.
    contact_phone = models.CharField("联系电话", max_length=30, blank=True, validators=PLAIN)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "企业"
        verbose_name_plural = "企业"
        ordering = ["name"]
        # The console's filter by enterprise lists them by name (review.admin.EnterpriseFilter).
        indexes = [models.Index(fields=["name"], name="enterprise_name")]

    def __str__(self):
        return self.name


class AuthorityKind(models.TextChoices):
    DISTRICT = "district", "区"
    COUNTY = "county", "县"
    ZONE = "zone", "开发区"


class Authority(models.Model):
    """A review authority: one of the 38 districts/counties or 5 development zones (projects/data/)."""

    code = models.CharField("代码", max_length=10, unique=True)
    name = models.CharField("名称", max_length=50, unique=True)
    kind = models.CharField("类别", max_length=10, choices=AuthorityKind.choices)
    # Zones have no GB/T 2260 code of their own; 万盛 and 双桥 lie inside 綦江 and 大足.
    parent_code = models.CharField("所在区县代码", max_length=6, blank=True)

    class Meta:
        verbose_name = "审核主管部门"
        verbose_name_plural = "审核主管部门"
        ordering = ["code"]

    def __str__(self):
        return self.name

    @property
    def division_code(self) -> str:
        """The GB/T 2260 code used for project numbers: its own, else the district it lies in, else ''."""
        if self.kind != AuthorityKind.ZONE:
            return self.code
        return self.parent_code


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", "企业填报人员"
    REVIEWER = "reviewer", "审核人员"
    CITY = "city", "市级管理人员"
    # Staff of a drawing-review agency (an Enterprise of kind drawing_review) who review the design projects
    # routed to their agency (docs/design-projects.md).
    AGENCY_REVIEWER = "agency_reviewer", "审查机构审核人员"


class CityDepartment(models.TextChoices):
    """The city commission's departments (docs/domain.md): each spot-checks the stages it is responsible for."""

    CONSTRUCTION_MANAGEMENT = "construction_management", "市城乡建委建管处"
    DESIGN = "design", "市城乡建委设计处"
    TENDERING_OFFICE = "tendering_office", "市招标办"
    QUALITY_STATION = "quality_station", "市质监总站"
    APPROVAL_CENTER = "approval_center", "市审批服务中心"


class AdministratorSetPassword(models.Model):
    """A password an administrator set for someone else (in the admin): its holder must change it at the first
    login (backfill_portal/passwords.py). The hash it had then is kept: once the user's hash differs, the user has
    chosen their own and the row is deleted."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="administrator_set_password"
    )
    password_hash = models.CharField(max_length=128)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "管理员设置的密码"
        verbose_name_plural = "管理员设置的密码"

    def __str__(self):
        return f"{self.user}：须在首次登录时修改密码"


class Duty(models.TextChoices):
    """The three administrators (三员分立, GB/T 22239 安全管理中心; docs/security.md): none can do another's work."""

    SYSTEM = "system", "系统管理员"
    SECURITY = "security", "安全管理员"
    AUDIT = "audit", "审计管理员"


class AdministratorDuty(models.Model):
    """Which of the three administrators a user is (projects.permissions reads it). An administrator acts for no
    organisation (no Membership) and holds one duty; only a superuser (installation) assigns them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="administrator_duty"
    )
    duty = models.CharField("管理职责", max_length=20, choices=Duty.choices)
    assigned_at = models.DateTimeField("任命时间", auto_now_add=True)

    class Meta:
        verbose_name = "管理员职责"
        verbose_name_plural = "管理员职责（三员）"

    def __str__(self):
        return f"{self.user} · {self.get_duty_display()}"


class AccountSecurity(User):
    """The security administrator's list of accounts (projects/admin.py): locks and two-factor resets. A proxy:
    no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "账号安全"
        verbose_name_plural = "账号安全（登录锁定与二次验证）"


class Membership(models.Model):
    """Which organisation a user acts for, and as what. One per user."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, null=True, blank=True)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, null=True, blank=True)
    # City users only: the department they work in (spot checks go to the department that checks the stage).
    department = models.CharField("市级部门", max_length=30, choices=CityDepartment.choices, blank=True)

    class Meta:
        verbose_name = "用户所属单位"
        verbose_name_plural = "用户所属单位"
        constraints = [
            models.CheckConstraint(
                name="membership_org_matches_role",
                condition=(
                    Q(role="enterprise", enterprise__isnull=False, authority__isnull=True)
                    | Q(role="reviewer", enterprise__isnull=True, authority__isnull=False)
                    | Q(role="city", enterprise__isnull=True, authority__isnull=True)
                    | Q(role="agency_reviewer", enterprise__isnull=False, authority__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="membership_department_city_only", condition=Q(role="city") | Q(department="")
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.organisation_name}"

    @property
    def organisation_name(self) -> str:
        if self.enterprise_id:
            return self.enterprise.name
        if self.authority_id:
            return self.authority.name
        if self.department:
            return self.get_department_display()
        return "重庆市城乡建设委员会"


class BackfillWindow(models.Model):
    """When an enterprise kind may start and submit backfills. Data, not code: the city extends it when the
    ministry fixes its final date (渝建〔2018〕213号: 2018-09-30 "以住建部最终确定时间为准")."""

    enterprise_kind = models.CharField("企业类别", max_length=20, choices=EnterpriseKind.choices, unique=True)
    opens_on = models.DateField("开始日期")
    closes_on = models.DateField("截止日期")
    basis = models.CharField("依据", max_length=200, blank=True, validators=PLAIN)
    # Design projects only (渝建〔2018〕103号): the drawings must have passed review on or before this day. Data like
    # the window itself, so the city can follow the ministry (docs/design-projects.md).
    drawings_reviewed_by = models.DateField(
        "施工图审查完成日期截止", null=True, blank=True, help_text="仅勘察设计企业的设计项目适用。"
    )

    class Meta:
        verbose_name = "补录时限"
        verbose_name_plural = "补录时限"

    def __str__(self):
        return f"{self.get_enterprise_kind_display()}：{self.opens_on} 至 {self.closes_on}"

    def is_open_on(self, day) -> bool:
        return self.opens_on <= day <= self.closes_on


# ---------------------------------------------------------------- the backfill project


class ProjectType(models.TextChoices):
    BUILDING_GENERAL = "building_general", "建筑工程施工总承包"
    MUNICIPAL_GENERAL = "municipal_general", "市政公用工程施工总承包"
    SPECIALTY = "specialty", "与上述施工总承包相关的专业承包"
    OTHER = "other", "其他类型（不在本次补录范围）"
    # A design project's scope is the works it designs, not a contracting scope (渝建〔2018〕103号).
    BUILDING_WORKS = "building_works", "房屋建筑工程（设计项目）"
    MUNICIPAL_WORKS = "municipal_works", "市政工程（设计项目）"


IN_SCOPE_PROJECT_TYPES = (ProjectType.BUILDING_GENERAL, ProjectType.MUNICIPAL_GENERAL, ProjectType.SPECIALTY)
DESIGN_PROJECT_TYPES = (ProjectType.BUILDING_WORKS, ProjectType.MUNICIPAL_WORKS)
CONSTRUCTION_PROJECT_TYPES = (*IN_SCOPE_PROJECT_TYPES, ProjectType.OTHER)


class ProjectKind(models.TextChoices):
    """A construction project (渝建〔2018〕213号: six stages, the district reviews) or a design project
    (渝建〔2018〕103号: basic information, the survey/design contract, an optional tender and the drawing review with
    its designers; the drawing-review agency reviews). docs/design-projects.md."""

    CONSTRUCTION = "construction", "施工项目"
    DESIGN = "design", "设计项目"


# Which enterprise kind starts which project kind (a drawing-review agency starts none: it reviews).
PROJECT_KIND_OF_ENTERPRISE = {
    EnterpriseKind.CONSTRUCTION: ProjectKind.CONSTRUCTION,
    EnterpriseKind.SURVEY_DESIGN: ProjectKind.DESIGN,
}


def project_kind_of(enterprise) -> str:
    """The kind of record an enterprise backfills (what its new-record page and the API start by default)."""
    return PROJECT_KIND_OF_ENTERPRISE.get(enterprise.kind, ProjectKind.CONSTRUCTION)


class StartBasis(models.TextChoices):
    PERMIT = "permit", "施工许可证"
    START_APPROVAL = "start_approval", "县级以上主管部门同意开工的证明材料"
    NONE = "none", "均无"


class Status(models.TextChoices):
    """The lifecycle of docs/lifecycle.md. Transitions live on Project; who may run them, in services.py."""

    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交待审核"
    RETURNED = "returned", "退回修改"
    REJECTED = "rejected", "不予受理"
    IN_NOTICE = "in_notice", "公示中"
    OBJECTED = "objected", "异议处理中"
    ENTERING = "entering", "入库中"
    IN_NATIONAL_LIBRARY = "in_national_library", "已入全国平台项目库"


ENTERPRISE_EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)
# What the review console lists (permissions.visible_projects: never a draft), the predicate of its indexes.
NOT_A_DRAFT = ~Q(status=Status.DRAFT)


class RecordLocked(Exception):
    """The record's state does not allow this change (a locked record, or a state changed meanwhile)."""


def ensure_content_editable(project_id):
    """The last guard of a locked record's content, below every form, admin page, API and shell helper:
    stages and evidence are written only while the record is a draft or returned. (On PostgreSQL a trigger
    holds the same line against raw SQL and bulk updates: migration 0005.)"""
    if (
        project_id
        and Project.objects.filter(pk=project_id).exclude(status__in=ENTERPRISE_EDITABLE_STATUSES).exists()
    ):
        raise RecordLocked("该项目已提交或已入库，内容不能修改；如需更正已入库信息，请提交更正申请。")


class Project(ConcurrentTransitionMixin, models.Model):
    kind = models.CharField(
        "项目类别", max_length=20, choices=ProjectKind.choices, default=ProjectKind.CONSTRUCTION
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="projects", verbose_name="补录企业"
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="projects", verbose_name="项目所在地审核部门"
    )
    project_number = models.CharField(
        "项目编号",
        max_length=16,
        unique=True,
        help_text="16位：区县代码+yyMMdd+4位流水号；已有全国平台编号的保留原编号。",
    )
    county_code = models.CharField("项目所在区县代码", max_length=6, help_text="GB/T 2260，如渝中区500103。")
    name = models.CharField("项目名称", max_length=200, validators=PLAIN)
    address = models.CharField("项目地址", max_length=300, validators=PLAIN)
    project_type = models.CharField("项目类型", max_length=30, choices=ProjectType.choices)
    is_classified = models.BooleanField("是否涉密项目", default=False)
    is_completed = models.BooleanField("是否已竣工", default=False)
    start_basis = models.CharField(
        "开工依据", max_length=20, choices=StartBasis.choices, default=StartBasis.PERMIT
    )
    already_in_national_library = models.BooleanField("是否已进入全国平台项目库", default=False)
    total_investment = models.DecimalField("总投资（元）", null=True, blank=True, **MONEY)
    total_area = models.DecimalField("总面积（平方米）", null=True, blank=True, **AREA)
    status = FSMField("状态", default=Status.DRAFT, choices=Status.choices, protected=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="录入人"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    # The backfill window is checked against the first submission: a record returned for revision after the
    # window closed may still be resubmitted (docs/lifecycle.md).
    first_submitted_at = models.DateTimeField("首次提交时间", null=True, blank=True)
    # Design projects only: who reviews it (docs/design-projects.md, "Routing"). Set at submission to the agency
    # named on the certificate when that agency has a reviewer account; otherwise the record waits in the city's
    # queue until the city gives it to an agency or to the project's district. Not content: the record's routing.
    reviewing_agency = models.ForeignKey(
        Enterprise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="design_projects_to_review",
        verbose_name="审核的施工图审查机构",
    )
    routed_to_district = models.BooleanField("由项目所在地区县审核", default=False)

    class Meta:
        verbose_name = "补录项目"
        verbose_name_plural = "补录项目"
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["enterprise", "-updated_at"]),
            models.Index(fields=["authority", "status"]),
            # The review console lists by submission date (review/admin.py).
            models.Index(fields=["-submitted_at", "-id"]),
            models.Index(fields=["authority", "-submitted_at", "-id"]),
            # The console never lists drafts (permissions.visible_projects): its lists' filters and orderings,
            # without the drafts, whose empty submission date comes first in the newest-first order
            # (docs/architecture.md, "At national scale").
            models.Index(
                fields=["-submitted_at", "-id"], name="project_console_newest", condition=NOT_A_DRAFT
            ),
            models.Index(
                fields=["status", "-submitted_at", "-id"],
                name="project_console_status",
                condition=NOT_A_DRAFT,
            ),
            models.Index(
                fields=["authority", "-submitted_at", "-id"],
                name="project_console_auth_newest",
                condition=NOT_A_DRAFT,
            ),
            models.Index(
                fields=["authority", "status", "-submitted_at", "-id"],
                name="project_console_auth_status",
                condition=NOT_A_DRAFT,
            ),
            # A district's filter by enterprise: is one of the enterprise's records the district's (EXISTS)?
            models.Index(
                fields=["authority", "enterprise"], name="project_console_auth_ent", condition=NOT_A_DRAFT
            ),
            # The city's design records waiting to be routed (permissions.awaiting_routing), asked on every page of
            # its work queue: a handful of rows, not the 20,000 submitted ones of a million records.
            models.Index(
                fields=["submitted_at", "id"],
                name="project_awaiting_routing",
                condition=Q(
                    kind=ProjectKind.DESIGN,
                    status=Status.SUBMITTED,
                    reviewing_agency__isnull=True,
                    routed_to_district=False,
                ),
            ),
        ]

    def __str__(self):
        return f"{self.project_number} {self.name}"

    CONTENT_FIELDS = (
        "kind",
        "enterprise_id",
        "authority_id",
        "project_number",
        "county_code",
        "name",
        "address",
        "project_type",
        "is_classified",
        "is_completed",
        "start_basis",
        "already_in_national_library",
        "total_investment",
        "total_area",
    )

    def save(self, *args, **kwargs):
        """A transition may save a locked record; nothing may change its content (see ensure_content_editable)."""
        update_fields = kwargs.get("update_fields")
        # update_fields may name a foreign key by its field name ("authority") or its column ("authority_id").
        written = None if update_fields is None else {self._meta.get_field(n).attname for n in update_fields}
        writes_content = written is None or not written.isdisjoint(self.CONTENT_FIELDS)
        if self.pk is not None and writes_content:
            stored = Project.objects.filter(pk=self.pk).values(*self.CONTENT_FIELDS, "status").first()
            if stored and stored["status"] not in ENTERPRISE_EDITABLE_STATUSES:
                changed = [name for name in self.CONTENT_FIELDS if getattr(self, name) != stored[name]]
                if changed:
                    raise RecordLocked(
                        "该项目已提交或已入库，内容不能修改；如需更正已入库信息，请提交更正申请。"
                    )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RecordLocked("补录项目不能删除。")

    @property
    def is_editable_by_enterprise(self) -> bool:
        return self.status in ENTERPRISE_EDITABLE_STATUSES

    @property
    def is_design(self) -> bool:
        return self.kind == ProjectKind.DESIGN

    @property
    def stage_codes(self) -> list[str]:
        """The stages this kind of record has, in order."""
        return STAGES_OF_KIND[self.kind]

    @property
    def awaits_routing(self) -> bool:
        """A submitted design record no agency or district has been given yet: the city's queue."""
        return self.is_design and self.reviewing_agency_id is None and not self.routed_to_district

    # The lifecycle (docs/lifecycle.md). A transition only moves the state; who may run it, what is recorded
    # and what follows on commit are the services' (projects.services, review.services, publicity.services).

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED], target=Status.SUBMITTED)
    def submit(self):
        self.submitted_at = timezone.now()
        if self.first_submitted_at is None:
            self.first_submitted_at = self.submitted_at

    @transition(field=status, source=Status.SUBMITTED, target=Status.DRAFT)
    def withdraw(self):
        """The enterprise takes back a submission no reviewer has decided yet."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.RETURNED)
    def return_for_revision(self):
        """Back to the enterprise with comments; it edits and resubmits."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.REJECTED)
    def reject(self):
        """Out of scope or false information: final."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.IN_NOTICE)
    def approve(self):
        """Approved by the district: the 10-day public notice starts (publicity)."""

    @transition(field=status, source=Status.IN_NOTICE, target=Status.OBJECTED)
    def receive_objection(self):
        """A member of the public objected: the notice clock pauses."""

    @transition(field=status, source=Status.OBJECTED, target=Status.IN_NOTICE)
    def dismiss_objection(self):
        """The district found the objection unfounded: the notice resumes."""

    @transition(field=status, source=Status.OBJECTED, target=Status.RETURNED)
    def uphold_objection(self):
        """The objection stands: back to the enterprise, the objection attached as a comment."""

    @transition(field=status, source=Status.IN_NOTICE, target=Status.ENTERING)
    def close_notice(self):
        """The notice ended with no objection standing: delivery to the national platform starts."""

    @transition(field=status, source=Status.ENTERING, target=Status.IN_NATIONAL_LIBRARY)
    def enter_national_library(self):
        """The national platform accepted the record: locked for good."""

    @transition(field=status, source=Status.ENTERING, target=Status.SUBMITTED)
    def refuse_by_national_platform(self):
        """The platform refused the new record: back to the district with its reasons (docs/lifecycle.md)."""

    @transition(field=status, source=Status.ENTERING, target=Status.IN_NATIONAL_LIBRARY)
    def refuse_correction_by_national_platform(self):
        """The platform refused a corrected version: the version it holds stands (docs/lifecycle.md)."""

    @transition(field=status, source=Status.IN_NATIONAL_LIBRARY, target=Status.IN_NOTICE)
    def start_correction_notice(self):
        """The city approved a correction: the corrected version is noticed for 10 days."""


# ---------------------------------------------------------------- the six stages


class StageCode(models.TextChoices):
    REGISTRATION = "registration", "项目报建"
    TENDERING = "tendering", "项目招投标"
    CONTRACT = "contract", "合同备案"
    DRAWING_REVIEW = "drawing_review", "施工图审查"
    PERMIT = "permit", "施工许可"
    COMPLETION = "completion", "竣工验收备案"


STAGE_ORDER = list(StageCode.values)
# A design record: its basic information (the Project), an optional survey/design tender, the survey/design
# contract and the drawing review with its designers (docs/design-projects.md).
DESIGN_STAGES = [StageCode.TENDERING, StageCode.CONTRACT, StageCode.DRAWING_REVIEW]
STAGES_OF_KIND = {"construction": STAGE_ORDER, "design": DESIGN_STAGES}


class Stage(models.Model):
    """What every stage record has. Each subclass is one of the national platform's six stage tables."""

    code: str = ""
    document_field: str = ""  # the stage's document number, unique per stage across projects
    date_field: str = ""  # the stage's date in the chain registration ≤ … ≤ completion

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="最后修改人"
    )

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.project_id}·{self.get_code_display()}"

    def save(self, *args, **kwargs):
        ensure_content_editable(self.project_id)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        ensure_content_editable(self.project_id)
        return super().delete(*args, **kwargs)

    def validate_constraints(self, exclude=None):
        """A document number another project holds is the clerk's to fix in that field: the constraint's error
        (a conditional constraint's, so Django files it above the form as "该编号…", not saying which of the
        stage's numbers) is moved onto the document number's field and names the number."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as invalid:
            errors = invalid.update_error_dict({})
            general = errors.pop(NON_FIELD_ERRORS, [])
            taken = [e for e in general if e.message == DOCUMENT_NUMBER_TAKEN]
            if taken:
                label = self._meta.get_field(self.document_field).verbose_name
                errors.setdefault(self.document_field, []).append(
                    ValidationError(
                        f"{label}“{self.document_number}”已被其他补录项目使用，同一编号不能重复补录。",
                        code="unique",
                    )
                )
            rest = [e for e in general if e.message != DOCUMENT_NUMBER_TAKEN]
            if rest:
                errors[NON_FIELD_ERRORS] = rest
            raise ValidationError(errors) from None

    @classmethod
    def get_code_display(cls):
        return StageCode(cls.code).label

    @property
    def document_number(self) -> str:
        return getattr(self, self.document_field)


DOCUMENT_NUMBER_TAKEN = "该编号已被其他补录项目使用，同一编号不能重复补录。"


def unique_document_number(model_name, field):
    return models.UniqueConstraint(
        fields=[field],
        condition=~Q(**{field: ""}),
        name=f"{model_name}_unique_{field}",
        violation_error_message=DOCUMENT_NUMBER_TAKEN,
    )


class ApprovalLevel(models.TextChoices):
    NATIONAL = "national", "国家级"
    PROVINCIAL = "provincial", "省级（直辖市）"
    CITY = "city", "地市级"
    COUNTY = "county", "区县级"
    OTHER = "other", "其他"


class ProjectNature(models.TextChoices):
    NEW = "001", "新建"
    EXTENSION = "002", "改建"
    EXPANSION = "003", "扩建"
    RECOVERY = "004", "恢复"
    RELOCATION = "005", "迁建"
    DEMOLITION = "006", "拆除"
    OTHER = "099", "其他"


class WorksCategory(models.TextChoices):
    """项目分类 PrjTypeNum (tbPrjTypeDic). Not the portal's project type, which is the contracting scope of the
    notice: a specialty contract may belong to building or municipal works."""

    BUILDING = "01", "房屋建筑工程"
    MUNICIPAL = "02", "市政工程"
    OTHER = "99", "其他"


class ProjectFunction(models.TextChoices):
    """工程用途 PrjFunctionNum (tbPrjFunctionDic). The municipal uses after 给水/排水 (燃气, 热力, 道路 …) have codes
    no public source gives (docs/national-standard.md): they are not offered."""

    RESIDENTIAL = "100", "居住建筑"
    RESIDENTIAL_ANCILLARY = "200", "居住建筑配套工程"
    PUBLIC = "300", "公共建筑"
    OFFICE = "301", "办公建筑"
    COMMERCIAL = "302", "商业建筑"
    TOURISM = "303", "旅游建筑"
    SCIENCE_EDUCATION_HEALTH = "304", "科教文卫建筑"
    TRANSPORT = "305", "交通运输类"
    TELECOMMUNICATION = "306", "通信建筑"
    PUBLIC_ANCILLARY = "307", "公共建筑配套工程"
    COMMERCIAL_RESIDENTIAL = "400", "商住楼"
    AGRICULTURAL = "500", "农业建筑"
    AGRICULTURAL_ANCILLARY = "600", "农业建筑配套工程"
    INDUSTRIAL = "700", "工业建筑"
    INDUSTRIAL_ANCILLARY = "800", "工业建筑配套工程"
    WATER_SUPPLY = "010", "给水"
    DRAINAGE = "011", "排水"
    OTHER = "999", "其他"


class RegistrationStage(Stage):
    """项目报建 — TBProjectInfo."""

    code = StageCode.REGISTRATION
    document_field = "registration_number"
    date_field = "registered_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="registration")
    registration_number = text("报建编号", 50)
    registered_on = models.DateField("报建日期", null=True, blank=True)
    owner_name = text("建设单位名称")
    owner_credit_code = credit_code("建设单位统一社会信用代码")
    approval_number = text("立项文号", 100)
    approval_level = models.CharField("立项级别", max_length=20, choices=ApprovalLevel.choices, blank=True)
    land_use_permit_number = text("用地规划许可证编号", 50)
    works_planning_permit_number = text("工程规划许可证编号", 50)
    nature = models.CharField("建设性质", max_length=3, choices=ProjectNature.choices, blank=True)
    works_category = models.CharField("项目分类", max_length=2, choices=WorksCategory.choices, blank=True)
    function_code = models.CharField("工程用途", max_length=3, choices=ProjectFunction.choices, blank=True)
    function = text("工程用途说明", 100)
    scale = text("建设规模", 500)

    class Meta:
        verbose_name = "项目报建"
        verbose_name_plural = "项目报建"
        constraints = [unique_document_number("registration", "registration_number")]


class TenderClass(models.TextChoices):
    CONSTRUCTION = "construction", "施工"
    SURVEY = "survey", "勘察"
    DESIGN = "design", "设计"
    SUPERVISION = "supervision", "监理"


class TenderMethod(models.TextChoices):
    OPEN = "open", "公开招标"
    INVITED = "invited", "邀请招标"
    DIRECT = "direct", "直接发包"
    OTHER = "other", "其他"


class TenderingStage(Stage):
    """项目招投标 — TBTenderInfo."""

    code = StageCode.TENDERING
    document_field = "award_notice_number"
    date_field = "awarded_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="tendering")
    award_notice_number = text("中标通知书编号", 50)
    tender_class = models.CharField("招标类型", max_length=20, choices=TenderClass.choices, blank=True)
    tender_method = models.CharField("招标方式", max_length=20, choices=TenderMethod.choices, blank=True)
    awarded_on = models.DateField("中标日期", null=True, blank=True)
    award_amount = models.DecimalField("中标金额（元）", null=True, blank=True, **MONEY)
    area = models.DecimalField("面积（平方米）", null=True, blank=True, **AREA)
    tender_agency_name = text("招标代理机构")
    tender_agency_credit_code = credit_code("招标代理机构统一社会信用代码")
    winner_name = text("中标单位名称")
    winner_credit_code = credit_code("中标单位统一社会信用代码")
    project_manager_name = text("项目经理姓名", 50)
    project_manager_id_type = id_type("项目经理证件类型")
    project_manager_id_number = id_number("项目经理证件号码")

    class Meta:
        verbose_name = "项目招投标"
        verbose_name_plural = "项目招投标"
        constraints = [unique_document_number("tendering", "award_notice_number")]


class ContractType(models.TextChoices):
    SURVEY = "100", "勘察"
    DESIGN = "200", "设计"
    CONSTRUCTION_GENERAL = "301", "施工总包"
    SUBCONTRACT = "302", "施工分包"
    LABOUR = "303", "施工劳务"
    SUPERVISION = "400", "监理"
    EPC = "600", "工程总承包"


class ContractStage(Stage):
    """合同备案 — TBContractRecordManage."""

    code = StageCode.CONTRACT
    document_field = "filing_number"
    date_field = "signed_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="contract")
    filing_number = text("合同备案编号", 50)
    contract_number = text("合同编号", 50)
    contract_type = models.CharField("合同类别", max_length=3, choices=ContractType.choices, blank=True)
    amount = models.DecimalField("合同金额（元）", null=True, blank=True, **MONEY)
    signed_on = models.DateField("合同签订日期", null=True, blank=True)
    employer_name = text("发包单位名称")
    employer_credit_code = credit_code("发包单位统一社会信用代码")
    contractor_name = text("承包单位名称")
    contractor_credit_code = credit_code("承包单位统一社会信用代码")
    # Structured for delivery (the national standard's UnionCorpName / UnionCorpCode): [{"name", "credit_code"}].
    joint_venture_members = models.JSONField(
        "联合体成员",
        default=list,
        blank=True,
        validators=[validate_joint_venture_members],
        help_text="每行一个：单位名称 统一社会信用代码",
    )

    class Meta:
        verbose_name = "合同备案"
        verbose_name_plural = "合同备案"
        constraints = [unique_document_number("contract", "filing_number")]


class DrawingReviewStage(Stage):
    """施工图审查 — TBProjectCensorInfo."""

    code = StageCode.DRAWING_REVIEW
    document_field = "certificate_number"
    date_field = "completed_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="drawing_review")
    certificate_number = text("施工图审查合格书编号", 50)
    review_agency_name = text("审查机构名称")
    review_agency_credit_code = credit_code("审查机构统一社会信用代码")
    completed_on = models.DateField("审查完成日期", null=True, blank=True)
    passed_first_review = models.BooleanField("是否一次审查通过", null=True, blank=True)
    first_review_violation_count = models.PositiveIntegerField(
        "一次审查违反强制性条文数", null=True, blank=True
    )
    first_review_violations = models.TextField("违反的强制性条文", blank=True, validators=PLAIN)
    # Design projects (TBProjectCensorInfo EconCorp*/DesignCorp*, TBProjectDesignEconUserInfo): the survey and
    # design units the certificate names, and the registered people who did the work.
    survey_enterprise_name = text("勘察单位名称")
    survey_enterprise_credit_code = credit_code("勘察单位统一社会信用代码")
    design_enterprise_name = text("设计单位名称")
    design_enterprise_credit_code = credit_code("设计单位统一社会信用代码")
    designers = models.JSONField(
        "勘察设计人员",
        default=list,
        blank=True,
        validators=[validate_designers],
        help_text="每行一人：姓名 证件类型 证件号码 注册类型 注册等级 承担角色",
    )

    # Fields a construction record's form does not show (the permit stage names its survey and design units).
    DESIGN_ONLY_FIELDS = (
        "survey_enterprise_name",
        "survey_enterprise_credit_code",
        "design_enterprise_name",
        "design_enterprise_credit_code",
        "designers",
    )

    class Meta:
        verbose_name = "施工图审查"
        verbose_name_plural = "施工图审查"
        constraints = [unique_document_number("drawing_review", "certificate_number")]


class PermitStage(Stage):
    """施工许可 — TBBuilderLicenceManage."""

    code = StageCode.PERMIT
    document_field = "permit_number"
    date_field = "issued_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="permit")
    permit_number = text("施工许可证编号", 50)
    land_use_permit_number = text("用地规划许可证编号", 50)
    works_planning_permit_number = text("工程规划许可证编号", 50)
    drawing_review_certificate_number = text("施工图审查合格书编号", 50)
    contract_amount = models.DecimalField("合同金额（元）", null=True, blank=True, **MONEY)
    area = models.DecimalField("面积（平方米）", null=True, blank=True, **AREA)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    survey_enterprise_name = text("勘察单位名称")
    survey_enterprise_credit_code = credit_code("勘察单位统一社会信用代码")
    design_enterprise_name = text("设计单位名称")
    design_enterprise_credit_code = credit_code("设计单位统一社会信用代码")
    construction_enterprise_name = text("施工单位名称")
    construction_enterprise_credit_code = credit_code("施工单位统一社会信用代码")
    supervision_enterprise_name = text("监理单位名称")
    supervision_enterprise_credit_code = credit_code("监理单位统一社会信用代码")
    safety_licence_number = text("施工单位安全生产许可证编号", 50)
    project_manager_name = text("项目经理姓名", 50)
    project_manager_id_type = id_type("项目经理证件类型")
    project_manager_id_number = id_number("项目经理证件号码")
    chief_supervisor_name = text("总监理工程师姓名", 50)
    chief_supervisor_id_type = id_type("总监理工程师证件类型")
    chief_supervisor_id_number = id_number("总监理工程师证件号码")

    class Meta:
        verbose_name = "施工许可"
        verbose_name_plural = "施工许可"
        constraints = [unique_document_number("permit", "permit_number")]


class StructureType(models.TextChoices):
    """结构体系 PrjStructureTypeNum: the national code list tbPrjStructureTypeDic (docs/national-standard.md).
    Migration 0010 moved the values an earlier, home-made list had given other meanings."""

    BRICK_CONCRETE = "001", "砖混结构"
    BOTTOM_FRAME = "002", "底框结构"
    FRAME = "003", "框架结构"
    FRAME_SHEAR_WALL = "004", "框架-剪力墙结构"
    SHEAR_WALL = "005", "剪力墙结构"
    SLAB_COLUMN_SHEAR_WALL = "006", "板柱-剪力墙结构"
    SHORT_LEG_SHEAR_WALL = "007", "短肢墙剪力墙结构"
    PARTIAL_FRAME_SUPPORTED_SHEAR_WALL = "008", "部分框支剪力墙结构"
    FRAME_TUBE = "009", "框-筒体结构"
    TUBE_IN_TUBE = "010", "筒中筒结构"
    SPECIAL_SHAPED_COLUMN_FRAME = "011", "异型柱框架结构"
    COMPLEX_HIGH_RISE = "012", "复杂高层结构"
    MIXED = "013", "混合结构"
    STEEL = "014", "钢结构"
    BENT = "015", "排架结构"
    OTHER = "099", "其他"


class CompletionStage(Stage):
    """竣工验收备案 — TBProjectFinishManage."""

    code = StageCode.COMPLETION
    document_field = "filing_number"
    date_field = "filed_on"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="completion")
    filing_number = text("竣工验收备案编号", 50)
    permit_number = text("施工许可证编号", 50)
    quality_supervision_body = text("质量监督机构")
    construction_enterprise_name = text("施工单位名称")
    construction_enterprise_credit_code = credit_code("施工单位统一社会信用代码")
    actual_cost = models.DecimalField("实际造价（元）", null=True, blank=True, **MONEY)
    actual_area = models.DecimalField("实际面积（平方米）", null=True, blank=True, **AREA)
    actual_scale = text("实际建设规模", 500)
    structure_type = models.CharField("结构体系", max_length=3, choices=StructureType.choices, blank=True)
    actual_start_on = models.DateField("实际开工日期", null=True, blank=True)
    actual_completion_on = models.DateField("实际竣工验收日期", null=True, blank=True)
    filed_on = models.DateField("竣工验收备案日期", null=True, blank=True)
    remarks = models.TextField("备注", blank=True, validators=PLAIN)

    class Meta:
        verbose_name = "竣工验收备案"
        verbose_name_plural = "竣工验收备案"
        constraints = [unique_document_number("completion", "filing_number")]


STAGE_MODELS: dict[str, type[Stage]] = {
    m.code: m
    for m in (
        RegistrationStage,
        TenderingStage,
        ContractStage,
        DrawingReviewStage,
        PermitStage,
        CompletionStage,
    )
}


# ---------------------------------------------------------------- evidence


def private_storage():
    from django.core.files.storage import storages

    return storages["private"]


def stored_file_upload_to(instance, filename):
    # Each kind of stored file names its own path; none carries user input (the original name is a field).
    return instance.storage_path()


class StoredFile(models.Model):
    """An uploaded file kept in private storage (docs/files.md): evidence, correction evidence, finding evidence,
    objection evidence. Typed by content and hashed at upload (projects.files.check_upload), served only after a
    permission check (projects.files.private_file_response), never hard-deleted: archived with who, when, why."""

    file = models.FileField("文件", upload_to=stored_file_upload_to, storage=private_storage, max_length=300)
    original_name = models.CharField("原文件名", max_length=255, validators=PLAIN)
    content_type = models.CharField("文件类型", max_length=50)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)
    archived_at = models.DateTimeField("删除时间", null=True, blank=True)
    archived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    archive_reason = models.CharField("删除原因", max_length=200, blank=True, validators=PLAIN)

    class Meta:
        abstract = True

    def __str__(self):
        return self.original_name

    def delete(self, *args, **kwargs):
        raise RecordLocked("证明材料不能删除，只能存档（写明原因）。")

    def storage_path(self) -> str:
        """Where the file is stored, relative to the private storage: no user input."""
        raise NotImplementedError

    def record_upload(self, uploaded_file, checked) -> None:
        """Fill the columns the checks found (a projects.files.CheckedUpload) and the original name."""
        self.original_name = uploaded_file.name[-255:]
        self.content_type = checked.content_type
        self.size = checked.size
        self.sha256 = checked.sha256

    def archive(self, *, by, reason: str) -> None:
        """Mark archived (the caller saves and audits): the file and the row stay."""
        self.archived_at = timezone.now()
        self.archived_by = by
        self.archive_reason = reason

    @property
    def is_active(self) -> bool:
        return self.archived_at is None

    @property
    def download_name(self) -> str:
        from .files import download_name

        return download_name(self.original_name, self.content_type)


def evidence_upload_to(instance, filename):
    # Named by migrations before 0009; Evidence.storage_path gives the same path.
    return instance.storage_path()


class EvidencePart(models.TextChoices):
    """Which document of a stage a file is, where a stage asks for more than one: a design record's drawing review
    needs the review certificate and the drawings' cover sheet with the seals (docs/design-projects.md)."""

    CERTIFICATE = "certificate", "施工图审查合格书"
    COVER_SHEET = "cover_sheet", "施工图图签页（盖章）"


class Evidence(StoredFile):
    """A supporting document (证明材料) for one stage. Never hard-deleted: archived with a reason."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="evidence")
    stage = models.CharField("环节", max_length=20, choices=StageCode.choices)
    part = models.CharField("材料类别", max_length=20, choices=EvidencePart.choices, blank=True)
    description = models.CharField("说明", max_length=200, blank=True, validators=PLAIN)

    class Meta:
        verbose_name = "证明材料"
        verbose_name_plural = "证明材料"
        ordering = ["stage", "uploaded_at", "id"]
        # By hash: the same file used in another record is found by an index lookup (docs/files.md).
        indexes = [models.Index(fields=["project", "stage"]), models.Index(fields=["sha256"])]

    def save(self, *args, **kwargs):
        ensure_content_editable(self.project_id)
        super().save(*args, **kwargs)

    def storage_path(self) -> str:
        return f"evidence/{self.project_id}/{self.stage}/{self.sha256[:16]}-{timezone.now():%Y%m%d%H%M%S%f}"


# ---------------------------------------------------------------- submissions, comments, notifications


class SubmissionVersion(models.Model):
    """What the enterprise submitted, each time it submitted: the reviewer sees what changed since the last."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField("第几次提交")
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField("提交内容")  # {"project": {field: value}, stage code: {field: value} | None}
    evidence = models.JSONField("证明材料", default=list)  # [{"id", "stage", "name", "sha256"}]

    class Meta:
        verbose_name = "提交版本"
        verbose_name_plural = "提交版本"
        ordering = ["project", "number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="submission_version_unique")
        ]

    def __str__(self):
        return f"{self.project_id} 第{self.number}次提交"


class Receipt(models.Model):
    """受理回执: what was submitted, when, by whom, to whom — one per submission, its content hashed. The PDF is
    drawn from `content` on demand (projects.receipts); the public verification page shows the hash and the
    record's public status, nothing private (docs/receipts.md)."""

    version = models.OneToOneField(SubmissionVersion, on_delete=models.PROTECT, related_name="receipt")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="receipts")
    number = models.CharField("受理编号", max_length=30, unique=True)
    token = models.CharField("核验码", max_length=32, unique=True)
    content = models.JSONField("回执内容")
    sha256 = models.CharField("SHA-256", max_length=64)
    issued_at = models.DateTimeField("出具时间", default=timezone.now)

    class Meta:
        verbose_name = "受理回执"
        verbose_name_plural = "受理回执"
        ordering = ["-issued_at", "-id"]

    def __str__(self):
        return self.number


class ReviewComment(models.Model):
    """A reviewer's comment pinned to a stage and field, shown to the enterprise beside that field."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="review_comments")
    stage = models.CharField("环节", max_length=20, blank=True, help_text="空：针对项目基本信息或整体")
    field = models.CharField("字段", max_length=60, blank=True)
    text = models.TextField("意见", validators=PLAIN)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_organisation = models.CharField("审核单位", max_length=200)
    created_at = models.DateTimeField("时间", default=timezone.now)
    # Comments of a return belong to the submission they answered; the next submission settles them.
    settled_by_version = models.ForeignKey(
        SubmissionVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "审核意见"
        verbose_name_plural = "审核意见"
        ordering = ["created_at", "id"]

    def __str__(self):
        return self.text[:40]


class Notification(models.Model):
    """The in-portal inbox: one row per recipient user."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内通知"
        verbose_name_plural = "站内通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self):
        return self.title


# ---------------------------------------------------------------- the audit trail


def canonical_ip(value):
    """The address as Django's field stores it. PostgreSQL's inet gives a few IPv6 forms back written another
    way (an IPv4-compatible "::c000:201" as "::192.0.2.1"): the same address, and the same hash."""
    if value and ":" in value:
        return clean_ipv6_address(value)
    return value


class AppendOnlyError(DatabaseError):
    """An audit event is never changed or deleted (docs/security.md, "Audit retention"): the same refusal as the
    PostgreSQL trigger's, raised before the database is asked (and on SQLite, which has no such trigger here)."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only: UPDATE refused")

    def delete(self):
        raise AppendOnlyError("audit events are append-only: DELETE refused")

    def bulk_update(self, objs, fields, batch_size=None):
        # Refused before Django opens its transaction: a raw query or a disabled trigger is what verify_audit is for.
        raise AppendOnlyError("audit events are append-only: UPDATE refused")


# json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str), the encoder made once instead of at each
# call (the bulk import hashes 6,650 events of 1,000 projects): the same text.
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


class AuditEvent(models.Model):
    """One thing that happened, by whom, for whom, when, from where, and what changed.

    Append-only and hash-chained: each event's hash covers its content and the previous event's hash,
    so an event altered or removed behind the application's back breaks the chain (verify_audit).
    Written only through projects.audit.record() and record_many(). Never changed or deleted, by anyone
    (retention: kept for good, the law's floor being 180 days): the model, its querysets and, on PostgreSQL, a
    trigger refuse it.
    """

    occurred_at = models.DateTimeField("时间", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_username = models.CharField("操作人", max_length=150, blank=True)
    organisation = models.CharField("所属单位", max_length=200, blank=True)
    ip_address = models.GenericIPAddressField("IP地址", null=True, blank=True)
    action = models.CharField("操作", max_length=50)
    object_type = models.CharField("对象类型", max_length=50)
    object_id = models.CharField("对象ID", max_length=50, blank=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    changes = models.JSONField("变更内容", default=dict, blank=True)
    message = models.CharField("说明", max_length=500, blank=True)
    # Which chain the event is on (docs/security.md, "The audit chains"): a project's id for its events, a
    # negative shard for events of no project, 0 for the global chain (every event before the chains were split,
    # then the anchors that hash the other chains' heads into it). A database default too: processes of the code
    # before the chains (during a deploy) insert without it, onto the global chain, as they always did.
    chain = models.BigIntegerField("链", default=0, db_default=0)
    previous_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "id"]), models.Index(fields=["chain", "id"])]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only: UPDATE refused")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only: DELETE refused")

    def canonical_payload(self) -> bytes:
        payload = {
            "occurred_at": self.occurred_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_username": self.actor_username,
            "organisation": self.organisation,
            "ip_address": canonical_ip(self.ip_address),
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "project_id": self.project_id,
            "changes": self.changes,
            "message": self.message,
            "previous_hash": self.previous_hash,
        }
        if self.chain:
            # Only off the global chain: the events made before the chains were split hash as they always did.
            payload["chain"] = self.chain
        return _CANONICAL_JSON.encode(payload).encode()

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical_payload()).hexdigest()


class AuditChainHead(models.Model):
    """The head of one audit chain: locked while an event is appended to that chain, so its writers chain one
    after another, while writers of other chains go on (docs/security.md, "The audit chains")."""

    chain = models.BigIntegerField(unique=True)
    last_hash = models.CharField(max_length=64, blank=True)
    # The last hash an anchor on the global chain recorded for this chain: a head whose last_hash differs is
    # anchored by the next anchor.
    anchored_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "审计链头"
        indexes = [
            # The heads not anchored since they last moved: what the anchor reads, however many projects there are.
            models.Index(
                fields=["chain"],
                name="auditchainhead_unanchored",
                condition=~Q(last_hash=models.F("anchored_hash")),
            )
        ]

    def __str__(self):
        return self.last_hash


class AuditCheck(models.Model):
    """One check of the audit chain (projects/retention.py): the daily one from beat, or one the audit
    administrator ran. The console shows an alarm while the latest one found the chain broken."""

    checked_at = models.DateTimeField("核验时间", default=timezone.now)
    intact = models.BooleanField("链完整")
    events_checked = models.PositiveIntegerField("核验记录数")
    report = models.CharField("结果", max_length=1000)
    checked_by = models.CharField(
        "核验方式", max_length=150, help_text="每日定时核验，或运行核验的审计管理员"
    )

    class Meta:
        verbose_name = "审计链核验"
        verbose_name_plural = "审计链核验"
        ordering = ["-id"]

    def __str__(self):
        return self.report

"""The authorities' side of a record: their decisions and who is handling what."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import (
    PLAIN,
    Authority,
    CityDepartment,
    Enterprise,
    Project,
    StageCode,
    SubmissionVersion,
    private_storage,
)
from publicity.models import Snapshot


class Decision(models.TextChoices):
    APPROVE = "approve", "审核通过"
    RETURN = "return", "退回修改"
    REJECT = "reject", "不予受理"


class RejectionGround(models.TextChoices):
    OUT_OF_SCOPE = "out_of_scope", "不在补录范围"
    FALSE_INFORMATION = "false_information", "信息虚假"
    OTHER = "other", "其他"


class ReviewDecision(models.Model):
    """One reviewer decision on one submission. With the audit trail, this is what the city's figures count."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="decisions")
    version = models.ForeignKey(
        SubmissionVersion, on_delete=models.PROTECT, null=True, related_name="decisions"
    )
    decision = models.CharField("审核结论", max_length=20, choices=Decision.choices)
    ground = models.CharField("不予受理理由类别", max_length=30, choices=RejectionGround.choices, blank=True)
    reason = models.TextField("审核意见", blank=True, validators=PLAIN)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    authority_name = models.CharField("审核部门", max_length=100)
    decided_at = models.DateTimeField("审核时间", default=timezone.now)

    class Meta:
        verbose_name = "审核结论"
        verbose_name_plural = "审核结论"
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["project", "-decided_at"])]

    def __str__(self):
        return f"{self.project_id} {self.get_decision_display()}"


class Assignment(models.Model):
    """Which reviewer of the authority is handling a record. Assigning is the one safe bulk action."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="assignment")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField("分派时间", default=timezone.now)

    class Meta:
        verbose_name = "审核分派"
        verbose_name_plural = "审核分派"

    def __str__(self):
        return f"{self.project_id} → {self.reviewer}"


# ---------------------------------------------------------------- corrections (更正), issue 5
# A record in the national library is changed only through a correction: a written request naming each wrong
# field, verified by the district (correction opinion), decided by the city approval service center, then
# noticed and delivered as a new version of the same national record. Services: review/corrections.py.


def correction_reference() -> str:
    return "GZ" + secrets.token_hex(5).upper()


def correction_upload_to(instance, filename):
    return f"corrections/{instance.request.reference}/{secrets.token_hex(8)}"


class CorrectionStatus(models.TextChoices):
    FILED = "filed", "待区县核查"
    DISTRICT_DECLINED = "district_declined", "区县不予更正"
    AT_CITY = "at_city", "待市审批服务中心审定"
    CITY_DECLINED = "city_declined", "市级不予更正"
    APPROVED = "approved", "已批准更正"
    WITHDRAWN = "withdrawn", "企业已撤回"


OPEN_CORRECTION_STATUSES = (CorrectionStatus.FILED, CorrectionStatus.AT_CITY)


class CorrectionOrder(models.Model):
    """An authority's notice to an enterprise that a record in the library is wrong (责令更正). The enterprise
    answers it with a CorrectionRequest (CorrectionRequest.order); unanswered after due_on, it is overdue."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="correction_orders")
    finding = models.TextField("发现的问题", validators=PLAIN)
    spot_check_item = models.ForeignKey(
        "SpotCheckItem", on_delete=models.PROTECT, null=True, blank=True, related_name="correction_orders"
    )
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issuer_name = models.CharField("通知单位", max_length=200)
    issued_at = models.DateTimeField("通知时间", default=timezone.now)
    due_on = models.DateField("应答期限")

    class Meta:
        verbose_name = "更正通知"
        verbose_name_plural = "更正通知"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["due_on"])]

    def __str__(self):
        return f"{self.project_id} 更正通知"


class CorrectionRequest(models.Model):
    """The enterprise's written correction application (更正申请) on a record in the national library."""

    reference = models.CharField("申请编号", max_length=20, unique=True, default=correction_reference)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="correction_requests")
    base_snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        CorrectionOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    statement = models.TextField("更正申请说明", max_length=5000, validators=PLAIN)
    status = models.CharField(
        "状态", max_length=20, choices=CorrectionStatus.choices, default=CorrectionStatus.FILED
    )
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField("申请时间", default=timezone.now)
    # The district's correction opinion (更正意见): accept (goes to the city) or decline, with reasons.
    district_accepts = models.BooleanField("区县意见：同意更正", null=True, blank=True)
    district_opinion = models.TextField("区县更正意见", blank=True, validators=PLAIN)
    district_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    district_at = models.DateTimeField("区县核查时间", null=True, blank=True)
    # The city approval service center's decision.
    city_approves = models.BooleanField("市级审定：批准更正", null=True, blank=True)
    city_opinion = models.TextField("市级审定意见", blank=True, validators=PLAIN)
    city_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    city_at = models.DateTimeField("市级审定时间", null=True, blank=True)
    result_snapshot = models.ForeignKey(
        Snapshot, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "更正申请"
        verbose_name_plural = "更正申请"
        ordering = ["-filed_at", "-id"]
        constraints = [
            # One open correction per record at a time: a second would correct a version about to be replaced.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(status__in=["filed", "at_city"]),
                name="one_open_correction_per_project",
            )
        ]
        indexes = [models.Index(fields=["status", "-filed_at"])]

    def __str__(self):
        return self.reference


class CorrectionItem(models.Model):
    """One wrong field: where it is, what it says now (in the base snapshot), what it should say, and why."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="items")
    stage = models.CharField("环节", max_length=20, blank=True, help_text="空：项目基本信息")
    field_name = models.CharField("字段", max_length=60)
    current_value = models.TextField("原内容", blank=True)
    proposed_value = models.TextField("更正为", validators=PLAIN)
    reason = models.TextField("错误原因", validators=PLAIN)

    class Meta:
        verbose_name = "更正事项"
        verbose_name_plural = "更正事项"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "stage", "field_name"], name="correction_item_unique")
        ]

    def __str__(self):
        return f"{self.stage}.{self.field_name}"


class CorrectionEvidence(models.Model):
    """A supporting document of a correction request: private, typed by content like stage evidence."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to=correction_upload_to, storage=private_storage, max_length=300)
    original_name = models.CharField("原文件名", max_length=255, validators=PLAIN)
    content_type = models.CharField("文件类型", max_length=50)
    size = models.PositiveBigIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "更正证明材料"
        verbose_name_plural = "更正证明材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


# ---------------------------------------------------------------- spot checks (抽查), issue 5
# Services: review/spot_checks.py.


class Finding(models.TextChoices):
    PENDING = "pending", "待核查"
    CORRECT = "correct", "信息正确"
    ERROR = "error", "信息有误"
    FALSE_INFORMATION = "false_information", "信息虚假"


class SpotCheckCampaign(models.Model):
    """A city spot-check campaign: which authorities and stages, which period of entry, how many records.
    The sample is drawn once, reproducibly: the seed is recorded and the same seed draws the same records."""

    name = models.CharField("抽查名称", max_length=200, validators=PLAIN)
    authorities = models.ManyToManyField(Authority, related_name="+", verbose_name="抽查区县")
    stages = models.JSONField("抽查环节", default=list)  # [StageCode]
    period_start = models.DateField("入库起始日期")
    period_end = models.DateField("入库截止日期")
    sample_rate = models.DecimalField("抽查比例（%）", max_digits=5, decimal_places=2, null=True, blank=True)
    sample_size = models.PositiveIntegerField("抽查数量", null=True, blank=True)
    seed = models.BigIntegerField("随机种子", null=True, blank=True)
    population_size = models.PositiveIntegerField("符合条件的记录数", null=True, blank=True)
    drawn_at = models.DateTimeField("抽取时间", null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "抽查任务"
        verbose_name_plural = "抽查任务"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                name="campaign_rate_or_size",
                condition=(
                    models.Q(sample_rate__isnull=False, sample_size__isnull=True)
                    | models.Q(sample_rate__isnull=True, sample_size__isnull=False)
                ),
            )
        ]

    def __str__(self):
        return self.name


def spot_check_upload_to(instance, filename):
    return f"spot_checks/{instance.campaign_id}/{instance.project_id}/{secrets.token_hex(8)}"


class SpotCheckItem(models.Model):
    """One sampled stage of one record, checked by the department responsible for that stage."""

    campaign = models.ForeignKey(SpotCheckCampaign, on_delete=models.PROTECT, related_name="items")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="spot_check_items")
    stage = models.CharField("环节", max_length=20, choices=StageCode.choices)
    department = models.CharField("核查部门", max_length=30, choices=CityDepartment.choices)
    finding = models.CharField("核查结论", max_length=20, choices=Finding.choices, default=Finding.PENDING)
    notes = models.TextField("核查说明", blank=True, validators=PLAIN)
    evidence = models.FileField(
        "核查材料", upload_to=spot_check_upload_to, storage=private_storage, blank=True, max_length=300
    )
    evidence_content_type = models.CharField(max_length=50, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)

    class Meta:
        verbose_name = "抽查事项"
        verbose_name_plural = "抽查事项"
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "project", "stage"], name="spot_check_item_unique")
        ]
        indexes = [models.Index(fields=["department", "finding"])]

    def __str__(self):
        return f"{self.campaign_id}/{self.project_id}/{self.stage}"


# ---------------------------------------------------------------- integrity (诚信), issue 5
# Services: review/integrity.py.


class Blacklisting(models.Model):
    """An enterprise on the construction market blacklist (黑名单) for a period, on a confirmed false-information
    finding. Never deleted: lifted early with a reason, or it ends by its date."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="blacklistings")
    reason = models.TextField("列入原因", validators=PLAIN)
    source_item = models.ForeignKey(
        SpotCheckItem, on_delete=models.PROTECT, related_name="blacklistings", verbose_name="依据的抽查结论"
    )
    starts_on = models.DateField("列入日期")
    ends_on = models.DateField("届满日期")
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    listed_at = models.DateTimeField("登记时间", default=timezone.now)
    lifted_at = models.DateTimeField("提前移出时间", null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lift_reason = models.TextField("移出原因", blank=True, validators=PLAIN)

    class Meta:
        verbose_name = "黑名单"
        verbose_name_plural = "黑名单"
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                name="blacklisting_dates_in_order", condition=models.Q(ends_on__gte=models.F("starts_on"))
            )
        ]
        indexes = [models.Index(fields=["enterprise", "ends_on"])]

    def __str__(self):
        return f"{self.enterprise} {self.starts_on}–{self.ends_on}"


class IntegrityDeduction(models.Model):
    """One line of an enterprise's integrity ledger (诚信扣分): points deducted, why, on which finding."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="integrity_deductions")
    points = models.DecimalField("扣分", max_digits=5, decimal_places=1)
    reason = models.TextField("扣分原因", validators=PLAIN)
    source_item = models.ForeignKey(
        SpotCheckItem, on_delete=models.PROTECT, null=True, blank=True, related_name="deductions"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "诚信扣分"
        verbose_name_plural = "诚信扣分"
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(name="deduction_points_positive", condition=models.Q(points__gt=0))
        ]

    def __str__(self):
        return f"{self.enterprise} -{self.points}"

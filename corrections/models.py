"""Corrections (更正) of records in the national library: the enterprise's requests and the authorities' orders.

A record in the national library is changed only through a correction: a written request naming each wrong
field, verified by the district (correction opinion), decided by the city approval service center, then
noticed and delivered as a new version of the same national record (docs/corrections.md). The tables kept
the names they had when these models lived in the review app (`Meta.db_table`)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from projects.models import PLAIN, Project, StoredFile
from publicity.models import Snapshot


def correction_reference() -> str:
    return "GZ" + secrets.token_hex(5).upper()


def correction_upload_to(instance, filename):
    # Named by migrations before 0003; CorrectionEvidence.storage_path gives the same path.
    return instance.storage_path()


class CorrectionStatus(models.TextChoices):
    FILED = "filed", "待区县核查"
    DISTRICT_DECLINED = "district_declined", "区县不予更正"
    AT_CITY = "at_city", "待市审批服务中心审定"
    CITY_DECLINED = "city_declined", "市级不予更正"
    APPROVED = "approved", "已批准更正"
    WITHDRAWN = "withdrawn", "企业已撤回"


# A request still being handled: the enterprise may withdraw it, and no second one may be filed for the record
# (the constraint one_open_correction_per_project is built from this tuple).
OPEN_CORRECTION_STATUSES = (CorrectionStatus.FILED, CorrectionStatus.AT_CITY)


class CorrectionOrder(models.Model):
    """An authority's notice to an enterprise that a record in the library is wrong (责令更正). The enterprise
    answers it with a CorrectionRequest (CorrectionRequest.order); unanswered after due_on, it is overdue.

    It has no status column: answered and overdue are derived from its requests and its date (selectors), so
    nothing can leave them out of step (docs/corrections.md, "Orders")."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="correction_orders")
    finding = models.TextField("发现的问题", validators=PLAIN)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issuer_name = models.CharField("通知单位", max_length=200)
    issued_at = models.DateTimeField("通知时间", default=timezone.now)
    due_on = models.DateField("应答期限")

    class Meta:
        db_table = "review_correctionorder"
        verbose_name = "更正通知"
        verbose_name_plural = "更正通知"
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["due_on"])]

    def __str__(self):
        return f"{self.project_id} 更正通知"


class CorrectionRequest(FSMModelMixin, models.Model):
    """The enterprise's written correction application (更正申请) on a record in the national library.

    Its status moves only through the transitions below (protected: assigning it raises), each called by one
    service of corrections/services.py that checks who may act, audits and tells people (docs/corrections.md)."""

    reference = models.CharField("申请编号", max_length=20, unique=True, default=correction_reference)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="correction_requests")
    base_snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        CorrectionOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    statement = models.TextField("更正申请说明", max_length=5000, validators=PLAIN)
    status = FSMField(
        "状态",
        max_length=20,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.FILED,
        protected=True,
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
        db_table = "review_correctionrequest"
        verbose_name = "更正申请"
        verbose_name_plural = "更正申请"
        ordering = ["-filed_at", "-id"]
        constraints = [
            # One open correction per record at a time: a second would correct a version about to be replaced.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(status__in=list(OPEN_CORRECTION_STATUSES)),
                name="one_open_correction_per_project",
            )
        ]
        indexes = [models.Index(fields=["status", "-filed_at"])]

    def __str__(self):
        return self.reference

    def clean_fields(self, exclude=None):
        # The status is the transitions' to set (a value of its choices by construction); cleaning it would
        # assign it back, which the protected field refuses.
        super().clean_fields(exclude={*(exclude or ()), "status"})

    # ------------------------------------------------------------ transitions (docs/corrections.md, "The process")

    @transition(field=status, source=CorrectionStatus.FILED, target=CorrectionStatus.AT_CITY)
    def accept_at_district(self, *, by, opinion: str):
        """The district agrees: the request goes to the city approval service center."""
        self._district_opinion(accepts=True, by=by, opinion=opinion)

    @transition(field=status, source=CorrectionStatus.FILED, target=CorrectionStatus.DISTRICT_DECLINED)
    def decline_at_district(self, *, by, opinion: str):
        """The district declines, with reasons: the request ends there."""
        self._district_opinion(accepts=False, by=by, opinion=opinion)

    @transition(field=status, source=CorrectionStatus.AT_CITY, target=CorrectionStatus.APPROVED)
    def approve_at_city(self, *, by, opinion: str, result_snapshot):
        """The city approves: `result_snapshot` is the corrected version now in notice."""
        self._city_decision(approves=True, by=by, opinion=opinion)
        self.result_snapshot = result_snapshot

    @transition(field=status, source=CorrectionStatus.AT_CITY, target=CorrectionStatus.CITY_DECLINED)
    def decline_at_city(self, *, by, opinion: str):
        """The city declines, with reasons: final."""
        self._city_decision(approves=False, by=by, opinion=opinion)

    @transition(field=status, source=list(OPEN_CORRECTION_STATUSES), target=CorrectionStatus.WITHDRAWN)
    def withdraw(self):
        """The enterprise takes its open request back: final."""

    def _district_opinion(self, *, accepts: bool, by, opinion: str):
        self.district_accepts = accepts
        self.district_opinion = opinion
        self.district_by = by
        self.district_at = timezone.now()

    def _city_decision(self, *, approves: bool, by, opinion: str):
        self.city_approves = approves
        self.city_opinion = opinion
        self.city_by = by
        self.city_at = timezone.now()


class CorrectionItem(models.Model):
    """One wrong field: where it is, what it says now (in the base snapshot), what it should say, and why."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="items")
    stage = models.CharField("环节", max_length=20, blank=True, help_text="空：项目基本信息")
    field_name = models.CharField("字段", max_length=60)
    current_value = models.TextField("原内容", blank=True)
    proposed_value = models.TextField("更正为", validators=PLAIN)
    reason = models.TextField("错误原因", validators=PLAIN)

    class Meta:
        db_table = "review_correctionitem"
        verbose_name = "更正事项"
        verbose_name_plural = "更正事项"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "stage", "field_name"], name="correction_item_unique")
        ]

    def __str__(self):
        return f"{self.stage}.{self.field_name}"


class CorrectionEvidence(StoredFile):
    """A supporting document of a correction request: private, typed by content and hashed like every stored file
    (projects.models.StoredFile, docs/files.md)."""

    request = models.ForeignKey(CorrectionRequest, on_delete=models.CASCADE, related_name="evidence")

    class Meta:
        db_table = "review_correctionevidence"
        verbose_name = "更正证明材料"
        verbose_name_plural = "更正证明材料"
        ordering = ["uploaded_at", "id"]

    def storage_path(self) -> str:
        return f"corrections/{self.request.reference}/{secrets.token_hex(8)}"

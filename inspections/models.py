"""The city's spot checks (抽查): campaigns, their reproducible samples, and each department's findings. The
tables kept the names they had when these models lived in the review app (`Meta.db_table`)."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, FSMModelMixin, transition

from corrections.models import CorrectionOrder
from projects.models import PLAIN, Authority, CityDepartment, Project, StageCode, StoredFile, private_storage


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
    # Shown as 复核码: the number anyone re-draws the same sample with (services.draw).
    seed = models.BigIntegerField("复核码", null=True, blank=True)
    population_size = models.PositiveIntegerField("符合条件的记录数", null=True, blank=True)
    drawn_at = models.DateTimeField("抽取时间", null=True, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        db_table = "review_spotcheckcampaign"
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


# A finding is final once recorded (docs/lifecycle.md, "Spot checks"): pending → correct | error | false information.
FINAL_FINDINGS = (Finding.CORRECT, Finding.ERROR, Finding.FALSE_INFORMATION)


class SpotCheckItem(FSMModelMixin, models.Model):
    """One sampled stage of one record, checked by the department responsible for that stage. Its finding is a
    state machine (protected: only record_finding's transition moves it)."""

    campaign = models.ForeignKey(SpotCheckCampaign, on_delete=models.PROTECT, related_name="items")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="spot_check_items")
    stage = models.CharField("环节", max_length=20, choices=StageCode.choices)
    department = models.CharField("核查部门", max_length=30, choices=CityDepartment.choices)
    finding = FSMField(
        "核查结论", max_length=20, choices=Finding.choices, default=Finding.PENDING, protected=True
    )
    notes = models.TextField("核查说明", blank=True, validators=PLAIN)
    # The file is served from its FindingEvidence row (evidence_file); these two columns still name it, and are
    # kept filled, but nothing reads them any more.
    evidence = models.FileField(
        "核查材料", upload_to=spot_check_upload_to, storage=private_storage, blank=True, max_length=300
    )
    evidence_content_type = models.CharField(max_length=50, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField("核查时间", null=True, blank=True)
    # The correction order sent on this finding, if any (inspections.services.order_correction): the link
    # points from the spot check to the order so that corrections need not know about spot checks.
    correction_order = models.OneToOneField(
        CorrectionOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="spot_check_item",
        verbose_name="更正通知",
    )

    class Meta:
        db_table = "review_spotcheckitem"
        verbose_name = "抽查事项"
        verbose_name_plural = "抽查事项"
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "project", "stage"], name="spot_check_item_unique")
        ]
        indexes = [models.Index(fields=["department", "finding"])]

    def __str__(self):
        return f"{self.campaign_id}/{self.project_id}/{self.stage}"

    @transition(field=finding, source=Finding.PENDING, target=RETURN_VALUE(*FINAL_FINDINGS))
    def conclude(self, finding: str) -> str:
        """The department's finding (inspections.services.record_finding checks who, and audits)."""
        return finding


class FindingEvidence(StoredFile):
    """The checker's evidence file behind a finding (docs/files.md): private, served to city staff only."""

    item = models.OneToOneField(SpotCheckItem, on_delete=models.PROTECT, related_name="evidence_file")

    class Meta:
        verbose_name = "核查材料"
        verbose_name_plural = "核查材料"
        ordering = ["uploaded_at", "id"]

    def storage_path(self) -> str:
        return spot_check_upload_to(self.item, "")

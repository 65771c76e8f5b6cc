"""The authorities' side of a record: their decisions and who is handling what."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import PLAIN, Project, SubmissionVersion


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


class EvidenceFingerprint(models.Model):
    """An evidence image's perceptual hash (review.reuse): a re-saved or re-encoded scan of the same picture has
    another SHA-256 but the same perceptual hash. A row of its own, not a column of Evidence: a locked record's
    evidence rows cannot be updated (projects migration 0005), and existing images needed theirs too
    (docs/files.md, "Reused evidence")."""

    evidence = models.OneToOneField(
        "projects.Evidence", on_delete=models.PROTECT, primary_key=True, related_name="fingerprint"
    )
    perceptual_hash = models.CharField("图像感知哈希", max_length=16, db_index=True)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    class Meta:
        verbose_name = "证明材料图像指纹"
        verbose_name_plural = "证明材料图像指纹"

    def __str__(self):
        return f"{self.evidence_id} {self.perceptual_hash}"

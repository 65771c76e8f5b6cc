"""An import job: one uploaded workbook (and its evidence zip), imported by a Celery worker (docs/import.md)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from projects.models import Enterprise, private_storage


def job_file_path(instance, filename):
    return f"imports/{instance.enterprise_id}/{instance.token}/{filename}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "未能导入"


class ImportJob(models.Model):
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    workbook = models.FileField(upload_to=job_file_path, storage=private_storage, max_length=300)
    workbook_name = models.CharField("工作簿文件名", max_length=255)
    evidence_zip = models.FileField(
        upload_to=job_file_path, storage=private_storage, max_length=300, blank=True
    )
    evidence_zip_name = models.CharField("证明材料压缩包文件名", max_length=255, blank=True)
    annotated = models.FileField(upload_to=job_file_path, storage=private_storage, max_length=300, blank=True)
    status = models.CharField("状态", max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    message = models.CharField("说明", max_length=500, blank=True)
    total = models.PositiveIntegerField("项目数", default=0)
    processed = models.PositiveIntegerField("已处理", default=0)
    created_count = models.PositiveIntegerField("新建", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("无变化", default=0)
    refused_count = models.PositiveIntegerField("未导入", default=0)
    attempts = models.PositiveIntegerField("运行次数", default=0)
    results = models.JSONField("逐行结果", default=list, blank=True)
    evidence_results = models.JSONField("逐个文件结果", default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with every row: a job whose heartbeat stopped had its worker die (services.stalled_jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "导入任务"
        verbose_name_plural = "导入任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["enterprise", "-created_at"])]

    def __str__(self):
        return f"{self.workbook_name}（{self.get_status_display()}）"

    @property
    def percent(self) -> int:
        if self.status in (JobStatus.DONE, JobStatus.FAILED):
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0

    @property
    def has_problems(self) -> bool:
        """A row with an error or a 提示: the annotated copy marks them."""
        return any(result["problems"] for result in self.results)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

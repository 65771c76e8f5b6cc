"""The public side: the frozen snapshot of what was approved, its 10-day notice, objections from the public,
and the outbox through which the snapshot enters the national platform."""

import hashlib
import json
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_fsm import FSMField, FSMModelMixin, transition

from projects.models import PLAIN, Authority, Project, ProjectType, StoredFile, private_storage

from . import timing


class ImmutableError(Exception):
    pass


class Snapshot(models.Model):
    """The publishable content of a record, frozen when its notice starts: immutable, versioned, hashed.
    The notice shows it, objections refer to it, and exactly it is sent to the national platform."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="snapshots")
    version = models.PositiveIntegerField("版本")
    content = models.JSONField("内容")
    content_hash = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("生成时间", default=timezone.now)
    reason = models.CharField("生成原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "公示快照"
        verbose_name_plural = "公示快照"
        ordering = ["project", "version"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="snapshot_version_unique")]

    def __str__(self):
        return f"{self.project_id} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ImmutableError("公示快照一经生成不可修改。")
        self.content_hash = self.hash_of(self.content)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableError("公示快照不可删除。")

    @staticmethod
    def hash_of(content) -> str:
        canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    def is_intact(self) -> bool:
        return self.hash_of(self.content) == self.content_hash


class NoticeState(models.TextChoices):
    RUNNING = "running", "公示中"
    PAUSED = "paused", "异议处理中（暂停计时）"
    CLOSED = "closed", "公示期满"
    CANCELLED = "cancelled", "异议成立，公示终止"


class Notice(FSMModelMixin, models.Model):
    """A 10-day public notice of one snapshot. A row with ends_at, swept every minute: no timer lives only in
    a broker. Search columns are copied from the snapshot so the public list needs no join."""

    snapshot = models.OneToOneField(Snapshot, on_delete=models.PROTECT, related_name="notice")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="notices")
    # Changed only by the transitions below, each called from its service in publicity/services.py.
    state = FSMField(
        "状态", max_length=20, choices=NoticeState.choices, default=NoticeState.RUNNING, protected=True
    )
    starts_at = models.DateTimeField("公示开始")
    ends_at = models.DateTimeField("公示截止")
    paused_at = models.DateTimeField("暂停时间", null=True, blank=True)
    remaining_seconds = models.PositiveIntegerField("暂停时剩余秒数", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    # Denormalised for the public list and search (see the indexes).
    project_number = models.CharField("项目编号", max_length=16)
    project_name = models.CharField("项目名称", max_length=200)
    enterprise_name = models.CharField("补录企业", max_length=200)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    project_type = models.CharField("项目类型", max_length=30, choices=ProjectType.choices)
    document_numbers = models.CharField("文件编号", max_length=400, blank=True)  # space-separated

    class Meta:
        verbose_name = "公示"
        verbose_name_plural = "公示"
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["state", "ends_at"]),
            models.Index(fields=["state", "-starts_at", "-id"]),
            # The public list (running or paused, newest first): with `state IN (…)` the index above cannot give
            # the order, and PostgreSQL sorted every public notice for each page; this one is read in order.
            models.Index(
                fields=["-starts_at", "-id"],
                condition=models.Q(state__in=["running", "paused"]),
                name="notice_public_recent",
            ),
            models.Index(fields=["authority", "state", "-starts_at"]),
            models.Index(fields=["project_number"]),
        ]

    def __str__(self):
        return f"{self.project_number} {self.project_name}"

    @transition(field=state, source=NoticeState.RUNNING, target=NoticeState.PAUSED)
    def pause(self):
        """An objection came in: the clock stops (docs/lifecycle.md, "Timers")."""

    @transition(field=state, source=NoticeState.PAUSED, target=NoticeState.RUNNING)
    def resume(self):
        """The last pending objection was dismissed: the clock runs again."""

    @transition(field=state, source=[NoticeState.RUNNING, NoticeState.PAUSED], target=NoticeState.CANCELLED)
    def cancel(self):
        """An objection was upheld: the notice ends without entry."""

    @transition(field=state, source=NoticeState.RUNNING, target=NoticeState.CLOSED)
    def close(self):
        """The notice ran its time without an objection standing."""

    @property
    def is_public(self) -> bool:
        return self.state in (NoticeState.RUNNING, NoticeState.PAUSED)

    def days_left(self, now=None) -> int:
        """Days still to run (publicity/timing.py); a paused notice shows the days it would have if it resumed
        now."""
        now = now or timezone.now()
        ends_at = (
            timing.resumed_end(now, self.remaining_seconds or 0)
            if self.state == NoticeState.PAUSED
            else self.ends_at
        )
        return timing.days_left(self.starts_at, ends_at, now)

    @property
    def end_text(self) -> str:
        """The end as every page writes it: "2026-12-12 24:00" (Beijing time)."""
        return timing.end_text(self.ends_at)


class ObjectionStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    DISMISSED = "dismissed", "异议不成立"
    UPHELD = "upheld", "异议成立"


def new_reference() -> str:
    return "YY" + secrets.token_hex(5).upper()


def objection_upload_to(instance, filename):
    return f"objections/{instance.reference}/{secrets.token_hex(8)}"


class Objection(FSMModelMixin, models.Model):
    """An objection from the public, kept read-only as written. The contact is never shown publicly."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections")
    reference = models.CharField("受理编号", max_length=20, unique=True, default=new_reference)
    name = models.CharField("异议人姓名或单位", max_length=100, validators=PLAIN)
    contact = models.CharField("联系方式", max_length=100, validators=PLAIN)
    reason = models.TextField("异议事实和理由", max_length=5000, validators=PLAIN)
    # The evidence file is an ObjectionEvidence row (below). These two columns name the same stored file for the
    # console's objection list and file view, which read them until they read ObjectionEvidence (docs/files.md).
    evidence = models.FileField(
        "证明材料", upload_to=objection_upload_to, storage=private_storage, blank=True
    )
    evidence_content_type = models.CharField(max_length=50, blank=True)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    ip_address = models.GenericIPAddressField("IP地址", null=True, blank=True)
    status = FSMField(
        "处理结果",
        max_length=20,
        choices=ObjectionStatus.choices,
        default=ObjectionStatus.PENDING,
        protected=True,
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField("处理时间", null=True, blank=True)
    # What the objector (and only the objector, by reference) reads of the outcome.
    outcome = models.TextField("处理意见", blank=True, validators=PLAIN)

    class Meta:
        verbose_name = "异议"
        verbose_name_plural = "异议"
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["notice", "status"])]

    def __str__(self):
        return self.reference

    @transition(field=status, source=ObjectionStatus.PENDING, target=ObjectionStatus.DISMISSED)
    def dismiss(self):
        """The district found the objection unfounded (publicity.services.dismiss_objection)."""

    @transition(field=status, source=ObjectionStatus.PENDING, target=ObjectionStatus.UPHELD)
    def uphold(self):
        """The district found the objection well founded (publicity.services.uphold_objection)."""


class ObjectionEvidence(StoredFile):
    """An objector's evidence file: private, shown only in the console to those who see the record."""

    objection = models.OneToOneField(Objection, on_delete=models.PROTECT, related_name="evidence_file")
    # The public has no account: nobody is recorded as the uploader (the objection keeps the IP address).
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

    class Meta:
        verbose_name = "异议证明材料"
        verbose_name_plural = "异议证明材料"
        ordering = ["uploaded_at", "id"]

    def storage_path(self) -> str:
        return objection_upload_to(self.objection, "")


class OutboxState(models.TextChoices):
    PENDING = "pending", "待报送"
    DELIVERED = "delivered", "已入库"
    FAILED = "failed", "报送失败（需人工处理）"
    # The platform checked the record and refused it (a 422 naming table, field and reason): retrying the same
    # record cannot help, it goes back to the district (docs/lifecycle.md, "Refused by the national platform").
    REFUSED = "refused", "全国平台退回"


class OutboxKind(models.TextChoices):
    CREATE = "create", "新增入库"
    UPDATE = "update", "更正更新"


class OutboxMessage(FSMModelMixin, models.Model):
    """A snapshot to deliver to the national platform, written in the same transaction as the state change.
    Delivered at least once by a task, exactly once in effect by its idempotency key."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="outbox")
    snapshot = models.OneToOneField(Snapshot, on_delete=models.PROTECT, related_name="outbox")
    kind = models.CharField("类型", max_length=10, choices=OutboxKind.choices, default=OutboxKind.CREATE)
    # The platform's own version count of the record: 1 for a create, the entry's version + 1 for a correction.
    # Not the snapshot's: an upheld objection makes snapshots the platform never saw.
    national_version = models.PositiveIntegerField("全国平台版本", default=1)
    idempotency_key = models.CharField("幂等键", max_length=80, unique=True)
    state = FSMField(
        "状态", max_length=20, choices=OutboxState.choices, default=OutboxState.PENDING, protected=True
    )
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now)
    leased_until = models.DateTimeField("处理租约", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    last_status_code = models.PositiveIntegerField("最近响应码", null=True, blank=True)
    national_id = models.CharField("全国平台编号", max_length=80, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    # Transient failures are retried for OUTBOX_RETRY_FOR_SECONDS from here: the message's creation, or the
    # console's 重新报送, which opens a new window (docs/lifecycle.md, "Delivery").
    retrying_since = models.DateTimeField("重试起始", default=timezone.now)
    delivered_at = models.DateTimeField("入库时间", null=True, blank=True)
    # What is sent: the snapshot in the national standard's tables (publicity/national_standard.py), fixed when
    # the message is written so every retry sends the same bytes. Empty on messages older than the standard:
    # they sent the snapshot's content itself (sent_payload).
    payload = models.JSONField("报送内容（全国标准数据表）", default=dict, blank=True)
    # The platform's refusal: [{"table", "field", "message", "stage", "stage_field"}], stage/stage_field being the
    # portal's field behind the national column (selectors.refusal_of shows it in the console).
    refusal = models.JSONField("全国平台退回原因", default=list, blank=True)

    class Meta:
        verbose_name = "入库报送"
        verbose_name_plural = "入库报送"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return self.idempotency_key

    @transition(field=state, source=OutboxState.PENDING, target=OutboxState.DELIVERED)
    def deliver(self):
        """The platform stored the record."""

    @transition(field=state, source=OutboxState.PENDING, target=OutboxState.FAILED)
    def fail(self):
        """Given up: a definite refusal, or transient failures past the retry window."""

    @transition(field=state, source=OutboxState.PENDING, target=OutboxState.REFUSED)
    def refuse(self):
        """The platform's checks refused the record (a 422 naming table and field)."""

    @transition(field=state, source=OutboxState.FAILED, target=OutboxState.PENDING)
    def retry(self):
        """The console's 重新报送 after a person fixed the cause."""

    @property
    def sent_payload(self) -> dict:
        return self.payload or self.snapshot.content


class StageRecordNumber(models.Model):
    """A stage record number of the national platform, PrjNum-XX-nnn, issued by the portal the first time the
    record is delivered and kept for every later version (a correction keeps its numbers)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="stage_record_numbers")
    stage = models.CharField("环节", max_length=20)
    number = models.CharField("环节编号", max_length=30, unique=True)
    issued_at = models.DateTimeField("编号时间", default=timezone.now)

    class Meta:
        verbose_name = "全国平台环节编号"
        verbose_name_plural = "全国平台环节编号"
        constraints = [models.UniqueConstraint(fields=["project", "stage"], name="stage_record_number_once")]

    def __str__(self):
        return self.number


class DiscrepancyKind(models.TextChoices):
    MISSING = "missing", "全国平台无此记录"
    ALTERED = "altered", "全国平台记录与报送内容不一致"


class ReconciliationDiscrepancy(models.Model):
    """What the daily read-back (报送核对) found: a delivered record the platform no longer holds, or holds
    differently from what was sent. Open until a later read-back finds the record as sent again."""

    entry = models.ForeignKey("LibraryEntry", on_delete=models.PROTECT, related_name="discrepancies")
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("类型", max_length=10, choices=DiscrepancyKind.choices)
    # [{"table", "row", "field", "sent", "found"}]; empty for a missing record
    differences = models.JSONField("差异", default=list, blank=True)
    found_at = models.DateTimeField("发现时间", default=timezone.now)
    checked_at = models.DateTimeField("最近核对时间", default=timezone.now)
    resolved_at = models.DateTimeField("消除时间", null=True, blank=True)

    class Meta:
        verbose_name = "报送核对差异"
        verbose_name_plural = "报送核对差异"
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(resolved_at__isnull=True), name="one_open_discrepancy"
            )
        ]

    def __str__(self):
        return f"{self.entry_id} {self.get_kind_display()}"


class LibraryEntry(models.Model):
    """A record in the national library: published permanently at /library/ with its current snapshot."""

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="library_entry")
    national_id = models.CharField("全国平台编号", max_length=80, unique=True)
    national_version = models.PositiveIntegerField("全国平台版本", default=1)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="+")
    entered_at = models.DateTimeField("入库时间", default=timezone.now)
    updated_at = models.DateTimeField("最近更正时间", null=True, blank=True)
    project_number = models.CharField("项目编号", max_length=16)
    project_name = models.CharField("项目名称", max_length=200)
    enterprise_name = models.CharField("补录企业", max_length=200)
    # As the snapshot names it: the 业绩 lookup finds an enterprise's entered records by it (publicity/performance.py).
    enterprise_credit_code = models.CharField("补录企业统一社会信用代码", max_length=18, blank=True)
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="+")
    project_type = models.CharField("项目类型", max_length=30, choices=ProjectType.choices)
    document_numbers = models.CharField("文件编号", max_length=400, blank=True)

    class Meta:
        verbose_name = "全国平台入库记录"
        verbose_name_plural = "全国平台入库记录"
        ordering = ["-entered_at", "-id"]
        indexes = [
            models.Index(fields=["-entered_at", "-id"]),
            models.Index(fields=["authority", "-entered_at"]),
            models.Index(fields=["project_number"]),
            # An enterprise's records, newest first (the 业绩 lookup by credit code and the enterprise page).
            models.Index(
                fields=["enterprise_credit_code", "-entered_at", "-id"], name="library_enterprise_recent"
            ),
            # The entries of one enterprise's name, newest first: a search whose word is in a few of the names of
            # LibraryEnterpriseName walks them name by name (publicity.selectors.library_enterprise_names).
            models.Index(fields=["enterprise_name", "-entered_at", "-id"], name="library_enterprise_name"),
        ]

    def __str__(self):
        return f"{self.national_id} {self.project_name}"


class LibraryEnterpriseName(models.Model):
    """Every enterprise name a library entry bears, once (20,000 names for 830,000 entries at a million records):
    a search's word is looked up in these first, so a whole enterprise's name costs a few index pages instead of
    the trigram index of every entry's name, where the trigrams common to all names (重庆…, …有限公司) point at
    every entry (docs/architecture.md, "At national scale").

    Written with the entry, in its transaction, by publicity.services.mark_delivered (the one place entries are
    written). A name that no entry bears any more after a correction stays: a search reads the entries that bear
    each name it finds, so a stale name finds none, and nothing is counted or deleted that two deliveries could
    race on."""

    name = models.CharField("补录企业", max_length=200, unique=True)

    class Meta:
        verbose_name = "入库记录的补录企业名称"
        verbose_name_plural = "入库记录的补录企业名称"

    def __str__(self):
        return self.name

"""The notice and what follows it, each step one transaction through the lifecycle:

approval → snapshot + notice (on the review app's project_approved signal)
objection → notice paused; dismissed → resumed with its remaining time; upheld → returned to the enterprise
notice expired (beat sweep) → entering + an outbox row; delivered → in the national library, locked
"""

import datetime
import logging
import random

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.dispatch import receiver
from django.utils import timezone
from django_fsm import can_proceed

from projects import audit, files, notifications, permissions
from projects.audit import Actor
from projects.identifiers import markup_problem
from projects.models import Project, ReviewComment, Status
from projects.services import (
    RecordLocked,
    ensure_reviewer_of,
    lock_project,
    record_transition,
)
from projects.signals import project_approved

from . import national, national_standard, snapshots
from .models import (
    DiscrepancyKind,
    LibraryEnterpriseName,
    LibraryEntry,
    Notice,
    NoticeState,
    Objection,
    ObjectionEvidence,
    ObjectionStatus,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    ReconciliationDiscrepancy,
    Snapshot,
    StageRecordNumber,
)
from .timing import notice_end, resumed_end

log = logging.getLogger(__name__)

SYSTEM = Actor(user=AnonymousUser(), ip_address=None)


# ---------------------------------------------------------------- the notice starts


def start_notice(*, actor: Actor, project: Project, reason: str, content: dict | None = None) -> Notice:
    """Freeze the record as a new snapshot version and notice it. Runs inside the caller's transaction.
    `content`: what to freeze instead of the record's stage rows (a correction: the library's snapshot with the
    approved corrections applied, corrections/services.py)."""
    if project.status != Status.IN_NOTICE:
        # Called after the transition into the notice (approve, start_correction_notice), never on its own: a
        # record in the library (or anywhere else) gets no new public snapshot without one of them.
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能开始公示。")
    if content is None:
        content = snapshots.build_content(project)
    version = Snapshot.objects.filter(project=project).count() + 1
    snapshot = Snapshot.objects.create(project=project, version=version, content=content, reason=reason)
    now = timezone.now()
    notice = Notice.objects.create(
        snapshot=snapshot,
        project=project,
        starts_at=now,
        ends_at=notice_end(now),
        project_number=project.project_number,
        project_name=content["project"]["name"],
        enterprise_name=content["enterprise"]["name"],
        authority_id=project.authority_id,
        project_type=content["project"]["project_type"],
        document_numbers=snapshots.document_numbers(content),
    )
    audit.record(
        actor,
        "notice.start",
        notice,
        project=project,
        changes={
            "snapshot": [None, f"v{version} {snapshot.content_hash}"],
            "ends_at": [None, notice.ends_at.isoformat()],
        },
        message=f"公示至{notice.end_text}（北京时间）",
    )
    return notice


@receiver(project_approved, dispatch_uid="publicity.start_notice_on_approval")
def start_notice_on_approval(sender, project, actor, **kwargs):
    if project.is_design and not settings.DESIGN_PROJECTS_NOTICED:
        enter_without_notice(actor=actor, project=project)
        return
    start_notice(actor=actor, project=project, reason="审核通过")


def enter_without_notice(*, actor: Actor, project: Project) -> OutboxMessage:
    """An approved design record when design records are not noticed (settings.DESIGN_PROJECTS_NOTICED): frozen
    as a snapshot and sent to the library at once, through the same transitions as a notice that ended
    (docs/lifecycle.md, "Design records"). Runs inside the approval's transaction."""
    if project.status != Status.IN_NOTICE:
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能报送入库。")
    content = snapshots.build_content(project)
    version = Snapshot.objects.filter(project=project).count() + 1
    snapshot = Snapshot.objects.create(
        project=project, version=version, content=content, reason="审核通过（设计项目不公示）"
    )
    before = project.status
    project.close_notice()
    message = _outbox_for(project, snapshot)
    record_transition(actor, project, "notice.skip", before, message="设计项目按设置不公示，报送全国平台入库")
    transaction.on_commit(lambda: enqueue_deliveries([message.pk]))
    return message


def _outbox_for(project: Project, snapshot: Snapshot) -> OutboxMessage:
    """The delivery of `snapshot` to the national platform: a new record, or an update of the library's."""
    entry = LibraryEntry.objects.filter(project=project).first()
    return OutboxMessage.objects.create(
        project=project,
        snapshot=snapshot,
        kind=OutboxKind.UPDATE if entry else OutboxKind.CREATE,
        national_version=entry.national_version + 1 if entry else 1,
        idempotency_key=f"{project.project_number}-v{snapshot.version}",
        payload=national_payload(project, snapshot.content),
    )


# ---------------------------------------------------------------- objections from the public


def file_objection(
    *, notice_id: int, name: str, contact: str, reason: str, evidence=None, ip_address: str | None = None
) -> Objection:
    """Anyone may object while the notice is public. The first objection pauses the clock."""
    checked = files.check_upload(evidence) if evidence else None
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice_id)
        # A running notice whose end has passed is over, even before the sweep has closed it (beat may be late).
        if not notice.is_public or (notice.state == NoticeState.RUNNING and notice.ends_at <= timezone.now()):
            raise RecordLocked("该项目的公示已结束，不能再提出异议。")
        objection = Objection(
            notice=notice,
            name=name.strip(),
            contact=contact.strip(),
            reason=reason.strip(),
            ip_address=ip_address,
        )
        objection.full_clean(exclude=["evidence", "notice", "status"])  # status: a protected state machine
        stored = _objection_evidence(objection, evidence, checked) if evidence else None
        objection.save()
        if stored is not None:
            stored.objection = objection
            stored.save()
        project = lock_project(notice.project)
        public = Actor(user=AnonymousUser(), ip_address=ip_address)
        if notice.state == NoticeState.RUNNING and can_proceed(project.receive_objection):
            now = timezone.now()
            notice.pause()
            notice.paused_at = now
            notice.remaining_seconds = max(0, int((notice.ends_at - now).total_seconds()))
            notice.save(update_fields=["state", "paused_at", "remaining_seconds"])
            before = project.status
            project.receive_objection()
            record_transition(
                public,
                project,
                "objection.receive",
                before,
                message=f"收到公众异议（受理编号{objection.reference}），公示暂停计时",
            )
        else:
            audit.record(
                public,
                "objection.receive",
                objection,
                project=project,
                message=f"收到公众异议（受理编号{objection.reference}）",
            )
        notifications.notify_enterprise(
            project,
            f"项目“{project.name}”公示期间收到异议",
            f"您补录的项目“{project.name}”（{project.project_number}）在公示期间收到异议，"
            f"公示暂停计时，由{project.authority.name}核实处理。",
        )
    return objection


def _objection_evidence(objection, uploaded_file, checked) -> ObjectionEvidence:
    """The objector's file, stored (before any row is written: a rollback leaves an orphan file, never a row
    without its file) and named on the objection's own columns too, which nothing reads any more."""
    stored = ObjectionEvidence(objection=objection, uploaded_at=objection.submitted_at)
    stored.record_upload(uploaded_file, checked)
    if markup_problem(stored.original_name):
        # The public's file name is not refused for markup (nothing else about the file is), only not kept.
        stored.original_name = f"{objection.reference}.{checked.extension}"
    stored.full_clean(exclude=["file", "objection"])
    stored.file.save("evidence", uploaded_file, save=False)
    objection.evidence = stored.file.name
    objection.evidence_content_type = stored.content_type
    return stored


def _pending_objection(actor, objection_id):
    objection = Objection.objects.select_related("notice__project").get(pk=objection_id)
    ensure_reviewer_of(actor, objection.notice.project)
    # Locks in the order file_objection and the sweep take them, the notice before the project: the other order
    # deadlocks with a second objection filed while the first is being handled.
    Notice.objects.select_for_update().get(pk=objection.notice_id)
    project = lock_project(objection.notice.project)
    objection = Objection.objects.select_for_update().select_related("notice").get(pk=objection_id)
    if objection.status != ObjectionStatus.PENDING:
        raise RecordLocked(f"该异议已处理（{objection.get_status_display()}）。")
    return project, objection


def _close_objection(actor, objection, status, outcome):
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError("请填写处理意见（异议人凭受理编号可查看）。")
    {ObjectionStatus.DISMISSED: objection.dismiss, ObjectionStatus.UPHELD: objection.uphold}[status]()
    objection.outcome = outcome
    objection.handled_by = actor.user
    objection.handled_at = timezone.now()
    objection.full_clean(exclude=["evidence", "notice", "status"])  # status: a protected state machine
    objection.save(update_fields=["status", "outcome", "handled_by", "handled_at"])


def _refused_objection(kwargs):
    """The objection a refused decision was about, and its record (None, None for an id that does not exist)."""
    objection = Objection.objects.select_related("notice__project").filter(pk=kwargs["objection_id"]).first()
    return objection, objection.notice.project if objection else None


@audit.audits_refusals(
    "objection.dismiss", refusals=(PermissionDenied, RecordLocked), target=_refused_objection
)
@transaction.atomic
def dismiss_objection(*, actor: Actor, objection_id: int, outcome: str) -> Objection:
    """The objection is unfounded. When none is left pending, the notice resumes with the time it had left
    when it was paused (docs/lifecycle.md: resume, not restart)."""
    project, objection = _pending_objection(actor, objection_id)
    _close_objection(actor, objection, ObjectionStatus.DISMISSED, outcome)
    notice = Notice.objects.select_for_update().get(pk=objection.notice_id)
    still_pending = notice.objections.filter(status=ObjectionStatus.PENDING).exists()
    if not still_pending and notice.state == NoticeState.PAUSED:
        now = timezone.now()
        notice.resume()
        notice.ends_at = resumed_end(now, notice.remaining_seconds or 0)
        notice.paused_at = None
        notice.save(update_fields=["state", "ends_at", "paused_at"])
        before = project.status
        project.dismiss_objection()
        record_transition(
            actor,
            project,
            "objection.dismiss",
            before,
            message=f"异议{objection.reference}不成立，公示恢复计时至{notice.end_text}（北京时间）",
            changes={"ends_at": [None, notice.ends_at.isoformat()]},
        )
    else:
        audit.record(
            actor,
            "objection.dismiss",
            objection,
            project=project,
            message=f"异议{objection.reference}不成立（仍有其他异议待处理）",
        )
    return objection


@audit.audits_refusals(
    "objection.uphold", refusals=(PermissionDenied, RecordLocked), target=_refused_objection
)
@transaction.atomic
def uphold_objection(*, actor: Actor, objection_id: int, outcome: str) -> Objection:
    """The objection stands: the notice ends, the record goes back to the enterprise with the objection
    attached as a comment (the objector's contact stays private)."""
    project, objection = _pending_objection(actor, objection_id)
    _close_objection(actor, objection, ObjectionStatus.UPHELD, outcome)
    notice = Notice.objects.select_for_update().get(pk=objection.notice_id)
    notice.cancel()
    notice.closed_at = timezone.now()
    notice.save(update_fields=["state", "closed_at"])
    # The other pending objections on this notice are answered by the same outcome, each through its own
    # transition (a protected state machine: no bulk update may move a status).
    for other in notice.objections.select_for_update().filter(status=ObjectionStatus.PENDING):
        _close_objection(actor, other, ObjectionStatus.UPHELD, objection.outcome)
    if not can_proceed(project.uphold_objection):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能处理异议。")
    before = project.status
    project.uphold_objection()
    ReviewComment.objects.create(
        project=project,
        author=actor.user,
        author_organisation=actor.organisation_name,
        text=f"公众异议成立（受理编号{objection.reference}）。异议内容：{objection.reason}\n处理意见：{objection.outcome}",
    )
    record_transition(
        actor,
        project,
        "objection.uphold",
        before,
        message=f"异议{objection.reference}成立，公示终止，退回企业修改",
    )
    notifications.notify_enterprise(
        project,
        f"项目“{project.name}”公示异议成立，退回修改",
        f"您补录的项目“{project.name}”（{project.project_number}）公示期间的异议经{actor.organisation_name}核实成立，"
        f"项目已退回。异议内容：{objection.reason}\n处理意见：{objection.outcome}",
    )
    return objection


# ---------------------------------------------------------------- the sweep: expired notices close


def close_expired_notices(*, now=None, batch: int = 200) -> int:
    """Close every running notice whose time is up: the record moves to `entering` and an outbox row is
    written in the same transaction. Idempotent, and safe with several workers (SKIP LOCKED)."""
    now = now or timezone.now()
    message_ids = []
    with transaction.atomic():
        due = list(
            Notice.objects.select_for_update(skip_locked=True)
            .filter(state=NoticeState.RUNNING, ends_at__lte=now)
            .order_by("ends_at", "id")[:batch]
        )
        for notice in due:
            project = lock_project(notice.project)
            notice.close()
            notice.closed_at = now
            notice.save(update_fields=["state", "closed_at"])
            if not can_proceed(project.close_notice):
                log.warning("notice %s expired but project %s is %s", notice.pk, project.pk, project.status)
                continue
            before = project.status
            project.close_notice()
            message = _outbox_for(project, notice.snapshot)
            record_transition(
                SYSTEM, project, "notice.close", before, message="公示期满无异议，报送全国平台入库"
            )
            message_ids.append(message.pk)
        if message_ids:
            transaction.on_commit(lambda: enqueue_deliveries(message_ids))
    return len(due)


def stage_record_numbers(project: Project, content: dict) -> dict[str, str]:
    """The record's stage record numbers PrjNum-XX-nnn: issued the first time a stage is delivered, then kept
    (a correction keeps them, also when it changes the tender's or contract's type). Inside the caller's
    transaction, with the project locked."""
    numbers = dict(StageRecordNumber.objects.filter(project=project).values_list("stage", "number"))
    for code in national_standard.TABLE_OF_STAGE:
        stage = content["stages"].get(code)
        if stage is None or code in numbers:
            continue
        prefix = f"{content['project_number']}-{national_standard.record_number_prefix(code, stage)}-"
        serial = StageRecordNumber.objects.filter(number__startswith=prefix).count() + 1
        numbers[code] = StageRecordNumber.objects.create(
            project=project, stage=code, number=f"{prefix}{serial:03d}"
        ).number
    return numbers


def national_payload(project: Project, content: dict) -> dict:
    """What the national platform receives for this snapshot: the standard's tables."""
    return national_standard.tables(
        content,
        numbers=stage_record_numbers(project, content),
        level=national_standard.data_level(project.authority.kind),
    )


def enqueue_deliveries(message_ids):
    """Hand the messages to the worker, OUTBOX_DELIVERY_BATCH to a task (each delivered on its own:
    publicity.tasks.deliver_outbox_batch); after the commit, so never fatal: with the broker down (or slow: its
    publish is bounded by CELERY_BROKER_CONNECTION_TIMEOUT and CELERY_TASK_PUBLISH_RETRY_POLICY) the error is logged
    and the rest is left to the beat sweep (deliver_due_outbox), which finds every pending message once the broker is
    back (docs/architecture.md, "When the cache or the broker is down")."""
    from .tasks import deliver_outbox_batch

    message_ids = list(message_ids)
    size = max(1, settings.OUTBOX_DELIVERY_BATCH)
    for start in range(0, len(message_ids), size):
        try:
            deliver_outbox_batch.delay(message_ids[start : start + size])
        except Exception as error:  # noqa: BLE001 - whatever the broker raises, the messages are safe in the outbox
            log.warning(
                "broker unavailable (%s: %s): %s outbox message(s) left to the sweep",
                type(error).__name__,
                error,
                len(message_ids) - start,
            )
            return


# ---------------------------------------------------------------- delivery to the national platform


def backoff_seconds(attempts: int) -> float:
    """Exponential with full jitter: a burst of failures does not come back as a burst of retries."""
    ceiling = min(
        settings.OUTBOX_BACKOFF_MAX_SECONDS, settings.OUTBOX_BACKOFF_BASE_SECONDS * 2 ** (attempts - 1)
    )
    return random.uniform(ceiling / 2, ceiling)


def _lease(message_id, now):
    """Take the message for one attempt; None if another worker has it or it needs nothing. One statement, its own
    transaction: the row is taken only if no one holds it (SKIP LOCKED where the database has it: another worker's
    lease or delivery in progress is not waited for) and only if it is pending, not leased and due. Not due yet,
    whoever triggered it (a redelivered or duplicated task, the sweep, a retry): an attempt before its
    `next_attempt_at` would spend the backoff that protects the platform."""
    connection = transaction.get_connection()
    ops = connection.ops
    table = ops.quote_name(OutboxMessage._meta.db_table)
    projects = ops.quote_name(Project._meta.db_table)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    at = ops.adapt_datetimefield_value(now)
    until = ops.adapt_datetimefield_value(now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS))
    message = next(
        iter(
            OutboxMessage.objects.raw(
                f"UPDATE {table} SET attempts = attempts + 1, leased_until = %s "
                f"WHERE id = (SELECT id FROM {table} WHERE id = %s AND state = %s AND next_attempt_at <= %s "
                f"AND (leased_until IS NULL OR leased_until <= %s){skip_locked}) "
                f"RETURNING *, (SELECT project_number FROM {projects} WHERE id = project_id) AS project_number",
                [until, message_id, OutboxState.PENDING.value, at, at],
            )
        ),
        None,
    )
    if message is not None and not message.payload:  # written before the national standard was the format
        with transaction.atomic():
            project = lock_project(Project(pk=message.project_id))
            message.payload = national_payload(project, Snapshot.objects.get(pk=message.snapshot_id).content)
            message.save(update_fields=["payload"])
    return message


def deliver(message_id: int, *, now=None) -> str:
    """One delivery attempt. Returns "delivered", "retry", "failed" or "skipped". The HTTP call runs outside
    any transaction and is safe to repeat: the idempotency key makes a second call a replay."""
    now = now or timezone.now()
    message = _lease(message_id, now)
    if message is None:
        return "skipped"
    national_id = ""
    if message.kind == OutboxKind.UPDATE:
        national_id = LibraryEntry.objects.get(project_id=message.project_id).national_id
    answer = national.send(
        kind=message.kind,
        project_number=message.project_number,
        version=message.national_version,
        payload=message.payload,
        data_level=message.payload["TBProjectInfo"][0]["DataLevel"],
        idempotency_key=message.idempotency_key,
        national_id=national_id,
    )
    if answer.ok:
        mark_delivered(message.pk, answer.body.get("national_id") or national_id)
        return "delivered"
    if answer.status_code == 422 and answer.body.get("error") == "validation_failed":
        return mark_refused(message.pk, answer.body.get("problems") or [])
    error = answer.error or f"HTTP {answer.status_code}: {answer.body}"
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if message.state != OutboxState.PENDING:
            return "skipped"
        message.last_error = error[:2000]
        message.last_status_code = answer.status_code
        message.leased_until = None
        retry_at = timezone.now() + datetime.timedelta(seconds=backoff_seconds(message.attempts))
        if answer.retryable and retry_at <= message.retrying_since + datetime.timedelta(
            seconds=settings.OUTBOX_RETRY_FOR_SECONDS
        ):
            message.next_attempt_at = retry_at
            message.save(update_fields=["last_error", "last_status_code", "leased_until", "next_attempt_at"])
            return "retry"
        message.fail()
        message.save(update_fields=["last_error", "last_status_code", "leased_until", "state"])
        audit.record(
            SYSTEM,
            "national.failed",
            message,
            project=message.project,
            message=f"报送全国平台失败（第{message.attempts}次）：{error}"[:500],
        )
        raise_delivery_alarm(message, error)
        return "failed"


def raise_delivery_alarm(message: OutboxMessage, error: str):
    """A message given up on: an ERROR log line with the platform's answer, and an e-mail to operations after the
    commit. The console shows the failed messages of the user's scope as a banner (failed_deliveries)."""
    project = message.project
    log.error(
        "national delivery given up: outbox %s, project %s, %s attempts since %s; last answer: %s",
        message.pk,
        project.project_number,
        message.attempts,
        message.created_at.isoformat(),
        error,
    )
    subject = f"[建设工程项目信息补录] 报送全国平台失败：{project.project_number} {project.name}"
    body = (
        f"项目{project.project_number}（{project.name}）报送全国平台失败，已停止重试。\n"
        f"尝试次数：{message.attempts}；首次排队：{timezone.localtime(message.created_at):%Y-%m-%d %H:%M}。\n"
        f"全国平台最后的答复：{error}\n请排查后在审核管理中“重新报送”。"
    )
    transaction.on_commit(
        lambda: send_mail(
            subject, body, settings.DEFAULT_FROM_EMAIL, [settings.OPERATIONS_EMAIL], fail_silently=True
        )
    )


def failed_deliveries(user):
    """The failed deliveries of the records this user may see in the console (district: its own; city: all)."""
    return permissions.scoped_to_console(user, OutboxMessage.objects.filter(state=OutboxState.FAILED))


@transaction.atomic
def mark_delivered(message_id: int, national_id: str):
    """The platform stored the record: the message delivered, the record in the library here, its transition
    audited and the enterprise told, in one transaction (the public pages' cache is told after the commit, by
    page_cache's receiver of the entry's save). The message and its project are locked and read in one query."""
    message = (
        OutboxMessage.objects.select_for_update(of=("self", "project"))
        .select_related("snapshot", "project")
        .get(pk=message_id)
    )
    if message.state == OutboxState.DELIVERED:
        return
    project = message.project
    message.deliver()
    message.national_id = national_id
    message.delivered_at = timezone.now()
    message.leased_until = None
    message.save(update_fields=["state", "national_id", "delivered_at", "leased_until"])
    content = message.snapshot.content
    # The entry read under its lock, then saved (an INSERT or an UPDATE), as update_or_create does without its
    # two savepoints: no other transaction can insert this project's entry, it holds the project's lock.
    entry = LibraryEntry.objects.select_for_update().filter(project=project).first() or LibraryEntry(
        project=project
    )
    for name, value in {
        "national_id": national_id,
        "national_version": message.national_version,
        "snapshot": message.snapshot,
        "project_number": project.project_number,
        "project_name": content["project"]["name"],
        "enterprise_name": content["enterprise"]["name"],
        "enterprise_credit_code": content["enterprise"]["credit_code"],
        "authority_id": project.authority_id,
        "project_type": content["project"]["project_type"],
        "document_numbers": snapshots.document_numbers(content),
        **({"updated_at": message.delivered_at} if message.kind == OutboxKind.UPDATE else {}),
    }.items():
        setattr(entry, name, value)
    entry.save()
    # Every delivery, not only a new name: an entry whose name was missed (written by a worker of the code before
    # the names table, while its migration ran) is noted again by its next delivery.
    note_enterprise_name(entry.enterprise_name)
    before = project.status
    if can_proceed(project.enter_national_library):
        project.enter_national_library()
    record_transition(
        SYSTEM,
        project,
        "national.entered",
        before,
        message=f"已进入全国平台项目库（编号{national_id}，快照v{message.snapshot.version}）",
        changes={"national_id": [None, national_id]},
        fields=["status", "updated_at"],
    )
    notifications.notify_enterprise(
        project,
        f"项目“{project.name}”已进入全国平台项目库",
        f"您补录的项目“{project.name}”（{project.project_number}）公示期满无异议，已进入全国建筑市场监管公共服务平台"
        f"项目库（编号{national_id}），信息将永久公开，不能擅自修改；如有错误请提交更正申请。",
    )


def note_enterprise_name(name: str):
    """The library's names (LibraryEnterpriseName) hold `name`, which an entry now bears: written with the entry,
    in its transaction, so a search never misses an entry by a name not yet noted. An INSERT that does nothing when
    the name is there (ON CONFLICT DO NOTHING; SQLite's INSERT OR IGNORE)."""
    LibraryEnterpriseName.objects.bulk_create([LibraryEnterpriseName(name=name)], ignore_conflicts=True)


def note_missing_enterprise_names() -> int:
    """The names of entries that LibraryEnterpriseName lacks, noted: the daily read-back's first step, so that a
    name missed however (an entry written beside the table's migration, a row written by hand) is searchable again
    within a day. One anti-join; returns how many names were missing."""
    noted = LibraryEnterpriseName.objects.filter(name=OuterRef("enterprise_name"))
    missing = list(
        LibraryEntry.objects.filter(~Exists(noted))
        .order_by()
        .values_list("enterprise_name", flat=True)
        .distinct()
    )
    LibraryEnterpriseName.objects.bulk_create(
        [LibraryEnterpriseName(name=name) for name in missing], ignore_conflicts=True
    )
    if missing:
        log.warning("library names: %d enterprise names were missing and are noted now", len(missing))
    return len(missing)


def refusal_problems(problems) -> list[dict]:
    """The platform's problems, each with the portal's stage and field behind its national column."""
    refusal = []
    for problem in problems if isinstance(problems, list) else []:
        if not isinstance(problem, dict):
            continue
        table, column = str(problem.get("table", "")), str(problem.get("field", ""))
        stage, field = national_standard.source_of(table, column)
        refusal.append(
            {
                "table": table[:50],
                "field": column[:50],
                "message": str(problem.get("message", ""))[:500],
                "stage": stage,
                "stage_field": field,
            }
        )
    return refusal


@transaction.atomic
def mark_refused(message_id: int, problems) -> str:
    """A definite refusal (docs/lifecycle.md, "Refused by the national platform"): no more retries; a new
    record goes back to its district with the platform's reasons, a refused correction leaves the version the
    platform holds in place. Either way the district and the enterprise are told why."""
    message = OutboxMessage.objects.select_for_update().select_related("project").get(pk=message_id)
    if message.state != OutboxState.PENDING:
        return "skipped"
    project = lock_project(message.project)
    refusal = refusal_problems(problems)
    message.refuse()
    message.refusal = refusal
    message.last_status_code = 422
    message.last_error = "；".join(f"{p['table']}.{p['field']}：{p['message']}" for p in refusal)[:2000]
    message.leased_until = None
    message.save(update_fields=["state", "refusal", "last_status_code", "last_error", "leased_until"])
    reasons = message.last_error[:300]
    before = project.status
    if message.kind == OutboxKind.UPDATE:
        project.refuse_correction_by_national_platform()
        outcome = "更正后的版本未入库，全国平台保留原版本"
    else:
        project.refuse_by_national_platform()
        outcome = "退回审核部门"
    record_transition(
        SYSTEM,
        project,
        "national.refused",
        before,
        message=f"全国平台退回（{outcome}）：{reasons}"[:500],
        changes={"refusal": [None, refusal]},
    )
    title = f"项目“{project.name}”被全国平台退回"
    body = f"项目“{project.name}”（{project.project_number}）报送全国平台时被退回，{outcome}。平台意见：{reasons}"
    reviewers = [m.user for m in permissions.authority_reviewers(project.authority_id).select_related("user")]
    notifications.notify(reviewers, project=project, title=title, body=body)
    notifications.notify_enterprise(project, title, body)
    return "refused"


def due_messages(now=None):
    """Pending messages whose time has come and which no worker holds, the longest waiting first."""
    now = now or timezone.now()
    return (
        OutboxMessage.objects.filter(state=OutboxState.PENDING, next_attempt_at__lte=now)
        .exclude(leased_until__gt=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def retry_failed_delivery(*, actor: Actor, message_id: int) -> OutboxMessage:
    """The console's retry button: a failed delivery goes back to pending, attempts start again."""
    message = OutboxMessage.objects.select_for_update().select_related("project").get(pk=message_id)
    permissions.ensure_may_retry_delivery(actor.user, message.project)
    if message.state != OutboxState.FAILED:
        raise RecordLocked("只有报送失败的记录可以重新报送。")
    message.retry()
    message.attempts = 0
    message.next_attempt_at = message.retrying_since = timezone.now()
    message.save(update_fields=["state", "attempts", "next_attempt_at", "retrying_since"])
    audit.record(actor, "national.retry", message, project=message.project, message="人工重新报送")
    transaction.on_commit(lambda: enqueue_deliveries([message.pk]))
    return message


# ---------------------------------------------------------------- read-back reconciliation (报送核对)


def differences(sent: dict, found: dict) -> list[dict]:
    """Field by field, table by table: what the platform holds that differs from what was sent."""
    found_list = []
    for table in sorted(set(sent) | set(found)):
        sent_rows, found_rows = sent.get(table), found.get(table)
        if not (isinstance(sent_rows, list) and isinstance(found_rows, list)) or len(sent_rows) != len(
            found_rows
        ):
            found_list.append(
                {"table": table, "row": None, "field": "", "sent": sent_rows, "found": found_rows}
            )
            continue
        for index, (ours, theirs) in enumerate(zip(sent_rows, found_rows, strict=True)):
            if not (isinstance(ours, dict) and isinstance(theirs, dict)):
                if ours != theirs:
                    found_list.append(
                        {"table": table, "row": index, "field": "", "sent": ours, "found": theirs}
                    )
                continue
            for name in sorted(set(ours) | set(theirs)):
                if ours.get(name) != theirs.get(name):
                    found_list.append(
                        {
                            "table": table,
                            "row": index,
                            "field": name,
                            "sent": ours.get(name),
                            "found": theirs.get(name),
                        }
                    )
    return found_list


def reconcile_entry(entry: LibraryEntry, *, now=None) -> str:
    """Read one delivered record back and compare it with what was sent. Returns "ok", "missing", "altered" or
    "unreachable" (no answer: nothing is concluded, the next run tries again)."""
    now = now or timezone.now()
    message = (
        OutboxMessage.objects.filter(project_id=entry.project_id, state=OutboxState.DELIVERED)
        .select_related("snapshot")
        .order_by("-national_version", "-id")
        .first()
    )
    answer = national.read(entry.national_id)
    if answer.status_code == 404:
        kind, found = DiscrepancyKind.MISSING, []
    elif answer.ok and message is not None:
        sent = message.sent_payload
        found = differences(sent, answer.body.get("payload") or {})
        if answer.body.get("current_version") != entry.national_version:
            found.insert(
                0,
                {
                    "table": "",
                    "row": None,
                    "field": "current_version",
                    "sent": entry.national_version,
                    "found": answer.body.get("current_version"),
                },
            )
        kind = DiscrepancyKind.ALTERED if found else None
    else:
        return "unreachable"
    with transaction.atomic():
        open_flag = (
            ReconciliationDiscrepancy.objects.select_for_update()
            .filter(entry=entry, resolved_at__isnull=True)
            .first()
        )
        if kind is None:
            if open_flag:
                open_flag.resolved_at = now
                open_flag.checked_at = now
                open_flag.save(update_fields=["resolved_at", "checked_at"])
            return "ok"
        if open_flag and open_flag.kind == kind and open_flag.differences == found:
            open_flag.checked_at = now
            open_flag.save(update_fields=["checked_at"])
            return kind
        if open_flag:
            open_flag.resolved_at = now
            open_flag.save(update_fields=["resolved_at"])
        flag = ReconciliationDiscrepancy.objects.create(
            entry=entry,
            project_id=entry.project_id,
            authority_id=entry.authority_id,
            kind=kind,
            differences=found,
            found_at=now,
            checked_at=now,
        )
        audit.record(
            SYSTEM,
            "national.discrepancy",
            flag,
            project=entry.project,
            changes={"differences": [None, found[:20]]},
            message=f"报送核对：{flag.get_kind_display()}（{entry.national_id}）",
        )
    return kind


def reconcile_national_library(*, now=None) -> dict:
    """The daily read-back: every record in the national library, read from the platform and compared."""
    counts = {"ok": 0, "missing": 0, "altered": 0, "unreachable": 0}
    note_missing_enterprise_names()
    for entry in LibraryEntry.objects.select_related("project").order_by("id").iterator(chunk_size=200):
        counts[reconcile_entry(entry, now=now)] += 1
    return counts

"""Corrections (更正) of records in the national library: the services (writes). Reads are in selectors.py, who may
act in projects/permissions.py, the values and the rule check in values.py and rule_check.py.

A record that entered the national library is changed only through this process (docs/corrections.md):

    enterprise files a request ──▶ district opinion ──accept──▶ city approval service center ──approve──▶
        new snapshot version (the library's snapshot with the items applied) + start_correction_notice
        (in_national_library → in_notice) + a 10-day notice of the corrected version
        ──notice ends (publicity's sweep)──▶ entering ──outbox UPDATE──▶ in_national_library, entry at the new version

The snapshot versions are the record of truth once a record has entered: the stage rows keep what the district
approved (they are locked by model guards and PostgreSQL triggers outside draft/returned), and every correction
builds on the library's current snapshot, never on the rows.

Authorities may also order a correction (责令更正, `issue_correction_order`); the enterprise answers with a request
naming the order, and orders left unanswered after their due date are listed (`overdue_orders`).

Every service takes `actor: Actor`, runs in one transaction, audits the change; a refusal of who may act or of the
record's state (PermissionDenied, RecordLocked) rolls everything back and is audited as `<action>.refused`. Input
errors (a field that cannot be corrected, a value the stage form would refuse) raise ValidationError with Chinese
messages, change nothing and are not audited, like the rule engine's findings on the enterprise's forms.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from projects import audit, files, notifications, permissions
from projects.audit import Actor, audits_refusals
from projects.models import Project, Status
from projects.services import RecordLocked, lock_project, record_transition
from projects.validators import validate_plain_text
from publicity import services as publicity_services
from publicity.models import LibraryEntry

from .models import (
    OPEN_CORRECTION_STATUSES,
    CorrectionEvidence,
    CorrectionItem,
    CorrectionOrder,
    CorrectionRequest,
    CorrectionStatus,
)
from .notifications import approval_center_users, items_text, reviewers_of, tell_decision
from .rule_check import clean_items
from .values import MAX_EVIDENCE_FILES, apply_changes, value_text

# A refusal of who may act or of the state rolls the change back, then is recorded in its own transaction (who
# tried what, on which record, with the message they saw); input errors (ValidationError) are not refusals.
REFUSALS = (PermissionDenied, RecordLocked)


def _refusal_target(kwargs):
    if kwargs.get("project") is not None:
        return kwargs["project"], kwargs["project"]
    request = CorrectionRequest.objects.select_related("project").filter(pk=kwargs.get("request_id")).first()
    return (request, request.project) if request else (None, None)


# ---------------------------------------------------------------- the enterprise files a request


class RequestAlreadyOpen(RecordLocked):
    """The record has a request still being handled: a second one would correct a version about to be replaced."""

    def __init__(self, open_request: CorrectionRequest):
        self.open_request = open_request
        super().__init__(
            f"该项目已有正在办理的更正申请（编号{open_request.reference}，{open_request.get_status_display()}），"
            "办结后才能再次申请。"
        )


def library_entry_to_correct(project: Project) -> LibraryEntry:
    """The library entry a new request would correct (with its snapshot). Refused (RecordLocked) while the record is
    not in the national library, and (RequestAlreadyOpen) while one of its requests is open. The request form asks
    before it shows itself; file_correction_request asks again under the record's lock."""
    entry = LibraryEntry.objects.select_related("snapshot").filter(project=project).first()
    if project.status != Status.IN_NATIONAL_LIBRARY or entry is None:
        raise RecordLocked(
            f"该项目当前状态为“{project.get_status_display()}”，不是已入全国平台项目库的记录，不能申请更正。"
            + (
                "未入库的记录在退回修改时直接修改即可。"
                if entry is None
                else "请待本次公示和入库完成后再申请。"
            )
        )
    open_request = CorrectionRequest.objects.filter(
        project=project, status__in=OPEN_CORRECTION_STATUSES
    ).first()
    if open_request is not None:
        raise RequestAlreadyOpen(open_request)
    return entry


@audits_refusals("correction.file", target=_refusal_target, refusals=REFUSALS)
def file_correction_request(
    *, actor: Actor, project: Project, statement: str, items, evidence_files, order=None
) -> CorrectionRequest:
    """The enterprise's written application on its record in the national library: what is wrong (each field,
    its proposed value, why) and evidence. All or nothing: any problem refuses the whole request.

    `items`: [{"stage": "permit" | "" (the project's own fields), "field": ..., "proposed_value": ..., "reason": ...}].
    `evidence_files`: uploaded files (PDF, JPEG or PNG by content, each within EVIDENCE_MAX_BYTES).
    `order`: the CorrectionOrder this request answers, if any (of the same record)."""
    permissions.ensure_owner(actor.user, project)
    evidence_files = list(evidence_files or [])
    with transaction.atomic():
        project = lock_project(project)
        permissions.ensure_owner(actor.user, project)
        entry = library_entry_to_correct(project)
        statement = (statement or "").strip()
        cleaned, checked_files = _checked_filing(project, entry, statement, items, evidence_files, order)
        request = _save_request(actor, project, entry, statement, order, cleaned)
        stored = _store_evidence(actor, request, evidence_files, checked_files)
        _audit_filing(actor, request, entry, cleaned, stored)
        notifications.notify(
            reviewers_of(project),
            project=project,
            title=f"收到更正申请：{project.name}",
            body=f"{project.enterprise.name}对已入库项目“{project.name}”（{project.project_number}）提交了更正申请"
            f"（编号{request.reference}），请核查并出具更正意见：\n{items_text(request)}",
        )
        return request


def _checked_filing(project, entry, statement, items, evidence_files, order):
    """Every input problem at once (ValidationError), before anything is written; else the cleaned items and the
    checked uploads."""
    problems = []
    if not statement:
        problems.append("请填写更正申请说明。")
    if order is not None and order.project_id != project.pk:
        problems.append("所答复的更正通知不是针对该项目的。")
    if not evidence_files:
        problems.append("请上传至少一份证明材料（PDF、JPEG或PNG）。")
    elif len(evidence_files) > MAX_EVIDENCE_FILES:
        problems.append(f"证明材料最多{MAX_EVIDENCE_FILES}份。")
    checked_files = []
    for uploaded in evidence_files[:MAX_EVIDENCE_FILES]:
        try:
            checked_files.append(files.check_upload(uploaded))
        except ValidationError as invalid:
            problems.extend(f"证明材料：{message}" for message in invalid.messages)
    cleaned = []
    try:
        cleaned = clean_items(project, entry.snapshot.content, items)
    except ValidationError as invalid:
        problems.extend(invalid.messages)
    if problems:
        raise ValidationError(problems)
    return cleaned, checked_files


def _save_request(actor, project, entry, statement, order, cleaned) -> CorrectionRequest:
    request = CorrectionRequest(
        project=project,
        base_snapshot=entry.snapshot,
        order=order,
        statement=statement,
        filed_by=actor.user,
    )
    request.full_clean()
    request.save()
    for item in cleaned:
        row = CorrectionItem(
            request=request,
            stage=item.stage,
            field_name=item.field,
            current_value=value_text(item.model_field, item.current),
            proposed_value=value_text(item.model_field, item.proposed),
            reason=item.reason,
        )
        row.full_clean()
        row.save()
    return request


def _store_evidence(actor, request, evidence_files, checked_files) -> list[dict]:
    """The files and their rows; what the audit event says of each."""
    stored = []
    for uploaded, checked in zip(evidence_files, checked_files, strict=True):
        evidence = CorrectionEvidence(request=request, uploaded_by=actor.user)
        evidence.record_upload(uploaded, checked)
        evidence.full_clean(exclude=["file"])
        # Stored before the row: a rollback leaves an orphan file, never a row without its file.
        evidence.file.save("evidence", uploaded, save=False)
        evidence.save()
        stored.append({"name": evidence.original_name, "sha256": evidence.sha256, "size": evidence.size})
    return stored


def _audit_filing(actor, request, entry, cleaned, stored):
    order = request.order
    audit.record(
        actor,
        "correction.file",
        request,
        project=request.project,
        changes={
            "status": [None, request.status],
            "base_snapshot": [None, f"v{entry.snapshot.version}"],
            "items": [None, _changed_items(cleaned)],
            "evidence": [None, stored],
            **({"order": [None, order.pk]} if order is not None else {}),
        },
        message=f"提交更正申请{request.reference}（{len(cleaned)}项）",
    )


def _changed_items(cleaned) -> list[dict]:
    return [{"stage": c.stage, "field": c.field, "from": c.current, "to": c.proposed} for c in cleaned]


# ---------------------------------------------------------------- the enterprise withdraws


@audits_refusals("correction.withdraw", target=_refusal_target, refusals=REFUSALS)
@transaction.atomic
def withdraw_correction_request(*, actor: Actor, request_id: int, reason: str = "") -> CorrectionRequest:
    """The enterprise takes its request back while it is still open (before the district declines it or the city
    decides). The record stays as it is in the library; an order the request answered counts as unanswered again."""
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    permissions.ensure_owner(actor.user, request.project)
    project = lock_project(request.project)
    permissions.ensure_owner(actor.user, project)
    request = _locked_request(request_id)
    if not can_proceed(request.withdraw):
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，已办结，不能撤回（可能已有其他人处理）。"
        )
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError("撤回原因不能超过500字。")
    validate_plain_text(reason)
    before = request.status
    request.withdraw()
    request.save(update_fields=["status"])
    audit.record(
        actor,
        "correction.withdraw",
        request,
        project=project,
        changes={"status": [before, request.status]},
        message=f"撤回更正申请{request.reference}" + (f"：{reason}" if reason else ""),
    )
    recipients = reviewers_of(project)
    if before == CorrectionStatus.AT_CITY:
        recipients += approval_center_users()
    notifications.notify(
        recipients,
        project=project,
        title=f"更正申请已撤回：{project.name}",
        body=f"{project.enterprise.name}撤回了项目“{project.name}”（{project.project_number}）的更正申请"
        f"（编号{request.reference}），无需再办理。" + (f"\n撤回原因：{reason}" if reason else ""),
    )
    return request


# ---------------------------------------------------------------- the district's opinion


def _locked_request(request_id) -> CorrectionRequest:
    return CorrectionRequest.objects.select_for_update().get(pk=request_id)


@audits_refusals("correction.opinion", target=_refusal_target, refusals=REFUSALS)
@transaction.atomic
def give_district_opinion(*, actor: Actor, request_id: int, accepts: bool, opinion: str) -> CorrectionRequest:
    """The district authority verifies the request and writes its correction opinion (更正意见), with reasons:
    accepted, it goes to the city approval service center; declined, the request ends there."""
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    permissions.ensure_district_of(actor.user, request.project)
    project = lock_project(request.project)
    permissions.ensure_district_of(actor.user, project)
    request = _locked_request(request_id)
    # Accepting and declining both start from `filed`: one question answers for either.
    if not can_proceed(request.accept_at_district):
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，不能再出具区县意见（可能已有其他人处理）。"
        )
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError("请填写更正意见，写明同意或不同意更正的理由。")
    before = request.status
    if accepts:
        request.accept_at_district(by=actor.user, opinion=opinion)
    else:
        request.decline_at_district(by=actor.user, opinion=opinion)
    request.full_clean()
    request.save(
        update_fields=["status", "district_accepts", "district_opinion", "district_by", "district_at"]
    )
    verdict = "同意更正，报市审批服务中心审定" if accepts else "不同意更正"
    audit.record(
        actor,
        "correction.opinion",
        request,
        project=project,
        changes={"status": [before, request.status], "district_accepts": [None, bool(accepts)]},
        message=f"更正申请{request.reference}：{verdict}。{opinion}"[:500],
    )
    notifications.notify_enterprise(
        project,
        f"更正申请{request.reference}：区县{verdict}",
        f"您对项目“{project.name}”（{project.project_number}）的更正申请（编号{request.reference}）经"
        f"{actor.organisation_name}核查，{verdict}。\n更正意见：{opinion}",
    )
    if accepts:
        notifications.notify(
            approval_center_users(),
            project=project,
            title=f"待审定的更正申请：{project.name}",
            body=f"{actor.organisation_name}同意项目“{project.name}”（{project.project_number}）的更正申请"
            f"（编号{request.reference}），请审定：\n{items_text(request)}\n区县更正意见：{opinion}",
        )
    return request


# ---------------------------------------------------------------- the city decides


@audits_refusals("correction.decide", target=_refusal_target, refusals=REFUSALS)
@transaction.atomic
def decide_at_city(*, actor: Actor, request_id: int, approves: bool, opinion: str) -> CorrectionRequest:
    """The city approval service center decides a request the district accepted: approves it
    (_approve_at_city: the corrected version in a 10-day notice) or declines it (_decline_at_city: final)."""
    permissions.ensure_approval_center(actor.user)
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    project = lock_project(request.project)
    request = _locked_request(request_id)
    # Approving and declining both start from `at_city`: one question answers for either.
    if not can_proceed(request.approve_at_city):
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，不能审定（可能已有其他人处理）。"
        )
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError("请填写审定意见。")
    if approves:
        return _approve_at_city(actor, project, request, opinion)
    return _decline_at_city(actor, project, request, opinion)


def _decline_at_city(actor, project, request, opinion) -> CorrectionRequest:
    before = request.status
    request.decline_at_city(by=actor.user, opinion=opinion)
    request.full_clean()
    request.save(update_fields=["status", "city_approves", "city_opinion", "city_by", "city_at"])
    audit.record(
        actor,
        "correction.decline",
        request,
        project=project,
        changes={"status": [before, request.status]},
        message=f"更正申请{request.reference}不予更正：{opinion}"[:500],
    )
    tell_decision(actor, project, request, "不予更正", opinion)
    return request


def _approve_at_city(actor, project, request, opinion) -> CorrectionRequest:
    """In one transaction: a new snapshot version (the library's snapshot with the items applied, hashed and
    immutable), the record back to `in_notice` (start_correction_notice) and a 10-day notice of that version. When
    the notice ends with no objection standing, publicity's sweep delivers it as an update of the same national
    record."""
    if not can_proceed(project.start_correction_notice):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能开始更正公示。")
    entry, cleaned, content = _corrected_content(project, request)
    before, status_before = request.status, project.status
    project.start_correction_notice()
    notice = publicity_services.start_notice(
        actor=actor,
        project=project,
        reason=f"更正申请{request.reference}经市审批服务中心批准",
        content=content,
    )
    request.approve_at_city(by=actor.user, opinion=opinion, result_snapshot=notice.snapshot)
    request.full_clean()
    request.save(
        update_fields=["status", "city_approves", "city_opinion", "city_by", "city_at", "result_snapshot"]
    )
    record_transition(
        actor,
        project,
        "correction.approve",
        status_before,
        message=f"批准更正申请{request.reference}，更正后的第{notice.snapshot.version}版公示"
        f"至{timezone.localtime(notice.ends_at):%Y-%m-%d %H:%M}",
        changes={
            "correction_request": [before, f"{request.reference} {request.status}"],
            "snapshot": [
                f"v{entry.snapshot.version}",
                f"v{notice.snapshot.version} {notice.snapshot.content_hash}",
            ],
            "items": [None, _changed_items(cleaned)],
        },
    )
    tell_decision(
        actor,
        project,
        request,
        "批准更正",
        opinion
        + f"\n更正后的信息（第{notice.snapshot.version}版）将公示{settings.NOTICE_DAYS}日，公示期满无异议的"
        "报送全国平台更新原记录。",
    )
    return request


def _corrected_content(project, request):
    """The library entry, the request's items checked again on its current snapshot, and that snapshot's content
    with the items applied. Refused when the library moved on since the request was filed (RecordLocked) or when
    the items no longer pass the checks (ValidationError: the city declines, the enterprise reapplies)."""
    entry = LibraryEntry.objects.select_related("snapshot").get(project=project)
    if entry.snapshot_id != request.base_snapshot_id:
        raise RecordLocked(
            f"该项目在全国平台的记录已更新为第{entry.snapshot.version}版，本申请依据的版本已不是当前版本，"
            "不能批准；请企业依据当前版本重新申请。"
        )
    base = entry.snapshot.content
    items = [
        {"stage": i.stage, "field": i.field_name, "proposed_value": i.proposed_value, "reason": i.reason}
        for i in request.items.all()
    ]
    try:
        cleaned = clean_items(project, base, items)
    except ValidationError as invalid:
        # Another record may have taken a document number meanwhile: the city declines, the enterprise reapplies.
        raise ValidationError(
            ["该申请的更正内容现已不能通过校验，请作不予更正处理：", *invalid.messages]
        ) from None
    return entry, cleaned, apply_changes(base, [c.change for c in cleaned])


# ---------------------------------------------------------------- authority-initiated corrections


def _check_order(project, finding, due_on, spot_check_item):
    """Every input problem of an order at once (ValidationError)."""
    problems = []
    if not finding:
        problems.append("请写明发现的问题。")
    if not isinstance(due_on, datetime.date):
        problems.append("请填写应答期限。")
    elif due_on < timezone.localdate():
        problems.append(f"应答期限（{due_on}）不能早于今天。")
    if spot_check_item is not None and spot_check_item.project_id != project.pk:
        problems.append("所依据的抽查事项不是该项目的。")
    if problems:
        raise ValidationError(problems)


@audits_refusals("correction.order", target=_refusal_target, refusals=REFUSALS)
@transaction.atomic
def issue_correction_order(
    *, actor: Actor, project: Project, finding: str, due_on: datetime.date, spot_check_item=None
) -> CorrectionOrder:
    """A reviewer of the record's authority, or a city user (a spot check), tells the enterprise that its record
    in the library is wrong (责令更正). The enterprise must answer with a correction request by `due_on`.

    `spot_check_item` is the finding the order answers, when a spot check sent it: checked to be of the same
    record and named in the audit event; the spot check links itself to the order (inspections.services)."""
    permissions.ensure_may_order(actor.user, project)
    project = lock_project(project)
    permissions.ensure_may_order(actor.user, project)
    if not LibraryEntry.objects.filter(project=project).exists():
        raise RecordLocked(
            f"该项目当前状态为“{project.get_status_display()}”，尚未进入全国平台项目库，不能发出更正通知；"
            "审核中的记录请退回修改。"
        )
    finding = (finding or "").strip()
    _check_order(project, finding, due_on, spot_check_item)
    order = CorrectionOrder(
        project=project,
        finding=finding,
        issued_by=actor.user,
        issuer_name=actor.organisation_name or actor.user.get_username(),
        due_on=due_on,
    )
    order.full_clean()
    order.save()
    audit.record(
        actor,
        "correction.order",
        order,
        project=project,
        changes={
            "due_on": [None, due_on.isoformat()],
            **({"spot_check_item": [None, spot_check_item.pk]} if spot_check_item is not None else {}),
        },
        message=f"更正通知：{finding}"[:500],
    )
    notifications.notify_enterprise(
        project,
        f"更正通知：项目“{project.name}”",
        f"{order.issuer_name}发现您已入库的项目“{project.name}”（{project.project_number}）存在问题：{finding}\n"
        f"请于{due_on:%Y年%m月%d日}前提交更正申请（在“更正通知”中答复）。谁录入，谁负责。",
    )
    return order

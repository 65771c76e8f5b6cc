"""Corrections (更正) of records in the national library: services (writes) and selectors (reads).

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

import copy
import datetime
from dataclasses import dataclass
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django_fsm import can_proceed

from projects import audit, notifications, permissions, rules
from projects.audit import Actor
from projects.models import (
    STAGE_MODELS,
    STAGE_ORDER,
    CityDepartment,
    Evidence,
    Membership,
    Notification,
    Project,
    Role,
    Status,
)
from projects.services import RecordLocked, file_sha256, lock_project, record_transition, sniff_evidence
from projects.validators import validate_plain_text
from publicity import services as publicity_services
from publicity import snapshots
from publicity.models import LibraryEntry

from .models import (
    OPEN_CORRECTION_STATUSES,
    CorrectionEvidence,
    CorrectionItem,
    CorrectionOrder,
    CorrectionRequest,
    CorrectionStatus,
)
from .selectors import display_value

# ---------------------------------------------------------------- what may be corrected (the one place)

PROJECT_SECTION = ""  # CorrectionItem.stage of the project's own fields ("项目基本信息")

# Fields of the published snapshot's "project" part that a correction never changes, and why.
NOT_CORRECTABLE_PROJECT_FIELDS = {
    "project_number": "项目编号是全国平台记录的标识（PrjNum），不能更正",
    "county_code": "项目所在区县决定项目编号和审核部门，不能通过更正改变",
    "is_classified": "涉密项目不属于补录范围，不是更正事项",
    "is_completed": "未竣工项目不属于补录范围，不是更正事项",
}


def _stage_content_fields(model) -> tuple[str, ...]:
    """A stage's fields as the snapshot holds them (publicity.snapshots.build_content)."""
    return tuple(f.name for f in model._meta.concrete_fields if f.name not in snapshots.INTERNAL_FIELDS)


# section ("" = the project's own fields, else a stage code) → the correctable fields, in the snapshot's order.
# The enterprise and the authority of a record (who filed it, who reviewed it) are not in any section.
CORRECTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    PROJECT_SECTION: tuple(n for n in snapshots.PROJECT_FIELDS if n not in NOT_CORRECTABLE_PROJECT_FIELDS),
    **{code: _stage_content_fields(STAGE_MODELS[code]) for code in STAGE_ORDER},
}

MAX_ITEMS = 30
MAX_EVIDENCE_FILES = 10  # settings.DATA_UPLOAD_MAX_NUMBER_FILES caps one upload at 10 files too
DEFAULT_ORDER_DAYS = 30  # the answer period an order's form proposes


def section_model(stage: str) -> type[models.Model]:
    return Project if stage == PROJECT_SECTION else STAGE_MODELS[stage]


def section_label(stage: str) -> str:
    return rules.STAGE_LABELS[stage or rules.PROJECT]


def field_label(stage: str, name: str) -> str:
    try:
        verbose = section_model(stage)._meta.get_field(name).verbose_name
    except Exception:  # an unknown section or field: named as given
        verbose = name
    return f"{section_label(stage) if stage in CORRECTABLE_FIELDS else stage}·{verbose}"


def target_key(stage: str, name: str) -> str:
    """How a form names a field: "permit.permit_number", "project.name"."""
    return f"{stage or rules.PROJECT}.{name}"


def split_target(key: str) -> tuple[str, str]:
    stage, _, name = (key or "").partition(".")
    return ("" if stage == rules.PROJECT else stage), name


def _section_of(content: dict, stage: str):
    return content["project"] if stage == PROJECT_SECTION else content["stages"].get(stage)


def correctable_targets(content: dict) -> list[dict]:
    """Every field a correction of this snapshot may name, with its current value as shown: the fields of the
    sections the snapshot holds (a stage never filled, e.g. the permit of a project started on another
    approval, has nothing to correct)."""
    targets = []
    for stage, names in CORRECTABLE_FIELDS.items():
        section = _section_of(content, stage)
        if section is None:
            continue
        model = section_model(stage)
        for name in names:
            targets.append(
                {
                    "key": target_key(stage, name),
                    "stage": stage,
                    "field": name,
                    "section_label": section_label(stage),
                    "label": str(model._meta.get_field(name).verbose_name),
                    "current": display_value(model._meta.get_field(name), section.get(name)),
                }
            )
    return targets


# ---------------------------------------------------------------- values: parsed as the stage form parses them

TRUE_WORDS = {"是", "true", "1", "yes"}
FALSE_WORDS = {"否", "false", "0", "no"}


def _normalise(model_field, value):
    """A field's value as the snapshot stores it (publicity.snapshots.plain): Decimals to their places."""
    if value is not None and isinstance(model_field, models.DecimalField):
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return snapshots.plain(value)


def parse_value(model_field, text: str):
    """The proposed text as the field's stored value, checked as the stage form checks it: format (dates,
    amounts, whole numbers), choices (the code or its label), length, and the field's validators (credit codes,
    ID numbers, no markup). Returns the snapshot's plain value; raises ValidationError."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写更正后的内容。")
    if isinstance(model_field, models.BooleanField):
        word = text.lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValidationError("请填写“是”或“否”。")
        value = word in TRUE_WORDS
    else:
        if model_field.choices:
            by_label = {str(label): code for code, label in model_field.flatchoices}
            text = by_label.get(text, text)
        value = model_field.formfield().clean(text)
        if value in (None, ""):
            raise ValidationError("请填写更正后的内容。")
    value = model_field.clean(value, None)
    return _normalise(model_field, value)


def value_text(model_field, plain_value) -> str:
    """A plain value as CorrectionItem keeps it (and parse_value reads it back): 是/否, ISO dates, codes."""
    if plain_value is None:
        return ""
    if isinstance(model_field, models.BooleanField):
        return "是" if plain_value else "否"
    return str(plain_value)


def _same(model_field, a, b) -> bool:
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    if isinstance(model_field, models.DecimalField):
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


def apply_changes(base: dict, changes: list[tuple[str, str, object]]) -> dict:
    """A copy of a snapshot's content with (stage, field, plain value) changes applied."""
    content = copy.deepcopy(base)
    for stage, name, value in changes:
        _section_of(content, stage)[name] = value
    return content


# ---------------------------------------------------------------- the rule engine on a snapshot's content


def _in_memory(project: Project, content: dict):
    """A project and its stages holding `content`'s values, unsaved: what the rule engine reads."""
    candidate = copy.copy(project)
    for name, value in content["project"].items():
        setattr(candidate, name, Project._meta.get_field(name).to_python(value))
    stages = {}
    for code in STAGE_ORDER:
        data = content["stages"].get(code)
        if data is None:
            stages[code] = None
            continue
        model = STAGE_MODELS[code]
        stages[code] = model(
            project_id=project.pk,
            **{name: model._meta.get_field(name).to_python(value) for name, value in data.items()},
        )
    return candidate, stages


def _errors_of(project, content, evidence_counts) -> dict:
    candidate, stages = _in_memory(project, content)
    context = rules.RecordContext(
        project=candidate,
        stages=stages,
        evidence_counts=evidence_counts,
        duplicate_documents=rules.find_duplicate_documents(candidate, stages),
        window=None,  # the backfill window governs backfills, not corrections: the same finding on both sides
    )
    return {
        (f.code, f.stage, f.field, f.message): f
        for f in rules.evaluate(candidate, context=context)
        if f.is_error
    }


def rule_errors(project: Project, base: dict, corrected: dict) -> list:
    """The rule engine's errors (formats, dates in order, linkage between stages, document numbers used by other
    projects …) that the corrected content has and the base content has not: a correction may not make the
    record wrong; an old finding it does not touch does not block it."""
    loaded = rules.load_project(project.pk)
    evidence_counts = dict.fromkeys(STAGE_ORDER, 0)
    for row in (
        Evidence.objects.filter(project_id=project.pk, archived_at__isnull=True)
        .values("stage")
        .annotate(n=models.Count("id"))
    ):
        evidence_counts[row["stage"]] = row["n"]
    before = _errors_of(loaded, base, evidence_counts)
    after = _errors_of(loaded, corrected, evidence_counts)
    return [finding for key, finding in after.items() if key not in before]


@dataclass(frozen=True)
class CleanItem:
    stage: str
    field: str
    current: object  # plain, as in the base snapshot
    proposed: object  # plain, as the new snapshot will hold it
    reason: str
    model_field: models.Field

    @property
    def change(self):
        return (self.stage, self.field, self.proposed)


def clean_items(project: Project, base: dict, items) -> list[CleanItem]:
    """Check every item against the base snapshot: an existing, correctable field of a section the snapshot
    holds, a proposed value the stage form would accept and that differs from the current one, a reason; then
    the record as corrected against the rule engine. All problems at once, numbered by item."""
    problems, cleaned, seen = [], [], set()
    items = list(items or [])
    if not items:
        raise ValidationError("请至少填写一项需要更正的内容。")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"一份更正申请最多{MAX_ITEMS}项。")
    for number, item in enumerate(items, start=1):
        stage = item.get("stage") or ""
        stage = PROJECT_SECTION if stage == rules.PROJECT else stage
        name = (item.get("field") or "").strip()
        where = f"第{number}项（{field_label(stage, name)}）"
        if stage not in CORRECTABLE_FIELDS:
            problems.append(f"第{number}项：没有“{stage}”这个环节。")
            continue
        model = section_model(stage)
        known = {f.name for f in model._meta.concrete_fields}
        if name not in known:
            problems.append(f"第{number}项：“{section_label(stage)}”没有“{name}”这个字段。")
            continue
        if name not in CORRECTABLE_FIELDS[stage]:
            why = NOT_CORRECTABLE_PROJECT_FIELDS.get(name) if stage == PROJECT_SECTION else ""
            problems.append(f"{where}不是可以更正的内容" + (f"：{why}。" if why else "。"))
            continue
        if (stage, name) in seen:
            problems.append(f"{where}重复：同一字段只能列一项。")
            continue
        seen.add((stage, name))
        section = _section_of(base, stage)
        if section is None:
            problems.append(f"{where}：入库记录中没有“{section_label(stage)}”环节的内容，无从更正。")
            continue
        model_field = model._meta.get_field(name)
        reason = (item.get("reason") or "").strip()
        try:
            proposed = parse_value(model_field, item.get("proposed_value"))
        except ValidationError as invalid:
            problems.extend(f"{where}：{message}" for message in invalid.messages)
            continue
        current = section.get(name)
        if _same(model_field, current, proposed):
            problems.append(f"{where}：更正后的内容与现有内容相同。")
            continue
        if not reason:
            problems.append(f"{where}：请说明错误原因。")
            continue
        try:
            validate_plain_text(reason)
        except ValidationError as invalid:
            problems.extend(f"{where}错误原因：{message}" for message in invalid.messages)
            continue
        cleaned.append(CleanItem(stage, name, current, proposed, reason, model_field))
    if problems:
        raise ValidationError(problems)
    findings = rule_errors(project, base, apply_changes(base, [c.change for c in cleaned]))
    if findings:
        numbers = {(c.stage or rules.PROJECT, c.field): n for n, c in enumerate(cleaned, start=1)}
        problems = []
        for finding in findings:
            number = numbers.get((finding.stage, finding.field))
            where = (
                f"第{number}项（{field_label(cleaned[number - 1].stage, finding.field)}）"
                if number
                else rules.STAGE_LABELS[finding.stage]
            )
            problems.append(f"{where}：{finding.message}")
        raise ValidationError(["更正后的信息未通过校验：", *problems])
    return cleaned


# ---------------------------------------------------------------- who may act


def _membership(actor: Actor) -> Membership | None:
    return actor.membership


def ensure_owner(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role != Role.ENTERPRISE:
        raise PermissionDenied("只有企业填报人员可以申请更正本企业的入库记录。")
    if membership.enterprise_id != project.enterprise_id:
        raise PermissionDenied("只能申请更正本企业的项目。")


def ensure_district_of(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role != Role.REVIEWER:
        raise PermissionDenied("只有项目所在地区县（开发区）主管部门的审核人员可以核查更正申请。")
    if membership.authority_id != project.authority_id:
        raise PermissionDenied("只能核查本辖区项目的更正申请。")


def is_approval_center(user) -> bool:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is not None:
        return membership.role == Role.CITY and membership.department == CityDepartment.APPROVAL_CENTER
    return bool(getattr(user, "is_superuser", False))


def ensure_approval_center(actor: Actor):
    if not is_approval_center(actor.user):
        raise PermissionDenied("只有市审批服务中心可以审定更正申请。")


def may_order(user, project: Project) -> bool:
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    if membership is None:
        return bool(getattr(user, "is_superuser", False))
    if membership.role == Role.CITY:
        return True
    return membership.role == Role.REVIEWER and membership.authority_id == project.authority_id


def ensure_may_order(actor: Actor, project: Project):
    membership = _membership(actor)
    if membership is None or membership.role not in (Role.REVIEWER, Role.CITY):
        if not getattr(actor.user, "is_superuser", False):
            raise PermissionDenied("只有区县（开发区）主管部门或市级管理人员可以发出更正通知。")
    if not may_order(actor.user, project):
        # The same words as for an unknown number (the order form says them too): no hint that the draft exists.
        raise PermissionDenied(permissions.NO_PROJECT_TO_ORDER.format(number=project.project_number))


def _refusals_audited(action: str):
    """A refusal of who may act or of the state rolls the change back, then is recorded in its own transaction:
    who tried what, on which record, with the message they saw."""

    def decorate(service):
        @wraps(service)
        def wrapper(*, actor: Actor, **kwargs):
            try:
                return service(actor=actor, **kwargs)
            except (PermissionDenied, RecordLocked) as refusal:
                target, project = _refusal_target(kwargs)
                audit.record(actor, f"{action}.refused", target, project=project, message=str(refusal))
                raise

        return wrapper

    return decorate


def _refusal_target(kwargs):
    if kwargs.get("project") is not None:
        return kwargs["project"], kwargs["project"]
    request = CorrectionRequest.objects.select_related("project").filter(pk=kwargs.get("request_id")).first()
    return (request, request.project) if request else (None, None)


# ---------------------------------------------------------------- telling people


def _notify(users, project, title: str, body: str):
    """Inbox rows now, e-mail once committed (as projects.notifications.notify_enterprise does)."""
    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create(
        [Notification(recipient=user, project=project, title=title, body=body) for user in users]
    )
    addresses = [user.email for user in users if user.email]
    if addresses:
        transaction.on_commit(
            lambda: send_mail(
                f"[建设工程项目信息补录] {title}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                addresses,
                fail_silently=True,
            )
        )


def _reviewers_of(project):
    return [
        m.user
        for m in Membership.objects.filter(
            role=Role.REVIEWER, authority_id=project.authority_id
        ).select_related("user")
    ]


def _approval_center_users():
    return [
        m.user
        for m in Membership.objects.filter(
            role=Role.CITY, department=CityDepartment.APPROVAL_CENTER
        ).select_related("user")
    ]


def _items_text(request) -> str:
    return "\n".join(
        f"- {field_label(item.stage, item.field_name)}：{item.current_value or '（空）'} → {item.proposed_value}"
        for item in request.items.all()
    )


# ---------------------------------------------------------------- the enterprise files a request


@_refusals_audited("correction.file")
def file_correction_request(
    *, actor: Actor, project: Project, statement: str, items, evidence_files, order=None
) -> CorrectionRequest:
    """The enterprise's written application on its record in the national library: what is wrong (each field,
    its proposed value, why) and evidence. All or nothing: any problem refuses the whole request.

    `items`: [{"stage": "permit" | "" (the project's own fields), "field": ..., "proposed_value": ..., "reason": ...}].
    `evidence_files`: uploaded files (PDF, JPEG or PNG by content, each within EVIDENCE_MAX_BYTES).
    `order`: the CorrectionOrder this request answers, if any (of the same record)."""
    ensure_owner(actor, project)
    evidence_files = list(evidence_files or [])
    with transaction.atomic():
        project = lock_project(project)
        ensure_owner(actor, project)
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
            raise RecordLocked(
                f"该项目已有正在办理的更正申请（编号{open_request.reference}，{open_request.get_status_display()}），"
                "办结后才能再次申请。"
            )

        problems = []
        statement = (statement or "").strip()
        if not statement:
            problems.append("请填写更正申请说明。")
        if order is not None and order.project_id != project.pk:
            problems.append("所答复的更正通知不是针对该项目的。")
        if not evidence_files:
            problems.append("请上传至少一份证明材料（PDF、JPEG或PNG）。")
        elif len(evidence_files) > MAX_EVIDENCE_FILES:
            problems.append(f"证明材料最多{MAX_EVIDENCE_FILES}份。")
        content_types = []
        for uploaded in evidence_files[:MAX_EVIDENCE_FILES]:
            try:
                content_types.append(sniff_evidence(uploaded))
            except ValidationError as invalid:
                problems.extend(f"证明材料：{message}" for message in invalid.messages)
        try:
            cleaned = clean_items(project, entry.snapshot.content, items)
        except ValidationError as invalid:
            problems.extend(invalid.messages)
        if problems:
            raise ValidationError(problems)

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
        stored = []
        for uploaded, content_type in zip(evidence_files, content_types, strict=True):
            evidence = CorrectionEvidence(
                request=request,
                original_name=uploaded.name[-255:],
                content_type=content_type,
                size=uploaded.size,
                sha256=file_sha256(uploaded),
                uploaded_by=actor.user,
            )
            evidence.full_clean(exclude=["file"])
            # Stored before the row: a rollback leaves an orphan file, never a row without its file.
            evidence.file.save("evidence", uploaded, save=False)
            evidence.save()
            stored.append({"name": evidence.original_name, "sha256": evidence.sha256, "size": evidence.size})
        audit.record(
            actor,
            "correction.file",
            request,
            project=project,
            changes={
                "status": [None, request.status],
                "base_snapshot": [None, f"v{entry.snapshot.version}"],
                "items": [
                    None,
                    [
                        {"stage": c.stage, "field": c.field, "from": c.current, "to": c.proposed}
                        for c in cleaned
                    ],
                ],
                "evidence": [None, stored],
                **({"order": [None, order.pk]} if order is not None else {}),
            },
            message=f"提交更正申请{request.reference}（{len(cleaned)}项）",
        )
        _notify(
            _reviewers_of(project),
            project,
            f"收到更正申请：{project.name}",
            f"{project.enterprise.name}对已入库项目“{project.name}”（{project.project_number}）提交了更正申请"
            f"（编号{request.reference}），请核查并出具更正意见：\n{_items_text(request)}",
        )
        return request


# ---------------------------------------------------------------- the enterprise withdraws


@_refusals_audited("correction.withdraw")
@transaction.atomic
def withdraw_correction_request(*, actor: Actor, request_id: int, reason: str = "") -> CorrectionRequest:
    """The enterprise takes its request back while it is still open (before the district declines it or the city
    decides). The record stays as it is in the library; an order the request answered counts as unanswered again."""
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    ensure_owner(actor, request.project)
    project = lock_project(request.project)
    ensure_owner(actor, project)
    request = _locked_request(request_id)
    if request.status not in OPEN_CORRECTION_STATUSES:
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，已办结，不能撤回（可能已有其他人处理）。"
        )
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError("撤回原因不能超过500字。")
    validate_plain_text(reason)
    before = request.status
    request.status = CorrectionStatus.WITHDRAWN
    request.save(update_fields=["status"])
    audit.record(
        actor,
        "correction.withdraw",
        request,
        project=project,
        changes={"status": [before, request.status]},
        message=f"撤回更正申请{request.reference}" + (f"：{reason}" if reason else ""),
    )
    recipients = _reviewers_of(project)
    if before == CorrectionStatus.AT_CITY:
        recipients += _approval_center_users()
    _notify(
        recipients,
        project,
        f"更正申请已撤回：{project.name}",
        f"{project.enterprise.name}撤回了项目“{project.name}”（{project.project_number}）的更正申请"
        f"（编号{request.reference}），无需再办理。" + (f"\n撤回原因：{reason}" if reason else ""),
    )
    return request


# ---------------------------------------------------------------- the district's opinion


def _locked_request(request_id) -> CorrectionRequest:
    return CorrectionRequest.objects.select_for_update().get(pk=request_id)


@_refusals_audited("correction.opinion")
@transaction.atomic
def give_district_opinion(*, actor: Actor, request_id: int, accepts: bool, opinion: str) -> CorrectionRequest:
    """The district authority verifies the request and writes its correction opinion (更正意见), with reasons:
    accepted, it goes to the city approval service center; declined, the request ends there."""
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    ensure_district_of(actor, request.project)
    project = lock_project(request.project)
    ensure_district_of(actor, project)
    request = _locked_request(request_id)
    if request.status != CorrectionStatus.FILED:
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，不能再出具区县意见（可能已有其他人处理）。"
        )
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError("请填写更正意见，写明同意或不同意更正的理由。")
    before = request.status
    request.status = CorrectionStatus.AT_CITY if accepts else CorrectionStatus.DISTRICT_DECLINED
    request.district_accepts = bool(accepts)
    request.district_opinion = opinion
    request.district_by = actor.user
    request.district_at = timezone.now()
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
        _notify(
            _approval_center_users(),
            project,
            f"待审定的更正申请：{project.name}",
            f"{actor.organisation_name}同意项目“{project.name}”（{project.project_number}）的更正申请"
            f"（编号{request.reference}），请审定：\n{_items_text(request)}\n区县更正意见：{opinion}",
        )
    return request


# ---------------------------------------------------------------- the city decides


@_refusals_audited("correction.decide")
@transaction.atomic
def decide_at_city(*, actor: Actor, request_id: int, approves: bool, opinion: str) -> CorrectionRequest:
    """The city approval service center decides a request the district accepted. Approved, in one transaction:
    a new snapshot version (the library's snapshot with the items applied, hashed and immutable), the record
    back to `in_notice` (start_correction_notice) and a 10-day notice of that version. When the notice ends with
    no objection standing, publicity's sweep delivers it as an update of the same national record."""
    ensure_approval_center(actor)
    request = CorrectionRequest.objects.select_related("project").get(pk=request_id)
    project = lock_project(request.project)
    request = _locked_request(request_id)
    if request.status != CorrectionStatus.AT_CITY:
        raise RecordLocked(
            f"该更正申请当前状态为“{request.get_status_display()}”，不能审定（可能已有其他人处理）。"
        )
    opinion = (opinion or "").strip()
    if not opinion:
        raise ValidationError("请填写审定意见。")
    before = request.status
    request.city_approves = bool(approves)
    request.city_opinion = opinion
    request.city_by = actor.user
    request.city_at = timezone.now()
    if not approves:
        request.status = CorrectionStatus.CITY_DECLINED
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
        _tell_decision(actor, project, request, "不予更正", opinion)
        return request

    if not can_proceed(project.start_correction_notice):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能开始更正公示。")
    entry = LibraryEntry.objects.select_related("snapshot").get(project=project)
    if entry.snapshot_id != request.base_snapshot_id:
        raise RecordLocked(
            f"该项目在全国平台的记录已更新为第{entry.snapshot.version}版，本申请依据的版本已不是当前版本，"
            "不能批准；请企业依据当前版本重新申请。"
        )
    base = entry.snapshot.content
    items = list(request.items.all())
    try:
        cleaned = clean_items(
            project,
            base,
            [
                {
                    "stage": i.stage,
                    "field": i.field_name,
                    "proposed_value": i.proposed_value,
                    "reason": i.reason,
                }
                for i in items
            ],
        )
    except ValidationError as invalid:
        # Another record may have taken a document number meanwhile: the city declines, the enterprise reapplies.
        raise ValidationError(
            ["该申请的更正内容现已不能通过校验，请作不予更正处理：", *invalid.messages]
        ) from None
    content = apply_changes(base, [c.change for c in cleaned])

    status_before = project.status
    project.start_correction_notice()
    notice = publicity_services.start_notice(
        actor=actor,
        project=project,
        reason=f"更正申请{request.reference}经市审批服务中心批准",
        content=content,
    )
    request.status = CorrectionStatus.APPROVED
    request.result_snapshot = notice.snapshot
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
            "items": [
                None,
                [{"stage": c.stage, "field": c.field, "from": c.current, "to": c.proposed} for c in cleaned],
            ],
        },
    )
    _tell_decision(
        actor,
        project,
        request,
        "批准更正",
        opinion
        + f"\n更正后的信息（第{notice.snapshot.version}版）将公示{settings.NOTICE_DAYS}日，公示期满无异议的"
        "报送全国平台更新原记录。",
    )
    return request


def _tell_decision(actor, project, request, verdict, opinion):
    title = f"更正申请{request.reference}：市审批服务中心{verdict}"
    body = (
        f"项目“{project.name}”（{project.project_number}）的更正申请（编号{request.reference}）经"
        f"{actor.organisation_name}审定：{verdict}。\n审定意见：{opinion}"
    )
    notifications.notify_enterprise(project, title, body)
    _notify(_reviewers_of(project), project, title, body)


# ---------------------------------------------------------------- authority-initiated corrections


@_refusals_audited("correction.order")
@transaction.atomic
def issue_correction_order(
    *, actor: Actor, project: Project, finding: str, due_on: datetime.date, spot_check_item=None
) -> CorrectionOrder:
    """A reviewer of the record's authority, or a city user (a spot check), tells the enterprise that its record
    in the library is wrong (责令更正). The enterprise must answer with a correction request by `due_on`."""
    ensure_may_order(actor, project)
    project = lock_project(project)
    ensure_may_order(actor, project)
    if not LibraryEntry.objects.filter(project=project).exists():
        raise RecordLocked(
            f"该项目当前状态为“{project.get_status_display()}”，尚未进入全国平台项目库，不能发出更正通知；"
            "审核中的记录请退回修改。"
        )
    problems = []
    finding = (finding or "").strip()
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
    order = CorrectionOrder(
        project=project,
        finding=finding,
        spot_check_item=spot_check_item,
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


# ---------------------------------------------------------------- selectors


def _user_membership(user):
    return getattr(user, "membership", None) if user.is_authenticated else None


def visible_requests(user):
    """Enterprise: its own records' requests. Reviewer: its authority's. City (every department) and a superuser:
    all. Anyone else: none."""
    membership = _user_membership(user)
    requests = CorrectionRequest.objects.all()
    if membership is None:
        return requests if user.is_authenticated and user.is_superuser else requests.none()
    if membership.role == Role.ENTERPRISE:
        return requests.filter(project__enterprise_id=membership.enterprise_id)
    if membership.role == Role.REVIEWER:
        return requests.filter(project__authority_id=membership.authority_id)
    if membership.role == Role.CITY:
        return requests
    return requests.none()


def visible_orders(user):
    """The same scopes as visible_requests; each order annotated `answered` (a request not withdrawn names it)."""
    membership = _user_membership(user)
    orders = CorrectionOrder.objects.annotate(
        answered=Exists(
            CorrectionRequest.objects.filter(order=OuterRef("pk")).exclude(status=CorrectionStatus.WITHDRAWN)
        )
    )
    if membership is None:
        return orders if user.is_authenticated and user.is_superuser else orders.none()
    if membership.role == Role.ENTERPRISE:
        return orders.filter(project__enterprise_id=membership.enterprise_id)
    if membership.role == Role.REVIEWER:
        return orders.filter(project__authority_id=membership.authority_id)
    if membership.role == Role.CITY:
        return orders
    return orders.none()


def overdue_orders(user, *, today: datetime.date | None = None):
    """Orders past their due date that no request answers: a reviewer sees its authority's, the city all."""
    today = today or timezone.localdate()
    return visible_orders(user).filter(due_on__lt=today, answered=False)


def search_requests(requests, q: str = "", status: str = ""):
    if status:
        requests = requests.filter(status=status)
    q = (q or "").strip()
    if q:
        requests = requests.filter(
            Q(reference=q.upper())
            | Q(project__project_number=q)
            | Q(project__name__icontains=q)
            | Q(project__enterprise__name__icontains=q)
        )
    return requests


def search_orders(orders, q: str = ""):
    q = (q or "").strip()
    if q:
        orders = orders.filter(
            Q(project__project_number=q)
            | Q(project__name__icontains=q)
            | Q(project__enterprise__name__icontains=q)
        )
    return orders


def may_give_opinion(user, request: CorrectionRequest) -> bool:
    membership = _user_membership(user)
    return (
        request.status == CorrectionStatus.FILED
        and membership is not None
        and membership.role == Role.REVIEWER
        and membership.authority_id == request.project.authority_id
    )


def may_withdraw(user, request: CorrectionRequest) -> bool:
    membership = _user_membership(user)
    return (
        request.status in OPEN_CORRECTION_STATUSES
        and membership is not None
        and membership.role == Role.ENTERPRISE
        and membership.enterprise_id == request.project.enterprise_id
    )


def may_decide(user, request: CorrectionRequest) -> bool:
    return request.status == CorrectionStatus.AT_CITY and is_approval_center(user)


def open_request_of(project) -> CorrectionRequest | None:
    return CorrectionRequest.objects.filter(project=project, status__in=OPEN_CORRECTION_STATUSES).first()


@dataclass(frozen=True)
class ItemView:
    label: str
    current: str
    proposed: str
    reason: str


def item_views(items) -> list[ItemView]:
    """Items as a reader reads them: the field's label, its current and proposed value shown as on the record."""
    views = []
    for item in items:
        try:
            model_field = section_model(item.stage)._meta.get_field(item.field_name)
            current = display_value(model_field, parse_value(model_field, item.current_value))
            proposed = display_value(model_field, parse_value(model_field, item.proposed_value))
        except (
            Exception
        ):  # a value kept as typed that no longer parses (a field changed since): shown as kept
            current, proposed = item.current_value, item.proposed_value
        views.append(ItemView(field_label(item.stage, item.field_name), current, proposed, item.reason))
    return views

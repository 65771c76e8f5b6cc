"""District decisions on submitted records: approve, return for revision, reject; and assignment.

Each is one transaction: the actor's right is checked on the locked row, the state moves through the lifecycle,
the decision and the audit event are written, the enterprise is notified (e-mail on commit). A decision made on
a page that showed another state, or on a record of another authority, is refused and the refusal audited.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_fsm import can_proceed

from projects import audit, notifications, rules
from projects.audit import Actor, audits_refusals
from projects.models import STAGE_MODELS, BackfillWindow, Project, ReviewComment, SubmissionVersion
from projects.permissions import (
    agency_reviewers,
    authority_reviewers,
    ensure_city,
    ensure_may_assign,
    ensure_may_route,
)
from projects.services import (
    RecordLocked,
    ensure_expected_status,
    ensure_reviewer_of,
    lock_project,
    record_transition,
    refusals_audited,
)
from projects.signals import project_approved

from .models import Assignment, Decision, RejectionGround, ReviewDecision


def _decide(actor, project, expected_status, transition_name, label):
    ensure_reviewer_of(actor, project)
    project = lock_project(project)
    ensure_reviewer_of(actor, project)  # the authority could have been changed before the lock was taken
    ensure_expected_status(project, expected_status)
    transition = getattr(project, transition_name)
    if not can_proceed(transition):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能{label}。")
    return project, transition


def _latest_version(project):
    return SubmissionVersion.objects.filter(project=project).order_by("-number").first()


def _record_decision(actor, project, decision, reason="", ground=""):
    return ReviewDecision.objects.create(
        project=project,
        version=_latest_version(project),
        decision=decision,
        ground=ground,
        reason=reason,
        reviewer=actor.user,
        authority_name=actor.organisation_name,
    )


@refusals_audited("review.approve")
@transaction.atomic
def approve(
    *, actor: Actor, project: Project, expected_status: str | None = None, comment: str = ""
) -> Project:
    project, transition = _decide(actor, project, expected_status, "approve", "审核通过")
    before = project.status
    transition()
    decision = _record_decision(actor, project, Decision.APPROVE, reason=comment)
    record_transition(actor, project, "review.approve", before, message=comment or "审核通过")
    project_approved.send(sender=Project, project=project, actor=actor, version=decision.version)
    notifications.notify_enterprise(
        project,
        f"项目“{project.name}”审核通过，进入公示",
        f"您补录的项目“{project.name}”（{project.project_number}）已由{actor.organisation_name}审核通过，"
        f"将向社会公示10日，公示期满无异议的进入全国建筑市场监管公共服务平台项目库。"
        + (f"\n审核意见：{comment}" if comment else ""),
    )
    return project


def clean_comments(project, comments) -> list[dict]:
    """Each comment names a stage (or none: the project as a whole), optionally a field of it, and says why."""
    cleaned = []
    for item in comments:
        text = (item.get("text") or "").strip()
        stage = item.get("stage") or ""
        field = item.get("field") or ""
        if not text:
            continue
        if stage and stage not in STAGE_MODELS:
            raise ValidationError(f"未知的环节“{stage}”。")
        model = STAGE_MODELS[stage] if stage else Project
        if field:
            names = {f.name for f in model._meta.concrete_fields}
            if field not in names and field != "evidence":
                raise ValidationError(f"“{rules.STAGE_LABELS[stage or rules.PROJECT]}”没有字段“{field}”。")
        cleaned.append({"stage": stage, "field": field, "text": text})
    return cleaned


@refusals_audited("review.return")
@transaction.atomic
def return_for_revision(
    *, actor: Actor, project: Project, comments: list[dict], expected_status: str | None = None
) -> Project:
    """Back to the enterprise. At least one comment is required, each pinned to a stage/field or the whole."""
    cleaned = clean_comments(project, comments)
    if not cleaned:
        raise ValidationError("退回修改须填写至少一条审核意见，说明需要修改的内容。")
    project, transition = _decide(actor, project, expected_status, "return_for_revision", "退回修改")
    before = project.status
    transition()
    for item in cleaned:
        comment = ReviewComment(
            project=project, author=actor.user, author_organisation=actor.organisation_name, **item
        )
        comment.full_clean(exclude=["settled_by_version"])
        comment.save()
    summary = "；".join(_comment_line(item) for item in cleaned)
    _record_decision(actor, project, Decision.RETURN, reason=summary)
    record_transition(
        actor, project, "review.return", before, message=summary[:500], changes={"comments": [None, cleaned]}
    )
    notifications.notify_enterprise(
        project,
        f"项目“{project.name}”被退回修改",
        f"{actor.organisation_name}退回了您补录的项目“{project.name}”（{project.project_number}），意见如下：\n"
        + "\n".join(f"- {_comment_line(item)}" for item in cleaned)
        + "\n请按意见修改后重新提交。",
    )
    return project


def _comment_line(item) -> str:
    where = rules.STAGE_LABELS[item["stage"] or rules.PROJECT]
    if item["field"] and item["field"] != "evidence":
        model = STAGE_MODELS[item["stage"]] if item["stage"] else Project
        where += f"·{model._meta.get_field(item['field']).verbose_name}"
    elif item["field"] == "evidence":
        where += "·证明材料"
    return f"{where}：{item['text']}"


@refusals_audited("review.reject")
@transaction.atomic
def reject(
    *, actor: Actor, project: Project, ground: str, reason: str, expected_status: str | None = None
) -> Project:
    """Final: out of scope, or false information. A reason is required."""
    reason = (reason or "").strip()
    if ground not in RejectionGround.values:
        raise ValidationError("请选择不予受理的理由类别。")
    if not reason:
        raise ValidationError("不予受理须写明理由。")
    project, transition = _decide(actor, project, expected_status, "reject", "不予受理")
    before = project.status
    transition()
    _record_decision(actor, project, Decision.REJECT, reason=reason, ground=ground)
    record_transition(
        actor, project, "review.reject", before, message=f"{RejectionGround(ground).label}：{reason}"[:500]
    )
    notifications.notify_enterprise(
        project,
        f"项目“{project.name}”不予受理",
        f"{actor.organisation_name}对您补录的项目“{project.name}”（{project.project_number}）不予受理。"
        f"\n理由（{RejectionGround(ground).label}）：{reason}",
    )
    return project


@transaction.atomic
def assign(*, actor: Actor, projects, reviewer) -> int:
    """Give records of the actor's authority to one of its reviewers. Safe in bulk: it decides nothing."""
    projects = list(projects)
    ensure_may_assign(actor.user, reviewer=reviewer, projects=projects)
    count = 0
    for project in projects:
        Assignment.objects.update_or_create(project=project, defaults={"reviewer": reviewer})
        audit.record(
            actor,
            "review.assign",
            project,
            project=project,
            changes={"reviewer": [None, reviewer.get_username()]},
        )
        count += 1
    return count


# ---------------------------------------------------------------- routing design records (the city's queue)


@refusals_audited("review.route")
@transaction.atomic
def route_design_project(
    *, actor: Actor, project: Project, agency=None, to_district: bool = False
) -> Project:
    """Give a submitted design record that waits for a reviewer (its agency has no account) to a drawing-review
    agency that has one, or to the district where the project lies (docs/design-projects.md, "Routing")."""
    from projects.services import agency_with_account

    ensure_may_route(actor.user, project)
    project = lock_project(project)
    ensure_may_route(actor.user, project)
    if (agency is None) == (not to_district):
        raise ValidationError("请选择一个施工图审查机构，或选择由项目所在地区县审核（二选一）。")
    if agency is not None:
        agency = agency_with_account(agency.credit_code)
        if agency is None:
            raise ValidationError("该施工图审查机构尚无审核账号，不能分派给它。")
        project.reviewing_agency = agency
        who, members = agency.name, agency_reviewers(agency.pk)
    else:
        project.routed_to_district = True
        who, members = project.authority.name, authority_reviewers(project.authority_id)
    project.save(update_fields=["reviewing_agency", "routed_to_district"])
    audit.record(
        actor,
        "review.route",
        project,
        project=project,
        changes={"reviewer": [None, who]},
        message=f"设计项目分派给{who}审核",
    )
    notifications.notify(
        [m.user for m in members.select_related("user")],
        project=project,
        title=f"设计项目“{project.name}”待审核",
        body=f"市城乡建委将设计项目“{project.name}”（{project.project_number}）分派给{who}审核，请在工作台中处理。",
    )
    return project


# ---------------------------------------------------------------- backfill windows


def window_change_problems(
    current: BackfillWindow | None, opens_on, closes_on, drawings_reviewed_by=None
) -> list[str]:
    """A window can be extended, never shortened (docs/domain.md, "Lessons taken from planning back-offices"): its
    end only moves later and its start only earlier, so nobody who could backfill yesterday is shut out by an edit
    today."""
    problems = []
    if opens_on > closes_on:
        problems.append(f"开始日期（{opens_on}）不能晚于截止日期（{closes_on}）。")
    if current is not None:
        if closes_on < current.closes_on:
            problems.append(f"截止日期只能延后，不能提前：当前为{current.closes_on}，不能改为{closes_on}。")
        if opens_on > current.opens_on:
            problems.append(
                f"开始日期只能提前，不能推后（会缩短补录时限）：当前为{current.opens_on}，不能改为{opens_on}。"
            )
        # The design records' cut-off widens the scope the same way: later, or kept (docs/design-projects.md).
        cutoff = current.drawings_reviewed_by
        if cutoff and (drawings_reviewed_by is None or drawings_reviewed_by < cutoff):
            problems.append(
                f"施工图审查完成日期截止只能延后，不能提前或清除：当前为{cutoff}，不能改为{drawings_reviewed_by or '空'}。"
            )
    return problems


KEEP = object()  # change_window: leave the cut-off as it is


def _window_refused(kwargs):
    window = kwargs["window"]
    return (window if window.pk else None), None


@audits_refusals("window.change", target=_window_refused, refusals=(PermissionDenied, RecordLocked))
@transaction.atomic
def change_window(
    *,
    actor: Actor,
    window: BackfillWindow,
    opens_on,
    closes_on,
    basis: str | None = None,
    drawings_reviewed_by=KEEP,
):
    """Create a window, or extend one (city only); for design records, set or move on the drawings' review cut-off
    (KEEP: unchanged). Audited; a refused attempt is audited too."""
    ensure_city(actor.user, "设置补录时限")
    current = BackfillWindow.objects.select_for_update().get(pk=window.pk) if window.pk else None
    if drawings_reviewed_by is KEEP:
        drawings_reviewed_by = current.drawings_reviewed_by if current else None
    problems = window_change_problems(current, opens_on, closes_on, drawings_reviewed_by)
    if problems:
        raise ValidationError(problems)
    target = current or BackfillWindow(enterprise_kind=window.enterprise_kind)
    before = audit.field_values(target) if current else {}
    target.opens_on, target.closes_on = opens_on, closes_on
    target.drawings_reviewed_by = drawings_reviewed_by
    if basis is not None:
        target.basis = basis
    target.full_clean()
    target.save()
    changes = audit.diff(before, audit.field_values(target))
    if changes:
        action = "window.change" if current else "window.create"
        audit.record(actor, action, target, changes=changes, message=str(target))
    return target

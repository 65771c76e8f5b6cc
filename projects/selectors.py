"""Reads: which records a user may see. Every page that shows a record goes through these."""

from django.db.models import Q
from django.shortcuts import get_object_or_404

from . import permissions, working_days
from .models import AuditEvent, Evidence, Notification, Project, ReviewComment


def visible_projects(user):
    """Enterprise: its own records. Reviewer: submitted records lying in its authority. City: all submitted
    (projects.permissions.visible_projects: the rule lives there)."""
    return permissions.visible_projects(user)


def own_projects(enterprise):
    return Project.objects.filter(enterprise=enterprise)


def search_projects(queryset, q: str, status: str = ""):
    if status:
        queryset = queryset.filter(status=status)
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(
            Q(name__icontains=q)
            | Q(project_number__icontains=q)
            | Q(registration__registration_number=q)
            | Q(tendering__award_notice_number=q)
            | Q(contract__filing_number=q)
            | Q(drawing_review__certificate_number=q)
            | Q(permit__permit_number=q)
            | Q(completion__filing_number=q)
        )
    return queryset


def get_visible_evidence(user, project_id, evidence_id) -> Evidence:
    """404 unless the user may see the project: an id guessed in the URL learns nothing."""
    project = get_object_or_404(visible_projects(user), pk=project_id)
    return get_object_or_404(Evidence.objects.select_related("project"), pk=evidence_id, project=project)


def open_review_comments(project, stage: str | None = None):
    """The comments of the latest return, not yet settled by a resubmission."""
    comments = ReviewComment.objects.filter(project=project, settled_by_version__isnull=True)
    if stage is not None:
        comments = comments.filter(stage=stage)
    return comments


def comments_by_field(comments) -> dict:
    grouped = {}
    for comment in comments:
        grouped.setdefault(comment.field or "", []).append(comment)
    return grouped


def inbox(user):
    return Notification.objects.filter(recipient=user).select_related("project")


def unread_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def project_history(project):
    """The record's events, oldest first, with the actors' memberships (projects.history reads them)."""
    return AuditEvent.objects.filter(project=project).select_related("actor__membership").order_by("id")


def progress_timeline(project) -> list[dict]:
    """进度查询: every change of the record's state, with its date, who acted (the organisation) and the days it
    took; a decision on a submission is measured against the review time limit, in working days of the official
    calendar (working_days.review_time_limit, docs/lifecycle.md)."""
    from django.utils import timezone

    from .models import Status

    limit = working_days.review_time_limit()
    events = AuditEvent.objects.filter(project=project, changes__has_key="status").order_by("id")
    steps, previous = [], None
    for event in events:
        before, after = (event.changes.get("status") or [None, None])[:2]
        day = timezone.localtime(event.occurred_at)
        step = {
            "when": day,
            "label": Status(after).label if after in Status.values else str(after),
            "organisation": event.organisation or "系统",
            "message": event.message,
            "days": None,
            "limit": None,
            "working_days": None,
            "late": False,
        }
        if previous is not None:
            step["days"] = (day.date() - previous.date()).days
            if before == Status.SUBMITTED:
                step.update(_against_limit(previous.date(), day.date(), limit))
        steps.append(step)
        previous = day
    if project.status == Status.SUBMITTED and previous is not None:
        today = timezone.localdate()
        steps.append(
            {
                "when": None,
                "label": "审核中",
                "organisation": project.authority.name,
                "message": "",
                "days": (today - previous.date()).days,
                **_against_limit(previous.date(), today, limit),
            }
        )
    return steps


def _against_limit(submitted, decided, limit) -> dict:
    waited = working_days.working_days_between(submitted, decided)
    return {"limit": limit, "working_days": waited, "late": waited > limit}

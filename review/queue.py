"""The work queue (待我审核): what waits for a console user, oldest first, against the review time limit.

A reviewer's queue: the submitted records of its authority assigned to it, then those not yet assigned, each by
its submission time, oldest first, with the working days it has waited (projects.working_days, the official calendar)
against settings.REVIEW_TIME_LIMIT_WORKING_DAYS (docs/lifecycle.md, "The review time limit"). Beside it, counts
and lists of the authority's records in notice, under objection and failed deliveries; later apps add their own
tabs (correction requests, a city department's spot-check items) through projects.extensions.register_work_count,
so a city user's queue is its corrections to decide and its items to check.

Every list is one query for its page (select_related), every count one query: the queue reads the same number
of queries at 10 and at 500 records.
"""

from dataclasses import dataclass
from html import escape

from django.db.models import Case, IntegerField, Q, Value, When
from django.template.backends.utils import csrf_input
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from backfill_portal.url_makers import url_maker
from projects import extensions, permissions
from projects.models import Project, Status
from projects.working_days import review_time_limit, working_days_between  # noqa: F401 (callers and tests import it from here)
from publicity.models import OutboxMessage, OutboxState
from publicity.timing import BEIJING

TODO = "todo"
IN_NOTICE = "notice"
OBJECTED = "objected"
FAILED = "failed"
TABS = {
    TODO: "待我审核",
    IN_NOTICE: "公示中",
    OBJECTED: "异议待处理",
    FAILED: "报送失败",
}


@dataclass
class QueueRow:
    project: Project
    waited: int  # working days since submission
    limit: int
    change_url: str = ""  # the review page
    take_url: str = ""

    @property
    def overdue(self) -> bool:
        return self.waited > self.limit

    @property
    def days_left(self) -> int:
        return self.limit - self.waited

    @property
    def overdue_by(self) -> int:
        return self.waited - self.limit

    @property
    def reviewer_name(self) -> str:
        assignment = getattr(self.project, "assignment", None)
        return assignment.reviewer.get_username() if assignment is not None else ""


def _authority_records(user):
    """The records the user reviews: its authority's (a design record once routed there) or its agency's."""
    return permissions.decided_projects(user)


def todo(user):
    """The submitted records of the reviewer's authority, assigned to it first, then unassigned, oldest first."""
    return (
        _authority_records(user)
        .filter(status=Status.SUBMITTED)
        .filter(Q(assignment__isnull=True) | Q(assignment__reviewer=user))
        .annotate(
            mine=Case(
                When(assignment__reviewer=user, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .select_related("enterprise", "assignment__reviewer")
        .order_by("mine", "submitted_at", "id")
    )


def in_status(user, status):
    return (
        _authority_records(user)
        .filter(status=status)
        .select_related("enterprise", "assignment__reviewer")
        .order_by("submitted_at", "id")
    )


def failed_deliveries(user):
    """Records whose delivery to the national platform failed for good: the reviewer's authority's, or all for
    the city (who may send them again: permissions.may_retry_delivery)."""
    failed = OutboxMessage.objects.filter(state=OutboxState.FAILED).values("project_id")
    if permissions.is_review_staff(user):
        records = _authority_records(user)
    elif permissions.is_city(user):
        records = Project.objects.all()
    else:
        records = Project.objects.none()
    return records.filter(pk__in=failed).select_related("enterprise", "assignment__reviewer").order_by("id")


def listing(user, tab):
    if tab == IN_NOTICE:
        return in_status(user, Status.IN_NOTICE)
    if tab == OBJECTED:
        return in_status(user, Status.OBJECTED)
    if tab == FAILED:
        return failed_deliveries(user)
    return todo(user)


def counts(user) -> dict[str, int]:
    if permissions.is_review_staff(user):
        return {
            TODO: todo(user).count(),
            IN_NOTICE: in_status(user, Status.IN_NOTICE).count(),
            OBJECTED: in_status(user, Status.OBJECTED).count(),
            FAILED: failed_deliveries(user).count(),
        }
    return {FAILED: failed_deliveries(user).count()}


def rows(projects, today=None) -> list[QueueRow]:
    """The page's records with the working days each has waited since its (latest) submission."""
    today = today or timezone.now().astimezone(BEIJING).date()
    limit = review_time_limit()
    change_url, take_url = url_maker("admin:projects_project_change"), url_maker("review:take")
    result = []
    for project in projects:
        submitted = project.submitted_at.astimezone(BEIJING).date() if project.submitted_at else today
        result.append(
            QueueRow(
                project=project,
                waited=working_days_between(submitted, today),
                limit=limit,
                change_url=change_url(project.pk),
                take_url=take_url(project.pk),
            )
        )
    return result


def other_work(user):
    """Tabs later apps registered (projects.extensions.register_work_count) that are this user's work:
    (the kind of work, its rows)."""
    return extensions.work_counts(user)


def tabs_of(user) -> list[tuple[str, str, int]]:
    """(key, label, count) of each tab the user has: a reviewer its authority's lists first, then the
    registered kinds of work (更正待处理…); the city its registered work first, then 报送失败. One count query
    a tab."""
    counted = counts(user)
    own = [(key, label, counted[key]) for key, label in TABS.items() if key in counted]
    registered = [(work.key, work.label, rows.count()) for work, rows in other_work(user)]
    return own + registered if permissions.is_review_staff(user) else registered + own


def awaiting_routing(user):
    """The city's design records waiting to be given to an agency or a district, oldest first; None for anyone
    else (not their work: the queue shows no tab, projects.extensions), and None while none waits: every city
    department may route, so the tab shows only when there is routing to do, and a department still lands on its
    own work otherwise."""
    if not permissions.is_city(user):
        return None
    waiting = permissions.awaiting_routing(user)
    if not waiting.exists():
        return None
    return waiting.select_related("enterprise", "authority", "drawing_review").order_by("submitted_at", "pk")


def rows_html(rows, *, tab: str, may_take: bool, request) -> SafeString:
    """The queue's rows as HTML, built in Python: the template's loop (with fifteen variables a row resolved,
    localised and escaped) was half of the queue's time (bench/README.md). Byte for byte what the loop gave
    (tests/test_queue.py keeps the loop as the reference); every value escaped as the template escaped it."""
    todo = tab == TODO
    csrf = None
    parts = []
    for row in rows:
        p = row.project
        name = escape(p.name)
        submitted = f"{timezone.localtime(p.submitted_at):%Y-%m-%d %H:%M}" if p.submitted_at else ""
        waited = ""
        if todo:
            if row.overdue:
                late = f' <strong class="overdue-mark">已超期{row.overdue_by}日</strong>'
            else:
                late = f'<span class="muted">（剩{row.days_left}日）</span>'
            waited = f'<td class="waited" data-label="已等待">{row.waited}个工作日{late}</td>'
        reviewer = row.reviewer_name
        if may_take and not reviewer:
            if csrf is None:
                csrf = csrf_input(request)
            action = (
                f'<form method="post" action="{escape(row.take_url)}" class="inline">{csrf}'
                f'<button type="submit" aria-label="领取并审核{name}">领取</button></form>'
            )
        else:
            action = f'<a href="{escape(row.change_url)}">查看</a>'
        parts.append(
            f'\n    <tr class="{"overdue" if row.overdue and todo else ""}" data-project="{p.pk}">\n'
            f'      <td data-label="项目编号">{escape(p.project_number)}</td>\n'
            f'      <td data-label="项目名称"><a href="{escape(row.change_url)}">{name}</a></td>\n'
            f'      <td data-label="补录企业">{escape(p.enterprise.name)}</td>\n'
            f'      <td data-label="提交时间">{submitted}</td>\n'
            f"      {waited}\n"
            f'      <td data-label="审核人员">{escape(reviewer) if reviewer else "未分派"}</td>\n'
            f'      <td data-label="操作">{action}</td>\n'
            "    </tr>\n  "
        )
    return mark_safe("".join(parts))

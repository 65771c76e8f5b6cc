"""Review's own pages beside the console (the console itself is the admin: review/admin.py)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects import audit, permissions
from projects.audit import Actor
from projects.identifiers import parse_row_id
from projects.models import Enterprise, EnterpriseKind, Project

from . import queue, reuse, services

PAGE_SIZE = 50


@login_required
def reuse_list(request):
    """The city's list of evidence reused across districts: the same file, or the same picture, in records of
    more than one authority (review.reuse). A finding to follow up, not a verdict."""
    with audit.refusals_recorded(Actor.from_request(request), "reuse.view"):
        permissions.ensure_city(request.user, "查看跨区县重复使用的证明材料")
    kind = reuse.SAME_PICTURE if request.GET.get("kind") == "picture" else reuse.SAME_FILE
    page = reuse.across_districts(kind, request.GET.get("page"))
    return render(request, "review/reuse_list.html", {"page": page, "kind": kind})


# ---------------------------------------------------------------- the work queue


@login_required
def work_queue(request):
    """The console user's landing page (review.queue): 待我审核 and the authority's other lists, with counts."""
    user = request.user
    if not permissions.is_console_user(user):
        raise PermissionDenied("此页面仅供审核人员和市级管理人员使用。")
    is_reviewer = permissions.is_review_staff(user)
    tab = request.GET.get("tab", queue.TODO if is_reviewer else queue.FAILED)
    if tab not in queue.TABS or (not is_reviewer and tab != queue.FAILED):
        tab = queue.TODO if is_reviewer else queue.FAILED
    page = Paginator(queue.listing(user, tab), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = queue.counts(user)
    tabs = [(key, label, counts[key]) for key, label in queue.TABS.items() if key in counts]
    return render(
        request,
        "review/queue.html",
        {
            "tab": tab,
            "tab_label": queue.TABS[tab],
            "tabs": tabs,
            "page": page,
            "rows": queue.rows(page.object_list),
            "other_work": queue.other_work(user),
            "may_take": is_reviewer and tab == queue.TODO,
            "limit": settings.REVIEW_TIME_LIMIT_WORKING_DAYS,
        },
    )


@require_POST
@login_required
def take(request, pk):
    """Assign a record to me in one click (review.services.assign: the policy's check, audited). Not narrowed to
    the visible records: a forged id of another authority's record reaches the service, which refuses it, and
    the refusal is audited."""
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404("没有这个项目。")
    actor = Actor.from_request(request)
    with audit.refusals_recorded(actor, "review.assign", project, project=project):
        if not permissions.is_review_staff(request.user):
            raise PermissionDenied("只有区县（开发区）主管部门或施工图审查机构的审核人员可以领取项目。")
    try:
        with audit.refusals_recorded(actor, "review.assign", project, project=project):
            services.assign(actor=actor, projects=[project], reviewer=request.user)
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        return redirect("review:queue")
    messages.success(request, f"已领取“{project.name}”，请审核。")
    return redirect("admin:projects_project_change", project.pk)


# ---------------------------------------------------------------- the city's queue of design records to route


def _agencies_with_account():
    return Enterprise.objects.filter(
        kind=EnterpriseKind.DRAWING_REVIEW,
        pk__in=permissions.agency_reviewers_with_account().values("enterprise_id"),
    ).order_by("name")


@login_required
def design_routing(request):
    """Design records whose certificate names an agency without a reviewer account wait here until the city gives
    each to an agency that has one or to the district where the project lies (docs/design-projects.md)."""
    with audit.refusals_recorded(Actor.from_request(request), "review.route.view"):
        permissions.ensure_city(request.user, "分派设计项目的审核")
    records = (
        permissions.awaiting_routing(request.user)
        .select_related("enterprise", "authority", "drawing_review")
        .order_by("submitted_at", "id")
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "review/design_routing.html",
        {"page": page, "agencies": list(_agencies_with_account())},
    )


@require_POST
@login_required
def route_design_project(request, pk):
    """Not narrowed to the queue: a forged id reaches the service, which refuses it and audits the refusal."""
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404("没有这个项目。")
    with audit.refusals_recorded(Actor.from_request(request), "review.route", project, project=project):
        permissions.ensure_city(request.user, "分派设计项目的审核")
    target = request.POST.get("target", "")
    agency = None
    if target.startswith("agency:"):
        agency_id = parse_row_id(target.removeprefix("agency:"))
        agency = Enterprise.objects.filter(pk=agency_id, kind=EnterpriseKind.DRAWING_REVIEW).first()
        if agency is None:
            raise Http404("没有这个施工图审查机构。")
    try:
        services.route_design_project(
            actor=Actor.from_request(request),
            project=project,
            agency=agency,
            to_district=target == "district",
        )
    except (PermissionDenied, services.RecordLocked, ValidationError) as refusal:
        messages.error(request, "；".join(getattr(refusal, "messages", [str(refusal)])))
    else:
        messages.success(request, f"已分派“{project.name}”。")
    return redirect("review:design_routing")

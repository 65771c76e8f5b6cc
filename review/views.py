"""Review's own pages beside the console (the console itself is the admin: review/admin.py)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from projects import audit, permissions, working_days
from projects.audit import Actor
from projects.identifiers import parse_row_id
from projects.models import Enterprise, EnterpriseKind, Project
from publicity import national_selectors

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
    """The console user's landing page (review.queue): 待我审核 and the authority's other lists for a reviewer,
    the registered kinds of work (更正待处理, 抽查待核查) for whoever they are the work of, each tab with its count."""
    user = request.user
    if not permissions.is_console_user(user):
        raise PermissionDenied("此页面仅供审核人员和市级管理人员使用。")
    tabs = queue.tabs_of(user)
    keys = [key for key, _label, _count in tabs]
    tab = request.GET.get("tab")
    tab = tab if tab in keys else keys[0]
    registered = {work.key: (work, rows) for work, rows in queue.other_work(user)}
    work, rows = registered.get(tab, (None, None))
    listing = rows if work is not None else queue.listing(user, tab)
    paginator = Paginator(listing, PAGE_SIZE)
    paginator.count = next(count for key, _label, count in tabs if key == tab)  # counted once, for its tab
    page = paginator.get_page(request.GET.get("page"))
    rows = [] if work is not None else queue.rows(page.object_list)
    may_take = permissions.is_review_staff(user) and tab == queue.TODO
    return render(
        request,
        "review/queue.html",
        {
            "tab": tab,
            "tab_label": dict((key, label) for key, label, _count in tabs)[tab],
            "tabs": tabs,
            "page": page,
            "work": work,
            "rows": rows,
            "rows_html": queue.rows_html(rows, tab=tab, may_take=may_take, request=request),
            "may_take": may_take,
            "limit": working_days.review_time_limit(),
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


# ---------------------------------------------------------------- the national platform's answers


@login_required
def national_answers(request):
    """全国平台退回与报送核对: the deliveries the national platform refused, each reason against the record's field,
    and what the daily read-back found missing or altered (docs/lifecycle.md, "Refused by the national platform"
    and "Read-back"). A reviewer sees its authority's records, the city all."""
    with audit.refusals_recorded(Actor.from_request(request), "national.view"):
        if not permissions.is_console_user(request.user):
            raise PermissionDenied("此页面仅供审核人员和市级管理人员使用。")
    refused = permissions.scoped_to_console(request.user, national_selectors.refusals())
    refused_page = Paginator(refused.select_related("project__authority"), PAGE_SIZE).get_page(
        request.GET.get("refused_page")
    )
    flags = permissions.scoped_to_console(request.user, national_selectors.open_discrepancies())
    flags_page = Paginator(flags.select_related("project__authority"), PAGE_SIZE).get_page(
        request.GET.get("flags_page")
    )
    return render(
        request,
        "review/national_answers.html",
        {
            "refused_page": refused_page,
            "refused_rows": [(m, national_selectors.refusal_rows(m)) for m in refused_page.object_list],
            "flags_page": flags_page,
        },
    )


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

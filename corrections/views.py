"""Correction pages (更正): the enterprise's request form and its requests and orders; the district's list, detail
and opinion; the city approval service center's decision; orders issued by authorities and the overdue ones.

Thin adapters over the app's selectors and services: every read through the selectors (scoped by who is asking: a request
of another enterprise or authority is a 404), every write through its services (which check the right again,
audit refusals, and say why in Chinese). A fixed number of queries per page whatever the data size.
"""

from datetime import timedelta
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects import permissions
from projects.audit import Actor, refusals_recorded
from projects.files import private_file_response
from projects.identifiers import parse_row_id
from projects.models import Project
from projects.services import RecordLocked
from publicity.models import LibraryEntry

from . import selectors, services, values
from .forms import DecisionForm, ItemFormSet, OpinionForm, OrderForm, RequestForm, SearchForm, WithdrawForm
from .models import CorrectionOrder

PAGE_SIZE = 20

# ---------------------------------------------------------------- helpers


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def _errors_to_messages(request, error: ValidationError):
    for message in error.messages:
        messages.error(request, message)


def _visible_request_or_404(user, reference):
    return get_object_or_404(
        selectors.visible_requests(user).select_related(
            "project__enterprise",
            "project__authority",
            "base_snapshot",
            "result_snapshot",
            "order",
            "filed_by",
            "district_by",
            "city_by",
        ),
        reference=reference,
    )


# ---------------------------------------------------------------- requests: list and detail (every role, scoped)


@login_required
def request_list(request):
    permissions.ensure_has_organisation(request.user)
    form = SearchForm(request.GET or None)
    q = status = ""
    if form.is_valid():
        q, status = form.cleaned_data["q"], form.cleaned_data["status"]
    requests = selectors.search_requests(selectors.visible_requests(request.user), q, status)
    page, querystring = _page(
        request,
        requests.select_related("project__enterprise", "project__authority").order_by("-filed_at", "-id"),
    )
    return render(
        request,
        "corrections/request_list.html",
        {
            "form": form,
            "page": page,
            "querystring": querystring,
            "is_enterprise": permissions.is_enterprise(request.user),
        },
    )


def _detail_context(request, correction, opinion_form=None, decision_form=None, withdraw_form=None):
    user = request.user
    may_opine = permissions.may_give_opinion(user, correction)
    may_decide = permissions.may_decide_correction(user, correction)
    may_withdraw = permissions.may_withdraw_correction(user, correction)
    entry = LibraryEntry.objects.filter(project_id=correction.project_id).only("id", "national_id").first()
    return {
        "correction": correction,
        "project": correction.project,
        "items": selectors.item_views(correction.items.all()),
        "evidence": list(correction.evidence.all()),
        "entry": entry,
        "is_enterprise": permissions.is_enterprise(user),
        "opinion_form": (opinion_form or OpinionForm()) if may_opine else None,
        "decision_form": (decision_form or DecisionForm()) if may_decide else None,
        "withdraw_form": (withdraw_form or WithdrawForm()) if may_withdraw else None,
    }


@login_required
def request_detail(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    return render(request, "corrections/request_detail.html", _detail_context(request, correction))


@login_required
def request_evidence(request, reference, evidence_id):
    """A private evidence file, served after the permission check (the request must be visible to the user)."""
    correction = get_object_or_404(selectors.visible_requests(request.user).only("id"), reference=reference)
    evidence = get_object_or_404(correction.evidence.all(), pk=evidence_id)
    return private_file_response(
        evidence.file, content_type=evidence.content_type, name=evidence.original_name
    )


@require_POST
@login_required
def request_opinion(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = OpinionForm(request.POST)
    if not form.is_valid():
        if permissions.may_give_opinion(request.user, correction):
            context = _detail_context(request, correction, opinion_form=form)
            return render(request, "corrections/request_detail.html", context, status=400)
        # Not theirs to give, or no longer open: the service refuses, says why and records the refusal.
        return _opinion(request, correction, accepts=False, opinion="")
    return _opinion(
        request,
        correction,
        accepts=form.cleaned_data["accepts"] == "yes",
        opinion=form.cleaned_data["opinion"],
    )


def _act(request, correction, service, success: str):
    """Call a correction service for the request and report the outcome on its page. A refusal of who may act is a
    403; a refusal of the state or bad input becomes an error message (the service has recorded the refusal)."""
    try:
        service(actor=Actor.from_request(request), request_id=correction.pk)
    except PermissionDenied:
        raise
    except RecordLocked as refusal:
        messages.error(request, str(refusal))
    except ValidationError as invalid:
        _errors_to_messages(request, invalid)
    else:
        messages.success(request, success)
    return redirect("corrections:detail", reference=correction.reference)


def _opinion(request, correction, *, accepts, opinion):
    return _act(
        request,
        correction,
        partial(services.give_district_opinion, accepts=accepts, opinion=opinion),
        "已出具更正意见：同意更正，已报市审批服务中心审定。" if accepts else "已出具更正意见：不同意更正。",
    )


@require_POST
@login_required
def request_decision(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        if permissions.may_decide_correction(request.user, correction):
            context = _detail_context(request, correction, decision_form=form)
            return render(request, "corrections/request_detail.html", context, status=400)
        return _decide(request, correction, approves=False, opinion="")
    return _decide(
        request,
        correction,
        approves=form.cleaned_data["approves"] == "yes",
        opinion=form.cleaned_data["opinion"],
    )


def _decide(request, correction, *, approves, opinion):
    return _act(
        request,
        correction,
        partial(services.decide_at_city, approves=approves, opinion=opinion),
        "已批准更正：更正后的信息进入10日公示。" if approves else "已审定：不予更正。",
    )


@require_POST
@login_required
def request_withdraw(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = WithdrawForm(request.POST)
    if not form.is_valid() and permissions.may_withdraw_correction(request.user, correction):
        context = _detail_context(request, correction, withdraw_form=form)
        return render(request, "corrections/request_detail.html", context, status=400)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        correction,
        partial(services.withdraw_correction_request, reason=reason),
        f"已撤回更正申请{correction.reference}。该记录保持入库时的内容。",
    )


# ---------------------------------------------------------------- the enterprise files a request


@login_required
def request_create(request, pk):
    """The request form. Whether the record may be corrected now is the service's to say
    (services.library_entry_to_correct): the page shows its refusal, and a refused POST is audited as the service's
    own refusal would be."""
    if not permissions.is_enterprise(request.user):
        raise PermissionDenied("此页面仅供企业填报人员使用。")
    # An enterprise's clerk sees its own records only: another enterprise's is a 404.
    project = get_object_or_404(permissions.visible_projects(request.user).select_related("authority"), pk=pk)
    actor = Actor.from_request(request)
    try:
        entry = _entry_to_correct(request, actor, project)
    except RecordLocked as refusal:
        messages.error(request, str(refusal))
        if isinstance(refusal, services.RequestAlreadyOpen) and request.method != "POST":
            return redirect("corrections:detail", reference=refusal.open_request.reference)
        return redirect("projects:project_detail", pk=project.pk)
    order = _order_answered(request, project)
    targets = values.correctable_targets(entry.snapshot.content)
    form = RequestForm(request.POST or None, request.FILES or None, initial={"statement": _answer_to(order)})
    formset = ItemFormSet(request.POST or None, prefix="items", form_kwargs={"targets": targets})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            correction = services.file_correction_request(
                actor=actor,
                project=project,
                statement=form.cleaned_data["statement"],
                items=_items_of(formset),
                evidence_files=form.cleaned_data["evidence"],
                order=order,
            )
        except RecordLocked as refusal:
            messages.error(request, str(refusal))
            return redirect("projects:project_detail", pk=project.pk)
        except ValidationError as invalid:
            for message in invalid.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"已提交更正申请（编号{correction.reference}），等待区县主管部门核查。")
            return redirect("corrections:detail", reference=correction.reference)
    context = {"project": project, "entry": entry, "form": form, "formset": formset, "targets": targets}
    return render(
        request,
        "corrections/request_form.html",
        {**context, "order": order},
        status=400 if request.method == "POST" else 200,
    )


def _entry_to_correct(request, actor, project):
    """The service's answer; a refused POST is recorded as `correction.file.refused` (nothing of it is read)."""
    if request.method != "POST":
        return services.library_entry_to_correct(project)
    with refusals_recorded(actor, "correction.file", project, project=project, refusals=services.REFUSALS):
        return services.library_entry_to_correct(project)


def _order_answered(request, project):
    """The order (of this record) the request answers, from ?order= or the POST; None when it answers none."""
    order_id = request.POST.get("order") or request.GET.get("order")
    if not order_id:
        return None
    return get_object_or_404(CorrectionOrder, pk=parse_row_id(order_id) or 0, project=project)


def _answer_to(order) -> str:
    if order is None:
        return ""
    return f"答复{order.issuer_name}{order.issued_at:%Y年%m月%d日}的更正通知：{order.finding}"


def _items_of(formset) -> list[dict]:
    """The formset's filled rows as the service takes them."""
    items = []
    for item in formset.cleaned_data:
        if not item:
            continue
        stage, field = values.split_target(item["target"])
        items.append(
            {
                "stage": stage,
                "field": field,
                "proposed_value": item["proposed_value"],
                "reason": item["reason"],
            }
        )
    return items


# ---------------------------------------------------------------- orders (责令更正)


@login_required
def order_list(request):
    """Enterprise: the orders it must answer. Reviewer: its authority's. City: all. ?overdue=1: past due, unanswered."""
    permissions.ensure_has_organisation(request.user)
    overdue = request.GET.get("overdue") == "1"
    orders = selectors.overdue_orders(request.user) if overdue else selectors.visible_orders(request.user)
    q = (request.GET.get("q") or "").strip()[:100]
    page, querystring = _page(
        request,
        selectors.search_orders(orders, q)
        .select_related("project__enterprise", "project__authority")
        .order_by("due_on", "-id"),
    )
    user = request.user
    return render(
        request,
        "corrections/order_list.html",
        {
            "page": page,
            "querystring": querystring,
            "overdue": overdue,
            "q": q,
            "today": timezone.localdate(),
            "is_enterprise": permissions.is_enterprise(user),
            # Offered to reviewers, the city and a superuser without a membership. A superuser who also has an
            # enterprise's membership is not offered the link, yet may open the form (order_create): kept as it
            # was, docs/corrections.md ("Orders").
            "may_issue": permissions.is_reviewer(user)
            or (permissions.is_city(user) and not permissions.is_enterprise(user)),
        },
    )


@login_required
def order_create(request):
    # The service checks the record too (ensure_may_order); the page is for those who may order at all.
    if not (permissions.is_reviewer(request.user) or permissions.is_city(request.user)):
        raise PermissionDenied("只有区县（开发区）主管部门或市级管理人员可以发出更正通知。")
    initial = {
        "project_number": (request.GET.get("project") or "")[:16],
        "due_on": timezone.localdate() + timedelta(days=values.DEFAULT_ORDER_DAYS),
    }
    form = OrderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["project_number"].strip()
        project = Project.objects.filter(project_number=number).first()
        if project is None:
            form.add_error("project_number", permissions.NO_PROJECT_TO_ORDER.format(number=number))
        else:
            try:
                order = services.issue_correction_order(
                    actor=Actor.from_request(request),
                    project=project,
                    finding=form.cleaned_data["finding"],
                    due_on=form.cleaned_data["due_on"],
                )
            except (PermissionDenied, RecordLocked) as refusal:
                form.add_error("project_number", str(refusal))
            except ValidationError as invalid:
                for message in invalid.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    f"已向{project.enterprise.name}发出更正通知，应答期限{order.due_on:%Y-%m-%d}。",
                )
                return redirect("corrections:orders")
    return render(
        request,
        "corrections/order_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )

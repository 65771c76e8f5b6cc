"""Correction pages (更正): the enterprise's request form and its requests and orders; the district's list, detail
and opinion; the city approval service center's decision; orders issued by authorities and the overdue ones.

Thin adapters over review/corrections.py: every read through its selectors (scoped by who is asking: a request
of another enterprise or authority is a 404), every write through its services (which check the right again,
audit refusals, and say why in Chinese). A fixed number of queries per page whatever the data size.
"""

from datetime import timedelta
from functools import partial
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects import permissions
from projects.audit import Actor
from projects.forms import DateField
from projects.models import Project, Role, Status
from projects.services import RecordLocked
from publicity.models import LibraryEntry

from .. import corrections
from ..models import CorrectionOrder, CorrectionStatus

PAGE_SIZE = 20

# ---------------------------------------------------------------- forms


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern): cleaned to a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class RequestForm(forms.Form):
    statement = forms.CharField(
        label="更正申请说明",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="写明哪些内容有误、为什么有误；每一项更正在下方逐项列明。",
    )
    evidence = MultipleFileField(
        label="证明材料",
        required=False,
        help_text=f"PDF、JPEG或PNG，可多选（最多{corrections.MAX_EVIDENCE_FILES}份），按文件内容识别，与扩展名无关。",
    )


class ItemForm(forms.Form):
    target = forms.ChoiceField(label="需更正的内容")
    proposed_value = forms.CharField(
        label="更正为", max_length=2000, help_text="日期写作2016-07-01；是/否字段写“是”或“否”。"
    )
    reason = forms.CharField(label="错误原因", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, targets=(), **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for target in targets:
            groups.setdefault(target["section_label"], []).append((target["key"], target["label"]))
        self.fields["target"].choices = [("", "请选择字段"), *groups.items()]


ItemFormSet = forms.formset_factory(
    ItemForm, extra=2, min_num=1, validate_min=True, max_num=corrections.MAX_ITEMS, validate_max=True
)


class OpinionForm(forms.Form):
    accepts = forms.ChoiceField(
        label="核查结论",
        choices=[("yes", "同意更正，报市审批服务中心审定"), ("no", "不同意更正")],
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(
        label="更正意见", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), help_text="写明理由。"
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="撤回原因（可不填）", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DecisionForm(forms.Form):
    approves = forms.ChoiceField(
        label="审定结论", choices=[("yes", "批准更正"), ("no", "不予更正")], widget=forms.RadioSelect
    )
    opinion = forms.CharField(label="审定意见", max_length=5000, widget=forms.Textarea(attrs={"rows": 3}))


class OrderForm(forms.Form):
    project_number = forms.CharField(
        label="项目编号", max_length=16, help_text="已入全国平台项目库的项目的16位编号。"
    )
    finding = forms.CharField(label="发现的问题", max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    due_on = DateField(label="应答期限")


class SearchForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态"), *CorrectionStatus.choices]
    )


# ---------------------------------------------------------------- helpers


def _membership(user):
    return getattr(user, "membership", None)


def _ensure_has_organisation(user):
    if _membership(user) is None and not user.is_superuser:
        raise PermissionDenied("您的账号尚未关联单位，请联系管理员。")


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
        corrections.visible_requests(user).select_related(
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
    _ensure_has_organisation(request.user)
    form = SearchForm(request.GET or None)
    q = status = ""
    if form.is_valid():
        q, status = form.cleaned_data["q"], form.cleaned_data["status"]
    requests = corrections.search_requests(corrections.visible_requests(request.user), q, status)
    page, querystring = _page(
        request,
        requests.select_related("project__enterprise", "project__authority").order_by("-filed_at", "-id"),
    )
    membership = _membership(request.user)
    return render(
        request,
        "review/corrections/request_list.html",
        {
            "form": form,
            "page": page,
            "querystring": querystring,
            "is_enterprise": membership is not None and membership.role == Role.ENTERPRISE,
        },
    )


def _detail_context(request, correction, opinion_form=None, decision_form=None, withdraw_form=None):
    user = request.user
    may_opine = corrections.may_give_opinion(user, correction)
    may_decide = corrections.may_decide(user, correction)
    may_withdraw = corrections.may_withdraw(user, correction)
    entry = LibraryEntry.objects.filter(project_id=correction.project_id).only("id", "national_id").first()
    return {
        "correction": correction,
        "project": correction.project,
        "items": corrections.item_views(correction.items.all()),
        "evidence": list(correction.evidence.all()),
        "entry": entry,
        "is_enterprise": getattr(_membership(user), "role", None) == Role.ENTERPRISE,
        "opinion_form": (opinion_form or OpinionForm()) if may_opine else None,
        "decision_form": (decision_form or DecisionForm()) if may_decide else None,
        "withdraw_form": (withdraw_form or WithdrawForm()) if may_withdraw else None,
    }


@login_required
def request_detail(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    return render(request, "review/corrections/request_detail.html", _detail_context(request, correction))


@login_required
def request_evidence(request, reference, evidence_id):
    """A private evidence file, served after the permission check (the request must be visible to the user)."""
    correction = get_object_or_404(corrections.visible_requests(request.user).only("id"), reference=reference)
    evidence = get_object_or_404(correction.evidence.all(), pk=evidence_id)
    response = FileResponse(evidence.file.open("rb"), content_type=evidence.content_type)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(evidence.original_name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; object-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def request_opinion(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = OpinionForm(request.POST)
    if not form.is_valid():
        if corrections.may_give_opinion(request.user, correction):
            context = _detail_context(request, correction, opinion_form=form)
            return render(request, "review/corrections/request_detail.html", context, status=400)
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
    return redirect("correction_detail", reference=correction.reference)


def _opinion(request, correction, *, accepts, opinion):
    return _act(
        request,
        correction,
        partial(corrections.give_district_opinion, accepts=accepts, opinion=opinion),
        "已出具更正意见：同意更正，已报市审批服务中心审定。" if accepts else "已出具更正意见：不同意更正。",
    )


@require_POST
@login_required
def request_decision(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        if corrections.may_decide(request.user, correction):
            context = _detail_context(request, correction, decision_form=form)
            return render(request, "review/corrections/request_detail.html", context, status=400)
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
        partial(corrections.decide_at_city, approves=approves, opinion=opinion),
        "已批准更正：更正后的信息进入10日公示。" if approves else "已审定：不予更正。",
    )


@require_POST
@login_required
def request_withdraw(request, reference):
    correction = _visible_request_or_404(request.user, reference)
    form = WithdrawForm(request.POST)
    if not form.is_valid() and corrections.may_withdraw(request.user, correction):
        context = _detail_context(request, correction, withdraw_form=form)
        return render(request, "review/corrections/request_detail.html", context, status=400)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        correction,
        partial(corrections.withdraw_correction_request, reason=reason),
        f"已撤回更正申请{correction.reference}。该记录保持入库时的内容。",
    )


# ---------------------------------------------------------------- the enterprise files a request


@login_required
def request_create(request, pk):
    membership = _membership(request.user)
    if membership is None or membership.role != Role.ENTERPRISE:
        raise PermissionDenied("此页面仅供企业填报人员使用。")
    project = get_object_or_404(
        Project.objects.filter(enterprise_id=membership.enterprise_id).select_related("authority"), pk=pk
    )
    entry = LibraryEntry.objects.select_related("snapshot").filter(project=project).first()
    in_library = entry is not None and project.status == Status.IN_NATIONAL_LIBRARY
    open_request = corrections.open_request_of(project)
    if request.method == "POST" and (not in_library or open_request is not None):
        # The service refuses (and records the refusal); nothing of the POST is read.
        try:
            corrections.file_correction_request(
                actor=Actor.from_request(request), project=project, statement="", items=[], evidence_files=[]
            )
        except (RecordLocked, ValidationError) as refusal:
            for message in getattr(refusal, "messages", None) or [str(refusal)]:
                messages.error(request, message)
        return redirect("project_detail", pk=project.pk)
    if not in_library or open_request is not None:
        if open_request is not None:
            messages.error(
                request,
                f"该项目已有正在办理的更正申请（编号{open_request.reference}，{open_request.get_status_display()}），"
                "办结后才能再次申请。",
            )
            return redirect("correction_detail", reference=open_request.reference)
        messages.error(
            request,
            f"该项目当前状态为“{project.get_status_display()}”，不是已入全国平台项目库的记录，不能申请更正。"
            + ("请待本次公示和入库完成后再申请。" if entry is not None else ""),
        )
        return redirect("project_detail", pk=project.pk)

    order_id = request.POST.get("order") or request.GET.get("order")
    order = None
    if order_id:
        order = get_object_or_404(
            CorrectionOrder, pk=order_id if str(order_id).isdigit() else 0, project=project
        )
    targets = corrections.correctable_targets(entry.snapshot.content) if entry else []

    form = RequestForm(
        request.POST or None,
        request.FILES or None,
        initial={
            "statement": f"答复{order.issuer_name}{order.issued_at:%Y年%m月%d日}的更正通知：{order.finding}"
            if order
            else "",
        },
    )
    formset = ItemFormSet(request.POST or None, prefix="items", form_kwargs={"targets": targets})
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        items = []
        for item in formset.cleaned_data:
            if not item:
                continue
            stage, field = corrections.split_target(item["target"])
            items.append(
                {
                    "stage": stage,
                    "field": field,
                    "proposed_value": item["proposed_value"],
                    "reason": item["reason"],
                }
            )
        try:
            correction = corrections.file_correction_request(
                actor=Actor.from_request(request),
                project=project,
                statement=form.cleaned_data["statement"],
                items=items,
                evidence_files=form.cleaned_data["evidence"],
                order=order,
            )
        except RecordLocked as refusal:
            messages.error(request, str(refusal))
            return redirect("project_detail", pk=project.pk)
        except ValidationError as invalid:
            for message in invalid.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"已提交更正申请（编号{correction.reference}），等待区县主管部门核查。")
            return redirect("correction_detail", reference=correction.reference)
    return render(
        request,
        "review/corrections/request_form.html",
        {
            "project": project,
            "entry": entry,
            "form": form,
            "formset": formset,
            "targets": targets,
            "order": order,
        },
        status=400 if request.method == "POST" else 200,
    )


# ---------------------------------------------------------------- orders (责令更正)


@login_required
def order_list(request):
    """Enterprise: the orders it must answer. Reviewer: its authority's. City: all. ?overdue=1: past due, unanswered."""
    _ensure_has_organisation(request.user)
    overdue = request.GET.get("overdue") == "1"
    orders = corrections.overdue_orders(request.user) if overdue else corrections.visible_orders(request.user)
    q = (request.GET.get("q") or "").strip()[:100]
    page, querystring = _page(
        request,
        corrections.search_orders(orders, q)
        .select_related("project__enterprise", "project__authority")
        .order_by("due_on", "-id"),
    )
    membership = _membership(request.user)
    return render(
        request,
        "review/corrections/order_list.html",
        {
            "page": page,
            "querystring": querystring,
            "overdue": overdue,
            "q": q,
            "today": timezone.localdate(),
            "is_enterprise": membership is not None and membership.role == Role.ENTERPRISE,
            "may_issue": membership is not None
            and membership.role in (Role.REVIEWER, Role.CITY)
            or (membership is None and request.user.is_superuser),
        },
    )


@login_required
def order_create(request):
    membership = _membership(request.user)
    if not (
        membership is not None and membership.role in (Role.REVIEWER, Role.CITY) or request.user.is_superuser
    ):
        raise PermissionDenied("只有区县（开发区）主管部门或市级管理人员可以发出更正通知。")
    initial = {
        "project_number": (request.GET.get("project") or "")[:16],
        "due_on": timezone.localdate() + timedelta(days=corrections.DEFAULT_ORDER_DAYS),
    }
    form = OrderForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["project_number"].strip()
        project = Project.objects.filter(project_number=number).first()
        if project is None:
            form.add_error("project_number", permissions.NO_PROJECT_TO_ORDER.format(number=number))
        else:
            try:
                order = corrections.issue_correction_order(
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
                return redirect("correction_orders")
    return render(
        request,
        "review/corrections/order_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )

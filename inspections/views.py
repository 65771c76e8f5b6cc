"""Spot-check pages for city staff: campaigns (list, create, detail, draw), a department's work list, and an item's
finding form. Thin adapters over inspections' services and selectors: who may do what is the services' (a refusal is audited
there); these pages only show what the user may do and turn refusals into messages or a 403 page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from corrections.models import CorrectionOrder
from projects.audit import Actor
from projects.files import private_file_response
from projects.models import CityDepartment, Evidence, RecordLocked, StageCode
from projects.permissions import department_of, may_record_finding
from projects.views import city_required

from . import selectors, services
from .forms import CampaignForm, DrawForm, FindingForm, MatchingForm, OrderCorrectionForm, SearchForm
from .models import Finding, SpotCheckCampaign

PAGE_SIZE = services.PAGE_SIZE


def add_service_errors(form, invalid: ValidationError):
    """A service's ValidationError beside the form's fields (or above them, for a field the form lacks)."""
    if hasattr(invalid, "error_dict"):
        for field, errors in invalid.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in invalid.messages:
            form.add_error(None, error)


# ---------------------------------------------------------------- campaigns


def _search(request):
    form = SearchForm(request.GET or None)
    if form.is_valid():
        return form, form.cleaned_data["q"], form.cleaned_data["finding"]
    return form, "", ""


@city_required
def campaign_list(request):
    form, q, _finding = _search(request)
    page = selectors.campaign_page(q, request.GET.get("page"))
    return render(request, "inspections/campaign_list.html", {"form": form, "page": page})


@city_required
def campaign_create(request):
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.create_campaign(
                actor=Actor.from_request(request),
                name=data["name"],
                authorities=list(data["authorities"]),
                stages=data["stages"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                sample_rate=data["sample_rate"],
                sample_size=data["sample_size"],
            )
        except ValidationError as invalid:
            add_service_errors(form, invalid)
        else:
            messages.success(request, f"已创建抽查任务“{campaign.name}”。核对条件后即可抽取样本。")
            return redirect("inspections:campaign", pk=campaign.pk)
    return render(request, "inspections/campaign_form.html", {"form": form})


@city_required
def campaign_matching(request):
    """How many records the conditions being filled in match (JSON for static/inspections/campaign.js): the
    campaign form shows it live, before anything is created or drawn."""
    form = MatchingForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {}
    authorities, start, end = data.get("authorities"), data.get("period_start"), data.get("period_end")
    if not (authorities and start and end) or start > end:
        return JsonResponse(
            {"count": None, "text": "选择区县（开发区）并填写入库期间后，这里显示符合条件的记录数。"}
        )
    count = selectors.matching_count(authorities, start, end)
    if count == 0:
        text = "按目前的条件，没有符合条件的记录：这样的抽查任务抽取不到任何样本，请调整区县或入库期间。"
    else:
        text = f"按目前的条件，共有{count}条符合条件的记录可供抽取。"
    return JsonResponse({"count": count, "text": text})


@city_required
def campaign_detail(request, pk):
    campaign = get_object_or_404(
        SpotCheckCampaign.objects.select_related("created_by", "drawn_by").prefetch_related("authorities"),
        pk=pk,
    )
    form, _q, finding = _search(request)
    page = Paginator(selectors.campaign_items(campaign, finding=finding), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "inspections/campaign_detail.html",
        {
            "campaign": campaign,
            "stage_labels": [StageCode(code).label for code in campaign.stages],
            "page": page,
            "form": form,
            "draw_form": DrawForm(),
            **_before_the_draw(campaign),
        },
    )


def _before_the_draw(campaign) -> dict:
    """What an undrawn campaign's page says before the draw: how many records match now, how many it would draw."""
    if campaign.drawn_at is not None:
        return {}
    matching = selectors.matching_count(
        campaign.authorities.all(), campaign.period_start, campaign.period_end
    )
    return {"matching": matching, "to_draw": services.sample_size_for(campaign, matching)}


@require_POST
@city_required
def campaign_draw(request, pk):
    campaign = get_object_or_404(SpotCheckCampaign, pk=pk)
    form = DrawForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"抽取失败：{error}")
        return redirect("inspections:campaign", pk=campaign.pk)
    try:
        campaign = services.draw_sample(
            actor=Actor.from_request(request), campaign_id=campaign.pk, seed=form.cleaned_data["seed"]
        )
    except RecordLocked as refusal:
        messages.error(request, str(refusal))
    except ValidationError as invalid:
        messages.error(request, "抽取失败：" + "；".join(invalid.messages))
    else:
        messages.success(
            request,
            f"已抽取样本：符合条件的记录{campaign.population_size}条，生成抽查事项{campaign.items.count()}个。"
            f"本次抽取的复核码为{campaign.seed}（已记录，任何人可用它重抽核对）。",
        )
    return redirect("inspections:campaign", pk=campaign.pk)


@city_required
def campaign_redraw(request, pk):
    """Draw a drawn campaign's sample again with its 复核码 and say whether it is the same (services.redraw): a
    check anyone of the city can run, changing nothing."""
    campaign = get_object_or_404(SpotCheckCampaign, pk=pk, drawn_at__isnull=False)
    return render(
        request,
        "inspections/campaign_redraw.html",
        {"campaign": campaign, "result": services.redraw(campaign)},
    )


# ---------------------------------------------------------------- a department's work


@city_required
def work_list(request):
    form, q, finding = _search(request)
    items = selectors.work_list(request.user, q=q, finding=finding)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    department = department_of(request.user)
    return render(
        request,
        "inspections/work_list.html",
        {
            "form": form,
            "page": page,
            "department": department,
            "department_label": dict(CityDepartment.choices).get(department, ""),
        },
    )


def _item_or_404(request, pk):
    item = selectors.item_for_city(request.user, pk)
    if item is None:
        raise Http404("没有这个抽查事项。")
    return item


@city_required
def item_detail(request, pk):
    """The item, what the library holds for its stage, its evidence, and the finding form for its department."""
    item = _item_or_404(request, pk)
    may_record = may_record_finding(request.user, item) and item.finding == Finding.PENDING
    form = FindingForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        actor = Actor.from_request(request)
        services.check_finding_permission(actor=actor, item=item)  # another department: 403, audited
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_finding(
                    actor=actor,
                    item_id=item.pk,
                    finding=data["finding"],
                    notes=data["notes"],
                    evidence=data["evidence"],
                    correction_due_on=data["correction_due_on"],
                )
            except RecordLocked as refusal:
                messages.error(request, str(refusal))
                return redirect("inspections:item", pk=item.pk)
            except ValidationError as invalid:
                add_service_errors(form, invalid)
            else:
                note = "，并已通知企业更正" if data["correction_due_on"] else ""
                messages.success(request, f"已记录核查结论“{Finding(data['finding']).label}”{note}。")
                return redirect("inspections:item", pk=item.pk)
    evidence = Evidence.objects.filter(project_id=item.project_id, stage=item.stage, archived_at__isnull=True)
    orders = list(CorrectionOrder.objects.filter(spot_check_item=item))
    return render(
        request,
        "inspections/item_detail.html",
        {
            "item": item,
            "rows": selectors.stage_snapshot_rows(item),
            "evidence": evidence,
            "form": form,
            "may_record": may_record,
            "may_order": may_record_finding(request.user, item)
            and item.finding in services.FINDINGS_NEEDING_NOTES
            and not orders,
            "orders": orders,
            "order_form": OrderCorrectionForm(),
            "is_false": item.finding == Finding.FALSE_INFORMATION,
        },
    )


@require_POST
@city_required
def item_order_correction(request, pk):
    item = _item_or_404(request, pk)
    services.check_finding_permission(
        actor=Actor.from_request(request), item=item, action="spot_check.order_correction"
    )
    form = OrderCorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写应答期限。")
        return redirect("inspections:item", pk=item.pk)
    try:
        services.order_correction(
            actor=Actor.from_request(request), item_id=item.pk, due_on=form.cleaned_data["due_on"]
        )
    except (RecordLocked, ValidationError) as refusal:
        messages.error(request, "；".join(getattr(refusal, "messages", [str(refusal)])))
    else:
        messages.success(request, f"已通知企业在{form.cleaned_data['due_on']:%Y-%m-%d}前提交更正申请。")
    return redirect("inspections:item", pk=item.pk)


@city_required
def item_evidence(request, pk):
    """The checker's evidence file, to city staff only (never publicly, never to the enterprise here)."""
    item = _item_or_404(request, pk)
    stored = getattr(item, "evidence_file", None)
    if stored is None:
        raise Http404("该抽查事项没有核查材料。")
    return private_file_response(stored.file, content_type=stored.content_type, name=stored.original_name)

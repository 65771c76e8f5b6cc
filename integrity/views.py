"""Integrity pages: the public blacklist query, and for city staff the register (query, add from a false-information
finding, lift, export to Excel and CSV) and each enterprise's ledger of deductions. Thin adapters over
integrity.services (writes) and integrity.selectors (reads).

The public page (no login) shows only what the construction-market blacklist publishes: the enterprise's name and
credit code, the reason, and the dates of listings in force. Nothing internal (source finding, notes, evidence,
who listed or lifted) is read for it.
"""

import csv
import io
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from inspections.models import Finding, SpotCheckItem
from inspections.views import add_service_errors
from projects.audit import Actor
from projects.models import Enterprise, RecordLocked
from projects.views import city_required

from . import selectors, services
from .forms import BlacklistForm, BlacklistSearchForm, DeductionForm, EnterpriseSearchForm, ReasonForm
from .models import Blacklisting

PAGE_SIZE = 20


def _query(request, *, allow_ended: bool):
    query = selectors.BlacklistQuery.from_params(request.GET, allow_ended=allow_ended)
    form = BlacklistSearchForm(request.GET or None)
    form.is_valid()
    if query.problem:
        form.add_error("credit_code", query.problem)
    return query, form


# ---------------------------------------------------------------- public


@require_GET
def public_blacklist(request):
    """The public query (no login): listings in force, by credit code or name."""
    query, form = _query(request, allow_ended=False)
    rows = selectors.blacklist_rows(query).only(
        "id", "reason", "starts_on", "ends_on", "enterprise__name", "enterprise__credit_code"
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "integrity/public_blacklist.html", {"form": form, "page": page, "query": query})


# ---------------------------------------------------------------- the register (city)


@city_required
def blacklist_manage(request):
    query, form = _query(request, allow_ended=True)
    rows = selectors.blacklist_rows(query).select_related("source_item", "source_item__campaign", "listed_by")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    return render(
        request,
        "integrity/blacklist_manage.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "rows": [(listing, selectors.listing_state(listing, today)) for listing in page],
            "querystring": request.GET.urlencode(),
        },
    )


def _export_name(extension: str) -> str:
    name = f"建筑市场黑名单-{timezone.localdate():%Y%m%d}.{extension}"
    return f"attachment; filename=blacklist.{extension}; filename*=UTF-8''{quote(name)}"


@city_required
def blacklist_export_xlsx(request):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    query, _form = _query(request, allow_ended=True)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("黑名单")
    sheet.append(selectors.EXPORT_HEADERS)
    for row in selectors.export_rows(query):
        sheet.append([_text_cell(sheet, value, WriteOnlyCell) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = _export_name("xlsx")
    response["Cache-Control"] = "private, no-store"
    return response


def _text_cell(sheet, value: str, cell_class):
    """Every cell of the register is text: openpyxl would store a reason typed as "=HYPERLINK(...)" as a formula
    that Excel runs on opening."""
    cell = cell_class(sheet, value=value)
    cell.data_type = "s"
    return cell


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (=, +, -, @) is prefixed with an apostrophe."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@city_required
def blacklist_export_csv(request):
    query, _form = _query(request, allow_ended=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(selectors.EXPORT_HEADERS)
    for row in selectors.export_rows(query):
        writer.writerow([_csv_safe(value) for value in row])
    # UTF-8 with a byte-order mark: Excel opens the Chinese text correctly only with it.
    response = HttpResponse(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = _export_name("csv")
    response["Cache-Control"] = "private, no-store"
    return response


@city_required
def blacklist_add(request, item_id):
    """List the enterprise of a false-information finding."""
    item = get_object_or_404(
        SpotCheckItem.objects.select_related("campaign", "project", "project__enterprise"), pk=item_id
    )
    today = timezone.localdate()
    initial = {
        "reason": f"项目“{item.project.name}”（{item.project.project_number}）{item.get_stage_display()}信息经抽查认定虚假。",
        "starts_on": today,
        "ends_on": today.replace(year=today.year + 1)
        if not (today.month == 2 and today.day == 29)
        else today,
    }
    form = BlacklistForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.blacklist(actor=Actor.from_request(request), source_item_id=item.pk, **form.cleaned_data)
        except RecordLocked as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as invalid:
            add_service_errors(form, invalid)
        else:
            messages.success(request, f"已将{item.project.enterprise.name}列入黑名单。")
            return redirect("integrity:blacklist_manage")
    return render(
        request,
        "integrity/blacklist_add.html",
        {"form": form, "item": item, "is_false": item.finding == Finding.FALSE_INFORMATION},
    )


@city_required
def blacklist_lift(request, pk):
    listing = get_object_or_404(Blacklisting.objects.select_related("enterprise"), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.lift_blacklisting(
                actor=Actor.from_request(request),
                blacklisting_id=listing.pk,
                reason=form.cleaned_data["reason"],
            )
        except RecordLocked as refusal:
            messages.error(request, str(refusal))
            return redirect("integrity:blacklist_manage")
        except ValidationError as invalid:
            add_service_errors(form, invalid)
        else:
            messages.success(request, f"已将{listing.enterprise.name}提前移出黑名单。")
            return redirect("integrity:blacklist_manage")
    return render(
        request,
        "integrity/blacklist_lift.html",
        {"form": form, "listing": listing, "state": selectors.listing_state(listing)},
    )


# ---------------------------------------------------------------- the ledger (city)


@city_required
def enterprise_list(request):
    form = EnterpriseSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.enterprises_with_records(q), PAGE_SIZE).get_page(request.GET.get("page"))
    base = selectors.base_score()
    rows = [(enterprise, max(0, base - (enterprise.deducted or 0))) for enterprise in page]
    return render(
        request,
        "integrity/enterprise_list.html",
        {"form": form, "page": page, "rows": rows, "base": base},
    )


@city_required
def ledger(request, pk):
    enterprise = get_object_or_404(Enterprise, pk=pk)
    form = DeductionForm(request.POST or None, initial={"source_item": request.GET.get("item") or None})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        source = None
        if data["source_item"]:
            source = SpotCheckItem.objects.filter(pk=data["source_item"]).first()
            if source is None:
                form.add_error("source_item", "没有这个抽查事项。")
        if not form.errors:
            try:
                services.deduct_points(
                    actor=Actor.from_request(request),
                    enterprise=enterprise,
                    points=data["points"],
                    reason=data["reason"],
                    source_item=source,
                )
            except ValidationError as invalid:
                add_service_errors(form, invalid)
            else:
                messages.success(request, f"已对{enterprise.name}扣{data['points']}分。")
                return redirect("integrity:ledger", pk=enterprise.pk)
    page = Paginator(selectors.ledger(enterprise), PAGE_SIZE).get_page(request.GET.get("page"))
    listings = list(enterprise.blacklistings.order_by("-starts_on", "-id"))
    today = timezone.localdate()
    return render(
        request,
        "integrity/ledger.html",
        {
            "enterprise": enterprise,
            "score": selectors.integrity_score(enterprise),
            "base": selectors.base_score(),
            "page": page,
            "form": form,
            "listings": [(listing, selectors.listing_state(listing, today)) for listing in listings],
        },
    )

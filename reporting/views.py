"""The city's figures per district: the dashboard (table, SVG charts) and its Excel export. City staff and
superusers only; anyone else signed in gets the 403 page, like the enterprise pages refuse non-enterprises."""

from urllib.parse import quote

from django.http import HttpResponse
from django.shortcuts import render

from projects.views import city_required

from . import figures


@city_required
def dashboard(request):
    table = figures.figures_table()
    agencies, awaiting_routing = figures.agency_figures()
    return render(
        request,
        "reporting/dashboard.html",
        {
            "table": table,
            "agency_headers": figures.AGENCY_HEADERS,
            "agency_rows": figures.agency_display_rows(agencies),
            "awaiting_routing": awaiting_routing,
            "headers": figures.HEADERS,
            "header_groups": figures.HEADER_GROUPS,
            "rows": figures.display_rows(table),
            "status_chart": figures.status_chart(table.rows),
            "review_time_chart": figures.review_time_chart(
                table.rows, table.thresholds.max_median_review_days
            ),
        },
    )


@city_required
def export_xlsx(request):
    table = figures.figures_table()
    response = HttpResponse(figures.export_workbook(table), content_type=figures.XLSX_CONTENT_TYPE)
    name = f"各区县补录统计-{table.today:%Y%m%d}.xlsx"
    response["Content-Disposition"] = (
        f"attachment; filename=\"district-figures-{table.today:%Y%m%d}.xlsx\"; filename*=UTF-8''{quote(name)}"
    )
    response["Cache-Control"] = "private, no-store"
    return response

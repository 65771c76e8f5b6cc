"""The public site's front door, paper and 业绩 pages (publicity/urls.py lists them first, in the publicity namespace)."""

from django.urls import path

import backfill_portal.converters  # noqa: F401  (registers <identifier:…>)

from . import paper, performance, site

urlpatterns = [
    path("guide/", site.guide, name="guide"),
    path("notices/export.pdf", paper.notice_list_pdf, name="notice_list_pdf"),
    path("notices/export.xlsx", paper.notice_list_xlsx, name="notice_list_xlsx"),
    path("notices/<int:notice_id>/notice.pdf", paper.notice_pdf, name="notice_pdf"),
    path("library/performance/", performance.lookup, name="performance_lookup"),
    path(
        "library/enterprises/<identifier:credit_code>/", performance.enterprise, name="performance_enterprise"
    ),
]

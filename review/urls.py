"""URLs of review's own pages (issue 5). The review console itself lives in the admin (review/admin.py)."""

from django.urls import path  # noqa: F401

import backfill_portal.converters  # noqa: F401  (registers <identifier:…>)
from review.views import corrections as correction_views
from review.views import figures as figures_views
from review.views import integrity as integrity_views
from review.views import spot_checks as spot_check_views

urlpatterns: list = [
    # corrections (review/views/corrections.py)
    path("corrections/", correction_views.request_list, name="correction_list"),
    path("corrections/orders/", correction_views.order_list, name="correction_orders"),
    path("corrections/orders/new/", correction_views.order_create, name="correction_order_create"),
    path("corrections/<identifier:reference>/", correction_views.request_detail, name="correction_detail"),
    path(
        "corrections/<identifier:reference>/opinion/",
        correction_views.request_opinion,
        name="correction_opinion",
    ),
    path(
        "corrections/<identifier:reference>/withdraw/",
        correction_views.request_withdraw,
        name="correction_withdraw",
    ),
    path(
        "corrections/<identifier:reference>/decision/",
        correction_views.request_decision,
        name="correction_decision",
    ),
    path(
        "corrections/<identifier:reference>/evidence/<int:evidence_id>/",
        correction_views.request_evidence,
        name="correction_evidence",
    ),
    path("projects/<int:pk>/corrections/new/", correction_views.request_create, name="correction_create"),
    # spot checks and integrity (review/views/spot_checks.py, review/views/integrity.py)
    path("city/spot-checks/", spot_check_views.campaign_list, name="spot_check_campaigns"),
    path("city/spot-checks/new/", spot_check_views.campaign_create, name="spot_check_campaign_create"),
    path("city/spot-checks/<int:pk>/", spot_check_views.campaign_detail, name="spot_check_campaign"),
    path("city/spot-checks/<int:pk>/draw/", spot_check_views.campaign_draw, name="spot_check_draw"),
    path("city/spot-checks/work/", spot_check_views.work_list, name="spot_check_work"),
    path("city/spot-checks/items/<int:pk>/", spot_check_views.item_detail, name="spot_check_item"),
    path(
        "city/spot-checks/items/<int:pk>/order-correction/",
        spot_check_views.item_order_correction,
        name="spot_check_order_correction",
    ),
    path(
        "city/spot-checks/items/<int:pk>/evidence/",
        spot_check_views.item_evidence,
        name="spot_check_evidence",
    ),
    path("city/integrity/blacklist/", integrity_views.blacklist_manage, name="blacklist_manage"),
    path(
        "city/integrity/blacklist/export.xlsx",
        integrity_views.blacklist_export_xlsx,
        name="blacklist_export_xlsx",
    ),
    path(
        "city/integrity/blacklist/export.csv",
        integrity_views.blacklist_export_csv,
        name="blacklist_export_csv",
    ),
    path("city/integrity/blacklist/add/<int:item_id>/", integrity_views.blacklist_add, name="blacklist_add"),
    path("city/integrity/blacklist/<int:pk>/lift/", integrity_views.blacklist_lift, name="blacklist_lift"),
    path("city/integrity/enterprises/", integrity_views.enterprise_list, name="integrity_enterprises"),
    path("city/integrity/enterprises/<int:pk>/", integrity_views.ledger, name="integrity_ledger"),
    path("blacklist/", integrity_views.public_blacklist, name="blacklist_public"),
    # the city's figures per district (review/views/figures.py)
    path("city/figures/", figures_views.dashboard, name="city_figures"),
    path("city/figures/export.xlsx", figures_views.export_xlsx, name="city_figures_export"),
]

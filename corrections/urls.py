"""The correction pages: the enterprise's requests and answers to orders, the district's opinion, the city's
decision, the authorities' orders."""

from django.urls import path

import backfill_portal.converters  # noqa: F401  (registers <identifier:…>)

from . import views

app_name = "corrections"

urlpatterns = [
    path("corrections/", views.request_list, name="list"),
    path("corrections/orders/", views.order_list, name="orders"),
    path("corrections/orders/new/", views.order_create, name="order_create"),
    path("corrections/<identifier:reference>/", views.request_detail, name="detail"),
    path("corrections/<identifier:reference>/opinion/", views.request_opinion, name="opinion"),
    path("corrections/<identifier:reference>/withdraw/", views.request_withdraw, name="withdraw"),
    path("corrections/<identifier:reference>/decision/", views.request_decision, name="decision"),
    path(
        "corrections/<identifier:reference>/evidence/<int:evidence_id>/",
        views.request_evidence,
        name="evidence",
    ),
    path("projects/<int:pk>/corrections/new/", views.request_create, name="create"),
]

"""The city's spot-check pages: campaigns, the sample, each department's work list and findings."""

from django.urls import path

from . import views

app_name = "inspections"

urlpatterns = [
    path("city/spot-checks/", views.campaign_list, name="campaigns"),
    path("city/spot-checks/new/", views.campaign_create, name="campaign_create"),
    path("city/spot-checks/matching/", views.campaign_matching, name="matching"),
    path("city/spot-checks/<int:pk>/", views.campaign_detail, name="campaign"),
    path("city/spot-checks/<int:pk>/draw/", views.campaign_draw, name="draw"),
    path("city/spot-checks/<int:pk>/redraw/", views.campaign_redraw, name="redraw"),
    path("city/spot-checks/work/", views.work_list, name="work"),
    path("city/spot-checks/items/<int:pk>/", views.item_detail, name="item"),
    path(
        "city/spot-checks/items/<int:pk>/order-correction/",
        views.item_order_correction,
        name="order_correction",
    ),
    path("city/spot-checks/items/<int:pk>/evidence/", views.item_evidence, name="evidence"),
]

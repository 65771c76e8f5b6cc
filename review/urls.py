"""URLs of review's own pages. The review console itself lives in the admin (review/admin.py)."""

from django.urls import path

from . import views

app_name = "review"

urlpatterns = [
    path("review/queue/", views.work_queue, name="queue"),
    path("review/queue/<int:pk>/take/", views.take, name="take"),
    path("city/reused-evidence/", views.reuse_list, name="reuse_list"),
    path("review/national/", views.national_answers, name="national_answers"),
    path("city/design-routing/", views.design_routing, name="design_routing"),
    path("city/design-routing/<int:pk>/", views.route_design_project, name="route_design_project"),
]

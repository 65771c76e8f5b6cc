from django.urls import path

from . import views

app_name = "projects"

urlpatterns = [
    path("", views.home, name="home"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/selected/", views.project_selected, name="project_selected"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/check/", views.self_check, name="self_check"),
    path("projects/<int:pk>/submit/", views.project_submit, name="project_submit"),
    path("projects/<int:pk>/withdraw/", views.project_withdraw, name="project_withdraw"),
    path("projects/<int:pk>/history/", views.project_history, name="project_history"),
    path("projects/<int:pk>/receipts/<int:receipt_id>.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("receipts/<str:token>/", views.receipt_verify, name="receipt_verify"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_mark_read, name="inbox_mark_read"),
    path("projects/<int:pk>/stages/<str:stage_code>/", views.stage_edit, name="stage_edit"),
    path(
        "projects/<int:pk>/stages/<str:stage_code>/evidence/", views.evidence_upload, name="evidence_upload"
    ),
    path("projects/<int:pk>/evidence/<int:evidence_id>/", views.evidence_view, name="evidence_view"),
    path(
        "projects/<int:pk>/evidence/<int:evidence_id>/delete/",
        views.evidence_archive,
        name="evidence_archive",
    ),
]

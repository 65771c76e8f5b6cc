from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("projects/import/", views.import_home, name="home"),
    path("projects/import/template.xlsx", views.template, name="template"),
    path("projects/import/export.xlsx", views.export, name="export"),
    path("projects/import/<int:pk>/", views.job_detail, name="job"),
    path("projects/import/<int:pk>/status/", views.job_status, name="job_status"),
    path("projects/import/<int:pk>/annotated.xlsx", views.job_annotated, name="job_annotated"),
]

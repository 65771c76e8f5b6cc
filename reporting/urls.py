"""The city's figures per district."""

from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("city/figures/", views.dashboard, name="figures"),
    path("city/figures/export.xlsx", views.export_xlsx, name="figures_export"),
]

"""The blacklist and the integrity ledger: the city's pages and the public blacklist."""

from django.urls import path

from . import views

app_name = "integrity"

urlpatterns = [
    path("city/integrity/blacklist/", views.blacklist_manage, name="blacklist_manage"),
    path("city/integrity/blacklist/export.xlsx", views.blacklist_export_xlsx, name="blacklist_export_xlsx"),
    path("city/integrity/blacklist/export.csv", views.blacklist_export_csv, name="blacklist_export_csv"),
    path("city/integrity/blacklist/add/<int:item_id>/", views.blacklist_add, name="blacklist_add"),
    path("city/integrity/blacklist/<int:pk>/lift/", views.blacklist_lift, name="blacklist_lift"),
    path("city/integrity/enterprises/", views.enterprise_list, name="enterprises"),
    path("city/integrity/enterprises/<int:pk>/", views.ledger, name="ledger"),
    path("blacklist/", views.public_blacklist, name="blacklist_public"),
]

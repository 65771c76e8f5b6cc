"""The personal API tokens page (a page of the portal, not of the API)."""

from django.urls import path

from . import views

app_name = "api_tokens"

urlpatterns = [
    path("account/api-tokens/", views.token_list, name="list"),
    path("account/api-tokens/<int:token_id>/revoke/", views.token_revoke, name="revoke"),
]

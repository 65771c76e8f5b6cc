"""Admin registrations for reference data. The review console and the backfill windows are the review app's."""

from django.contrib import admin

from .models import Authority, Enterprise, Membership


@admin.register(Authority)
class AuthorityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent_code"]
    search_fields = ["code", "name"]


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "credit_code", "kind"]
    search_fields = ["name", "credit_code"]
    list_filter = ["kind"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "enterprise", "authority"]
    list_filter = ["role"]
    autocomplete_fields = ["enterprise", "authority"]

"""Admin registrations for reference data. The review console and the backfill windows are the review app's."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backfill_portal import passwords

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


admin.site.unregister(get_user_model())
# django-otp's own device pages would show any user's secret (and its QR code) to whoever may open them: the
# security administrator resets a user's second step from the account security list instead.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(get_user_model())
class PortalUserAdmin(UserAdmin):
    """Django's user admin, except that a password set here for someone else must be changed at its holder's first
    login (backfill_portal/passwords.py)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            passwords.record_administrator_set(obj, by=request.user)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # changed (a refused form is a 200)
            passwords.record_administrator_set(self.get_object(request, unquote(id)), by=request.user)
        return response

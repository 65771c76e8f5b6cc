"""Admin registrations for reference data, accounts and the audit trail. The review console and the backfill windows
are the review app's.

The three administrators (三员分立, docs/security.md) each see only their own pages, as projects.permissions says:
- the system administrator: users' accounts (not another administrator's or a superuser's), enterprises, authorities;
- the security administrator: memberships (who acts for which organisation as what), 账号安全 (login and two-factor
  locks, two-factor resets);
- the audit administrator: the audit trail, read only, its export and its chain check (projects/retention.py).
Nobody adds, changes or deletes an audit event here, a superuser included. Only a superuser makes administrators.
Nothing is deleted in bulk (the delete action is off site-wide), so every admin change is one LogEntry, and one audit
event (projects/administrators.py).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from backfill_portal import passwords, two_factor

from . import administrators, audit, permissions, retention
from .audit import Actor, refusals_recorded
from .models import (
    AccountSecurity,
    AdministratorDuty,
    AuditCheck,
    AuditEvent,
    Authority,
    Enterprise,
    Membership,
)

admin.site.disable_action("delete_selected")


class DutyAdmin(admin.ModelAdmin):
    """A page of one administrator's work: `may` is the policy's check for it; nothing is deleted."""

    may = staticmethod(lambda user: False)

    def has_module_permission(self, request):
        return self.may(request.user)

    def has_view_permission(self, request, obj=None):
        return self.may(request.user)

    def has_add_permission(self, request):
        return self.may(request.user)

    def has_change_permission(self, request, obj=None):
        return self.may(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class OrganisationAdmin(DutyAdmin):
    """The system administrator's; the security administrator reads them (to pick one for a membership)."""

    may = staticmethod(permissions.may_manage_accounts)

    def has_view_permission(self, request, obj=None):
        return permissions.may_manage_accounts(request.user) or permissions.may_manage_roles(request.user)


@admin.register(Authority)
class AuthorityAdmin(OrganisationAdmin):
    list_display = ["code", "name", "kind", "parent_code"]
    search_fields = ["code", "name"]


@admin.register(Enterprise)
class EnterpriseAdmin(OrganisationAdmin):
    list_display = ["name", "credit_code", "kind"]
    search_fields = ["name", "credit_code"]
    list_filter = ["kind"]


@admin.register(Membership)
class MembershipAdmin(DutyAdmin):
    """Roles: the security administrator's. An administrator or superuser is given no membership (no business role
    on top of its duty)."""

    may = staticmethod(permissions.may_manage_roles)
    list_display = ["user", "role", "enterprise", "authority"]
    list_filter = ["role"]
    autocomplete_fields = ["enterprise", "authority"]

    def has_delete_permission(self, request, obj=None):
        return permissions.may_manage_roles(request.user)  # taking a role away

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        user_field = form.base_fields.get("user")
        if user_field is not None:
            user_field.queryset = user_field.queryset.filter(
                administrator_duty__isnull=True, is_superuser=False
            )
        return form


@admin.register(AdministratorDuty)
class AdministratorDutyAdmin(DutyAdmin):
    """Making administrators: the superuser's, at installation."""

    may = staticmethod(permissions.may_assign_duties)
    list_display = ["user", "duty", "assigned_at"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "user" in form.base_fields:
            form.base_fields["user"].queryset = form.base_fields["user"].queryset.filter(
                membership__isnull=True, is_superuser=False
            )
        return form


admin.site.unregister(get_user_model())
# django-otp's own device pages would show any user's secret (and its QR code) to whoever may open them: the
# security administrator resets a user's second step from 账号安全 instead.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)


@admin.register(get_user_model())
class PortalUserAdmin(UserAdmin):
    """Django's user admin, for the system administrator: ordinary accounts only (not an administrator's or a
    superuser's: permissions.may_change_account), without the superuser flag, groups or model permissions (only a
    superuser sets those), never deleted (made inactive instead). A password set here for someone else must be
    changed at its holder's first login (backfill_portal/passwords.py)."""

    SUPERUSER_ONLY = ("is_superuser", "groups", "user_permissions")

    def has_module_permission(self, request):
        return permissions.may_manage_accounts(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.may_manage_accounts(request.user) and (
            obj is None or permissions.may_change_account(request.user, obj)
        )

    def has_add_permission(self, request):
        return permissions.may_manage_accounts(request.user)

    def has_change_permission(self, request, obj=None):
        return self.has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(is_superuser=False, administrator_duty__isnull=True)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in self.SUPERUSER_ONLY]})
            for name, options in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            passwords.record_administrator_set(obj, by=request.user)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # changed (a refused form is a 200)
            passwords.record_administrator_set(self.get_object(request, unquote(id)), by=request.user)
        return response


# ---------------------------------------------------------------- the security administrator: locks and 2FA


@admin.register(AccountSecurity)
class AccountSecurityAdmin(DutyAdmin):
    may = staticmethod(permissions.may_manage_roles)
    list_display = ["username", "role", "second_step", "second_step_locked"]
    search_fields = ["username"]
    actions = ["reset_two_factor", "unlock_two_factor", "unlock_login"]
    list_per_page = 50

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the actions below are its only changes

    def get_queryset(self, request):
        # One query for the page: roles, whether the app is on and the locks are annotations, not a query a row.
        return (
            super()
            .get_queryset(request)
            .select_related("membership__enterprise", "membership__authority", "administrator_duty")
            .annotate(has_app=two_factor.has_app(), **two_factor.last_lockout_failures(OuterRef("pk")))
        )

    @admin.display(description="角色")
    def role(self, obj):
        duty = permissions.administrator_duty(obj)
        if duty:
            return obj.administrator_duty.get_duty_display()
        membership = permissions.membership_of(obj)
        return f"{membership.get_role_display()} · {membership.organisation_name}" if membership else ""

    @admin.display(description="二次验证")
    def second_step(self, obj):
        return two_factor.describe(obj, enabled=obj.has_app)

    @admin.display(description="二次验证锁定至")
    def second_step_locked(self, obj):
        until = two_factor.lock_end(obj.totpdevice_locked_at, obj.staticdevice_locked_at)
        return f"{timezone.localtime(until):%Y-%m-%d %H:%M}" if until else ""

    def _each(self, request, queryset, service, done):
        actor = Actor.from_request(request)
        try:
            for user in queryset:
                service(actor=actor, user=user)
        except PermissionDenied as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return
        self.message_user(request, done.format(n=len(queryset)))

    @admin.action(description="重置二次验证（手机丢失：删除身份验证器和恢复码）", permissions=["view"])
    def reset_two_factor(self, request, queryset):
        self._each(request, queryset, two_factor.reset, "已重置{n}个账号的二次验证。")

    @admin.action(description="解除二次验证锁定", permissions=["view"])
    def unlock_two_factor(self, request, queryset):
        self._each(request, queryset, two_factor.unlock, "已解除{n}个账号的二次验证锁定。")

    @admin.action(description="解除登录锁定（密码错误次数过多）", permissions=["view"])
    def unlock_login(self, request, queryset):
        self._each(request, queryset, administrators.unlock_login, "已解除{n}个账号的登录锁定。")


# ---------------------------------------------------------------- the audit administrator: the trail, read only


class AuditExportForm(forms.Form):
    start = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(label="格式", choices=[("csv", "CSV"), ("xlsx", "Excel")], initial="csv")

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise forms.ValidationError("起始日期不能晚于截止日期。")
        return data


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read only, to the audit administrator (and a superuser), with its export and the chain
    check (projects/retention.py). No one adds, changes or deletes an event: these pages cannot, the model refuses
    it and PostgreSQL refuses it below them (docs/security.md, "Audit retention")."""

    change_list_template = "admin/projects/auditevent/change_list.html"

    list_display = [
        "id",
        "occurred_at",
        "actor_username",
        "organisation",
        "ip_address",
        "action_label",
        "message",
    ]
    list_filter = [("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=actor_username", "^action"]
    date_hierarchy = "occurred_at"
    list_per_page = 100
    show_full_result_count = False
    ordering = ["-id"]

    def has_module_permission(self, request):
        return permissions.may_read_audit(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.may_read_audit(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="操作", ordering="action")
    def action_label(self, obj):
        return retention.label_of(obj.action)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="projects_auditevent_export"),
            path("verify/", view(require_POST(self.verify_view)), name="projects_auditevent_verify"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {**(extra_context or {}), "latest_check": retention.latest_check()}
        )

    def export_view(self, request):
        """The form; with `format` given, the file: streamed, every event of the range with its hashes."""
        actor = Actor.from_request(request)
        with refusals_recorded(actor, "audit.export"):
            permissions.ensure_audit_administrator(request.user, "导出审计记录")
        form = AuditExportForm(request.GET if "format" in request.GET else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "form": form,
                "title": "导出审计记录",
                "opts": self.opts,
            }
            status = 400 if form.is_bound else 200
            return TemplateResponse(request, "admin/projects/auditevent/export.html", context, status=status)
        start, end, kind = form.cleaned_data["start"], form.cleaned_data["end"], form.cleaned_data["format"]
        span = f"{start or '最早'}至{end or '最新'}"
        audit.record(
            actor,
            "audit.export",
            None,
            changes={"start": start and str(start), "end": end and str(end), "format": kind},
            message=f"导出审计记录（{span}，{kind.upper()}）",
        )
        events = retention.events_between(start, end)
        name = f"audit-{start or 'begin'}-{end or timezone.localdate()}"
        if kind == "xlsx":
            return FileResponse(retention.xlsx_file(events), as_attachment=True, filename=f"{name}.xlsx")
        response = StreamingHttpResponse(retention.csv_lines(events), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response

    def verify_view(self, request):
        actor = Actor.from_request(request)
        with refusals_recorded(actor, "audit.verify"):
            permissions.ensure_audit_administrator(request.user, "核验审计链")
        check = retention.check_chain(checked_by=request.user.get_username())
        audit.record(actor, "audit.verify", None, message=check.report)
        self.message_user(request, check.report, messages.SUCCESS if check.intact else messages.ERROR)
        return redirect("admin:projects_auditevent_changelist")


@admin.register(AuditCheck)
class AuditCheckAdmin(admin.ModelAdmin):
    """The chain checks, daily and asked for: read only, to the audit administrator."""

    list_display = ["checked_at", "checked_by", "intact", "events_checked", "report"]
    list_filter = ["intact"]

    def has_module_permission(self, request):
        return permissions.may_read_audit(request.user)

    def has_view_permission(self, request, obj=None):
        return permissions.may_read_audit(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

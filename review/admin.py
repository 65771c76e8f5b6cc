"""The review console (补录项目审核): the district authorities' and the city's view of submitted records.

Nothing of a record is edited here. Reviewers and city users hold no Django model permissions: what they may see
and which forms the page offers are the policy's (projects.permissions, docs/permissions.md), whether a decision
stands is review.services'. The page
of a record is the admin's read-only change view plus the six stages, evidence, rule findings, comments,
decisions and the changes since the previous submission; the three decisions POST to URLs of their own.
Below them, the record's public side: its notice, the objections to it (dismissed or upheld here, by a reviewer of
the record's authority) and its delivery to the national platform (a failed one is sent again from here). The
deliveries also have a list of their own, so that permanent failures can be found.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition

from projects import audit, rules
from projects import selectors as project_selectors
from projects.audit import Actor
from projects.files import private_file_response
from projects.identifiers import parse_row_id
from projects.models import STAGE_ORDER, BackfillWindow, Enterprise, Project
from projects.permissions import (
    is_city,
    is_console_user,
    is_review_staff,
    may_decide,
    may_handle_objections,
    may_retry_delivery,
    scoped_to_console,
)
from projects.services import RecordLocked
from publicity import services as publicity_services
from publicity.models import NoticeState, Objection, ObjectionStatus, OutboxMessage

from . import reuse, selectors, services
from .forms import ApproveForm, BackfillWindowForm, ObjectionOutcomeForm, RejectForm, ReturnForm
from .models import Assignment
from .paginator import CappedChangeList, CappedCountPaginator, page_wanted

# ---------------------------------------------------------------- filters


class StageFilter(admin.SimpleListFilter):
    """Which stages a record has: a record started on a start-of-work approval has no permit stage, say."""

    title = "环节"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [
            ("complete", "六个环节齐全"),
            *[(code, f"缺少{rules.STAGE_LABELS[code]}") for code in STAGE_ORDER],
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "complete":
            return queryset.filter(**{f"{code}__isnull": False for code in STAGE_ORDER})
        if value in STAGE_ORDER:
            return queryset.filter(**{f"{value}__isnull": True})
        return queryset


class EnterpriseFilter(admin.SimpleListFilter):
    """The enterprises that have records the user can see (one query); beyond LIMIT, search by credit code.

    As `EXISTS` for each enterprise in name order (projects/0020's index of the names): PostgreSQL stops after
    LIMIT enterprises, each answered from the index of its records. As `IN (SELECT enterprise_id …)` it read
    every visible record first (a million for the city) to find the enterprises."""

    title = "补录企业"
    parameter_name = "enterprise"
    LIMIT = 100

    def lookups(self, request, model_admin):
        visible = model_admin.get_queryset(request).filter(enterprise_id=OuterRef("pk"))
        enterprises = Enterprise.objects.filter(Exists(visible)).order_by("name").values_list("pk", "name")
        return [(str(pk), name) for pk, name in enterprises[: self.LIMIT]]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        enterprise_id = parse_row_id(value)
        if enterprise_id is None:
            return queryset.none()
        return queryset.filter(enterprise_id=enterprise_id)


# ---------------------------------------------------------------- the console


@admin.register(Project)
class ProjectReviewAdmin(admin.ModelAdmin):
    list_display = [
        "project_number",
        "name",
        "enterprise",
        "authority",
        "kind",
        "project_type",
        "status",
        "submitted_at",
        "assigned_reviewer",
    ]
    list_display_links = ["project_number", "name"]
    list_filter = [
        "status",
        "kind",
        "project_type",
        StageFilter,
        EnterpriseFilter,
        ("submitted_at", admin.DateFieldListFilter),
    ]
    # Shown as the search box's scope; get_search_results() below does the matching (exact, index-backed).
    search_fields = [
        "name",
        "^project_number",
        "=enterprise__credit_code",
        "=registration__registration_number",
        "=tendering__award_notice_number",
        "=contract__filing_number",
        "=drawing_review__certificate_number",
        "=permit__permit_number",
        "=completion__filing_number",
    ]
    search_help_text = "项目名称（包含）、项目编号（开头）、补录企业统一社会信用代码，或任一环节的文件编号（完整编号，如施工许可证编号、合同备案编号）。"
    list_select_related = ["enterprise", "authority", "assignment__reviewer"]
    list_per_page = 50
    paginator = CappedCountPaginator  # no COUNT(*) of a million rows on every page
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would scan the whole list on every page
    ordering = ["-submitted_at", "-id"]
    actions = ["assign_to_me"]
    fieldsets = [
        (
            "项目基本信息",
            {
                "fields": [
                    "project_number",
                    "kind",
                    "name",
                    "enterprise_display",
                    "authority_display",
                    "county_code",
                    "address",
                    "project_type",
                    "is_classified",
                    "is_completed",
                    "start_basis",
                    "already_in_national_library",
                    "total_investment",
                    "total_area",
                ]
            },
        ),
        (
            "状态",
            {
                "fields": [
                    "status",
                    "reviewed_by_display",
                    "assigned_reviewer",
                    "created_by_display",
                    "created_at",
                    "first_submitted_at",
                    "submitted_at",
                    "updated_at",
                ]
            },
        ),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    # ------------------------------------------------------------ who sees what

    def get_queryset(self, request):
        if request.user.is_superuser:
            return Project.objects.all()
        return project_selectors.visible_projects(request.user)

    def get_object(self, request, object_id, from_field=None):
        """A record opened by id that the user may not see answers as one that does not exist (the admin's
        redirect), and the trail records who asked for which id (docs/permissions.md, "Refusals are audited"):
        an agency reviewer opening another agency's design record, a reviewer another district's record."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None and is_console_user(request.user):
            asked = parse_row_id(object_id)
            audit.record_refusal(
                Actor.from_request(request),
                "project.view",
                Project(pk=asked) if asked else None,
                message="该补录项目不存在或不在本单位的审核范围内。",
            )
        return obj

    def has_module_permission(self, request):
        return is_console_user(request.user)

    def has_view_permission(self, request, obj=None):
        return is_console_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the record is the enterprise's; reviewers decide, they do not edit

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_filter(self, request):
        if is_city(request.user):  # the city sees every district's records
            return [*self.list_filter, "authority"]
        return self.list_filter

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(selectors.search_filter(search_term)), False

    def get_changelist(self, request, **kwargs):
        return CappedChangeList  # a page asked for past the true end shows the last one (review.paginator)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        paginator.page_wanted = page_wanted(request)  # counted exactly on the last page (review.paginator)
        return paginator

    # ------------------------------------------------------------ columns and read-only fields

    @admin.display(description="审核人员", ordering="assignment__reviewer__username")
    def assigned_reviewer(self, obj):
        try:
            reviewer = obj.assignment.reviewer
        except Assignment.DoesNotExist:
            return "未分派"
        return reviewer.get_full_name() or reviewer.get_username()

    @admin.display(description="补录企业")
    def enterprise_display(self, obj):
        return f"{obj.enterprise.name}（统一社会信用代码 {obj.enterprise.credit_code}）"

    @admin.display(description="项目所在地审核部门")
    def authority_display(self, obj):
        return obj.authority.name

    @admin.display(description="审核单位")
    def reviewed_by_display(self, obj):
        """Who decides: the district, or for a design record its agency, its district or the city's queue."""
        if not obj.is_design or obj.routed_to_district:
            return obj.authority.name
        if obj.reviewing_agency_id:
            return f"{obj.reviewing_agency.name}（施工图审查机构）"
        return "待市城乡建委分派（审查合格书所列审查机构尚无审核账号）" if obj.status != "draft" else "—"

    @admin.display(description="录入人")
    def created_by_display(self, obj):
        return obj.created_by.get_full_name() or obj.created_by.get_username()

    # ------------------------------------------------------------ the safe bulk action

    @admin.action(description="分派给我")
    def assign_to_me(self, request, queryset):
        try:
            count = services.assign(
                actor=Actor.from_request(request), projects=queryset, reviewer=request.user
            )
        except PermissionDenied as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
        else:
            self.message_user(request, f"已将{count}个项目分派给您。", messages.SUCCESS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_review_staff(request.user):
            actions.pop("assign_to_me", None)
        return actions

    def get_action_choices(self, request, default_choices=(("", "请选择操作"),)):
        return super().get_action_choices(request, default_choices=list(default_choices))

    # ------------------------------------------------------------ pages

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "补录项目审核", **(extra_context or {})})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(selectors.review_page(obj))
            context["reused_evidence"] = reuse.annotate_stages(request.user, obj, context["stages"])
            context["title"] = f"审核：{obj.name}"
            context["may_decide"] = may_decide(request.user, obj)
            if context["may_decide"]:
                initial = {"expected_status": obj.status}
                # Three forms on one page: ids prefixed so that none repeats.
                context["approve_form"] = ApproveForm(initial=initial, auto_id="approve_%s")
                context["return_form"] = ReturnForm(
                    initial=initial, auto_id="return_%s", stages=obj.stage_codes
                )
                context["reject_form"] = RejectForm(initial=initial, auto_id="reject_%s")
            context.update(self.publicity_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)

    def publicity_context(self, request, obj) -> dict:
        panel = selectors.publicity_panel(obj)
        handles = may_handle_objections(request.user, obj)
        notice = panel["notice"]
        return {
            **panel,
            "notice_days_left": notice.days_left() if notice is not None else None,
            "objection_rows": [
                {
                    "objection": objection,
                    "forms": handles and objection.status == ObjectionStatus.PENDING,
                    # One pair of forms per pending objection: ids prefixed so that none repeats.
                    "dismiss_form": ObjectionOutcomeForm(auto_id=f"dismiss_{objection.pk}_%s"),
                    "uphold_form": ObjectionOutcomeForm(auto_id=f"uphold_{objection.pk}_%s"),
                }
                for objection in panel["objections"]
            ],
            "may_retry_delivery": may_retry_delivery(request.user, obj),
        }

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        decisions = [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(require_POST(view)),
                name=f"{info[0]}_{info[1]}_{name}",
            )
            for name, view in (
                ("approve", self.approve_view),
                ("return", self.return_view),
                ("reject", self.reject_view),
            )
        ]
        publicity = [
            path(
                f"<path:object_id>/{route}",
                self.admin_site.admin_view(view if name.endswith("evidence") else require_POST(view)),
                name=f"{info[0]}_{info[1]}_{name}",
            )
            for route, name, view in (
                ("objections/<int:objection_id>/dismiss/", "dismiss_objection", self.dismiss_objection_view),
                ("objections/<int:objection_id>/uphold/", "uphold_objection", self.uphold_objection_view),
                (
                    "objections/<int:objection_id>/evidence/",
                    "objection_evidence",
                    self.objection_evidence_view,
                ),
                ("deliveries/<int:message_id>/retry/", "retry_delivery", self.retry_delivery_view),
            )
        ]
        return decisions + publicity + super().get_urls()

    # ------------------------------------------------------------ decisions: thin adapters over review.services

    def approve_view(self, request, object_id):
        def act(actor, project, form):
            services.approve(
                actor=actor,
                project=project,
                expected_status=form.cleaned_data["expected_status"],
                comment=form.cleaned_data["comment"],
            )
            return f"已审核通过“{project.name}”，项目进入公示。"

        return self._decide(request, object_id, ApproveForm, act)

    def return_view(self, request, object_id):
        def act(actor, project, form):
            services.return_for_revision(
                actor=actor,
                project=project,
                expected_status=form.cleaned_data["expected_status"],
                comments=form.comments(),
            )
            written = sum(1 for c in form.comments() if c["text"].strip())
            return f"已将“{project.name}”退回修改，附{written}条审核意见；企业将在站内通知和邮件中收到。"

        return self._decide(request, object_id, ReturnForm, act)

    def reject_view(self, request, object_id):
        def act(actor, project, form):
            if not form.cleaned_data.get("confirmed"):
                raise ValidationError("不予受理是最终决定：请勾选确认后再提交。")
            services.reject(
                actor=actor,
                project=project,
                expected_status=form.cleaned_data["expected_status"],
                ground=form.cleaned_data["ground"],
                reason=form.cleaned_data["reason"],
            )
            return f"已对“{project.name}”作出不予受理决定。"

        return self._decide(request, object_id, RejectForm, act)

    def _decide(self, request, object_id, form_class, act):
        # Not narrowed to the visible records: a forged decision on another authority's record reaches the
        # service, which refuses it and audits the refusal.
        project = self._project_or_404(object_id)
        form = form_class(request.POST)
        if not form.is_valid():
            self.message_user(request, "页面已过期或提交的内容不完整，请刷新页面后重试。", messages.ERROR)
        else:
            self._run(request, lambda actor: act(actor, project, form))
        return self._back(request, project)

    # ------------------------------------------------------------ the public side: thin adapters over publicity.services

    def dismiss_objection_view(self, request, object_id, objection_id):
        def act(actor, objection, outcome):
            publicity_services.dismiss_objection(actor=actor, objection_id=objection.pk, outcome=outcome)
            notice = objection.notice
            notice.refresh_from_db()
            if notice.state == NoticeState.RUNNING:
                ends_at = timezone.localtime(notice.ends_at)
                return (
                    f"已认定异议{objection.reference}不成立，公示恢复计时，至{ends_at:%Y-%m-%d %H:%M}截止。"
                )
            return f"已认定异议{objection.reference}不成立；该公示仍有其他异议待处理，继续暂停计时。"

        return self._handle_objection(request, object_id, objection_id, act)

    def uphold_objection_view(self, request, object_id, objection_id):
        def act(actor, objection, outcome):
            publicity_services.uphold_objection(actor=actor, objection_id=objection.pk, outcome=outcome)
            return f"已认定异议{objection.reference}成立，公示终止，项目退回企业修改（异议内容已作为审核意见附上）。"

        return self._handle_objection(request, object_id, objection_id, act)

    def _handle_objection(self, request, object_id, objection_id, act):
        # As with decisions, a forged POST reaches the service, which refuses and audits it.
        project = self._project_or_404(object_id)
        objection = (
            Objection.objects.select_related("notice")
            .filter(pk=objection_id, notice__project=project)
            .first()
        )
        if objection is None:
            raise Http404
        form = ObjectionOutcomeForm(request.POST)
        outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
        self._run(request, lambda actor: act(actor, objection, outcome))
        return self._back(request, project)

    def retry_delivery_view(self, request, object_id, message_id):
        project = self._project_or_404(object_id)
        message = OutboxMessage.objects.filter(pk=message_id, project=project).first()
        if message is None:
            raise Http404

        def act(actor):
            publicity_services.retry_failed_delivery(actor=actor, message_id=message.pk)
            return "已重新报送全国平台，请稍后刷新本页查看结果。"

        self._run(request, act)
        return self._back(request, project)

    def objection_evidence_view(self, request, object_id, objection_id):
        """An objector's evidence file, to those who may see the record in the console (never publicly)."""
        project_id = parse_row_id(object_id)
        if project_id is None:
            raise Http404
        project = self.get_queryset(request).filter(pk=project_id).first()
        objection = (
            Objection.objects.select_related("evidence_file")
            .filter(pk=objection_id, notice__project=project)
            .first()
            if project
            else None
        )
        stored = getattr(objection, "evidence_file", None) if objection else None
        if stored is None:
            raise Http404
        return private_file_response(stored.file, content_type=stored.content_type, name=stored.original_name)

    # ------------------------------------------------------------ shared by the POST views

    def _project_or_404(self, object_id) -> Project:
        project_id = parse_row_id(object_id)
        if project_id is None:
            raise Http404
        project = Project.objects.filter(pk=project_id).first()
        if project is None:
            raise Http404
        return project

    def _run(self, request, act):
        """Run a service call, then say what happened; a refusal is a message, never a changed record."""
        try:
            done = act(Actor.from_request(request))
        except (PermissionDenied, RecordLocked) as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
        except ConcurrentTransition:
            self.message_user(request, "该项目刚被他人处理，本次决定未生效。请刷新后查看。", messages.ERROR)
        except ValidationError as invalid:
            self.message_user(request, "；".join(invalid.messages), messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)

    def _back(self, request, project):
        if self.get_queryset(request).filter(pk=project.pk).exists():
            return redirect(
                reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[project.pk])
            )
        return redirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


# ---------------------------------------------------------------- deliveries to the national platform


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every delivery of a snapshot to the national platform, read-only: where permanent failures are found (filter
    by state), with the platform's answer. A failed delivery is sent again with the retry button on the record's
    review page, or from here with the action on the selected rows (publicity.services.retry_failed_delivery)."""

    list_display = [
        "project_link",
        "project_name",
        "kind",
        "state",
        "attempts",
        "last_status_code",
        "short_error",
        "next_attempt_at",
        "created_at",
        "national_id",
    ]
    list_display_links = None  # the row's link is the record's review page, where the retry button is
    list_filter = ["state", "kind"]
    search_fields = ["^project__project_number", "=national_id", "=idempotency_key"]
    search_help_text = "项目编号（开头）、全国平台编号或幂等键（完整）。"
    list_select_related = ["project"]
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    ordering = ["-created_at", "-id"]
    actions = ["retry_selected"]
    fields = [
        "project",
        "snapshot",
        "kind",
        "idempotency_key",
        "state",
        "attempts",
        "next_attempt_at",
        "leased_until",
        "last_status_code",
        "last_error",
        "national_id",
        "created_at",
        "delivered_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return scoped_to_console(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return is_console_user(request.user)

    def has_view_permission(self, request, obj=None):
        return is_console_user(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # written by publicity.services only

    def has_delete_permission(self, request, obj=None):
        return False

    def get_list_filter(self, request):
        if is_city(request.user):
            return [*self.list_filter, "project__authority"]
        return self.list_filter

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "报送全国平台", **(extra_context or {})})

    @admin.action(description="重新报送所选的报送失败记录")
    def retry_selected(self, request, queryset):
        actor = Actor.from_request(request)
        retried = 0
        for message in queryset.select_related("project"):
            try:
                publicity_services.retry_failed_delivery(actor=actor, message_id=message.pk)
            except (PermissionDenied, RecordLocked) as refusal:
                self.message_user(request, f"{message.project.project_number}：{refusal}", messages.ERROR)
            else:
                retried += 1
        if retried:
            self.message_user(
                request, f"已重新报送{retried}条记录，请稍后刷新本页查看结果。", messages.SUCCESS
            )

    @admin.display(description="项目编号", ordering="project__project_number")
    def project_link(self, obj):
        url = reverse("admin:projects_project_change", args=[obj.project_id])
        return format_html('<a href="{}#outbox">{}</a>', url, obj.project.project_number)

    @admin.display(description="项目名称")
    def project_name(self, obj):
        return obj.project.name

    @admin.display(description="最近错误")
    def short_error(self, obj):
        return obj.last_error[:80] + ("…" if len(obj.last_error) > 80 else "")


# ---------------------------------------------------------------- backfill windows (the city's)


# Changes go through review.services.change_window: the city only, extend-only, audited.
@admin.register(BackfillWindow)
class BackfillWindowAdmin(admin.ModelAdmin):
    form = BackfillWindowForm
    list_display = ["enterprise_kind", "opens_on", "closes_on", "basis", "drawings_reviewed_by"]

    def has_module_permission(self, request):
        return is_console_user(request.user)

    def has_view_permission(self, request, obj=None):
        return is_console_user(request.user)

    def has_add_permission(self, request):
        return is_city(request.user)

    def has_change_permission(self, request, obj=None):
        return is_city(request.user)

    def has_delete_permission(self, request, obj=None):
        return False  # a window is extended, never removed

    def get_readonly_fields(self, request, obj=None):
        return ["enterprise_kind"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        saved = services.change_window(
            actor=Actor.from_request(request),
            window=obj,
            opens_on=form.cleaned_data["opens_on"],
            closes_on=form.cleaned_data["closes_on"],
            basis=form.cleaned_data.get("basis", ""),
            drawings_reviewed_by=form.cleaned_data.get("drawings_reviewed_by"),
        )
        obj.pk = saved.pk

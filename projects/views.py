"""The enterprise's pages. Thin: read through selectors, write through services, show findings."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_POST

from . import audit, extensions, history, permissions, receipts, rules, selectors, services
from .audit import Actor
from .files import private_file_response
from .forms import (
    ArchiveEvidenceForm,
    EvidenceUploadForm,
    ProjectForm,
    ProjectSearchForm,
    add_findings,
    stage_form_class,
)
from .models import (
    STAGE_MODELS,
    Evidence,
    Membership,
    Project,
    Receipt,
    StageCode,
    project_kind_of,
)

PAGE_SIZE = 20


def enterprise_required(view):
    """Logged in, and acting for an enterprise; the enterprise is passed on. Others get a 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        # The membership and its enterprise in one query, cached on the user for the services and the header:
        # the query saved pays for the enterprise guards' check (services.enterprise_restriction) on the pages.
        membership = Membership.objects.select_related("enterprise").filter(user=request.user).first()
        if membership is not None:
            request.user.membership = membership
        if not permissions.is_enterprise(request.user):
            raise PermissionDenied("此页面仅供企业填报人员使用。")
        return view(request, permissions.enterprise_of(request.user), *args, **kwargs)

    return wrapper


def city_required(view):
    """Logged in, and a city commission user or a superuser (projects.permissions.is_city): the spot checks, the
    blacklist and the figures. Others get the 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not permissions.is_city(request.user):
            raise PermissionDenied("此页面仅供市级管理人员使用。")
        return view(request, *args, **kwargs)

    return wrapper


# An id asked for in the URL that the user may not see answers 404, as if it did not exist (an id guessed learns
# nothing), and the trail records who asked for what: the object's type and id, not the object itself (it may not
# exist, and it must not show in another enterprise's history).
NOT_FOUND = {
    "project": "该补录项目不存在或不属于本单位。",
    "stage": "没有这个环节。",
    "evidence": "该证明材料不存在或不属于本单位。",
}


def lookups_refused_recorded(request, action: str, asked, why: str):
    """Records a 404 raised inside the block as `<action>.refused` on `asked` (an unsaved instance naming the id
    asked for), with `why` as its message; the 404 is re-raised unchanged."""
    return audit.refusals_recorded(
        Actor.from_request(request), action, asked, refusals=(Http404,), message_of=lambda _refusal: why
    )


def own_project_or_404(request, enterprise, pk, action: str):
    with lookups_refused_recorded(request, action, Project(pk=pk), NOT_FOUND["project"]):
        return get_object_or_404(selectors.own_projects(enterprise).select_related("authority"), pk=pk)


def known_stage_or_404(request, pk, stage_code, action: str, project=None):
    """A stage the record's kind has (a design record has no permit stage, say): else a 404, recorded."""
    with lookups_refused_recorded(
        request, action, Project(pk=pk), f"{NOT_FOUND['stage']}（{stage_code[:50]}）"
    ):
        if stage_code not in STAGE_MODELS or (project is not None and stage_code not in project.stage_codes):
            raise Http404("没有这个环节。")


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    if permissions.is_enterprise(request.user):
        return redirect("projects:project_list")
    if permissions.is_console_user(request.user) and not request.user.is_superuser:
        return redirect(
            extensions.console_landing()
        )  # a reviewer's or the city's day starts at its work queue
    if request.user.is_staff:
        return redirect("admin:index")
    raise PermissionDenied("您的账号尚未关联单位，请联系管理员。")


@enterprise_required
def project_list(request, enterprise):
    form = ProjectSearchForm(request.GET or None)
    q = status = ""
    if form.is_valid():
        q, status = form.cleaned_data["q"], form.cleaned_data["status"]
    projects = selectors.search_projects(
        selectors.own_projects(enterprise).select_related("authority"), q, status
    ).order_by("-updated_at", "-id")
    page = Paginator(projects, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/project_list.html",
        {
            "form": form,
            "page": page,
            "enterprise": enterprise,
            "restriction": services.enterprise_restriction(enterprise),
            "selected_limit": SELECTED_LIMIT,
        },
    )


@enterprise_required
def project_create(request, enterprise):
    kind = project_kind_of(enterprise)
    form = ProjectForm(request.POST or None, kind=kind)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.create_project(actor=Actor.from_request(request), data=form.cleaned_data)
        except services.RuleViolation as violation:
            add_findings(form, violation.findings)
        except PermissionDenied as refusal:  # e.g. a blacklisted enterprise (services.ENTERPRISE_GUARDS)
            form.add_error(None, str(refusal))
        else:
            what = "合同、施工图审查及勘察设计人员（有招标的填写招投标）" if project.is_design else "六个环节"
            messages.success(request, f"已创建补录项目，项目编号{project.project_number}。请依次填写{what}。")
            return redirect("projects:project_detail", pk=project.pk)
    return render(
        request,
        "projects/project_form.html",
        {"form": form, "enterprise": enterprise, "restriction": services.enterprise_restriction(enterprise)},
    )


@enterprise_required
def project_edit(request, enterprise, pk):
    project = own_project_or_404(request, enterprise, pk, "project.update")
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_project(
                actor=Actor.from_request(request), project=project, data=form.cleaned_data
            )
        except services.RuleViolation as violation:
            add_findings(form, violation.findings)
        except services.RecordLocked as locked:
            messages.error(request, str(locked))
            return redirect("projects:project_detail", pk=project.pk)
        else:
            messages.success(request, "项目基本信息已保存。")
            return redirect("projects:project_detail", pk=project.pk)
    comments = selectors.comments_by_field(selectors.open_review_comments(project, ""))
    return render(
        request,
        "projects/project_form.html",
        {"form": form, "project": project, "comments_by_field": comments},
    )


@enterprise_required
def project_detail(request, enterprise, pk):
    own_project_or_404(request, enterprise, pk, "project.view")
    project = rules.load_project(pk)
    stages = rules.stages_of(project)
    evidence = list(project.evidence.filter(archived_at__isnull=True))
    rows = [
        {
            "code": code,
            "label": StageCode(code).label,
            "stage": stages[code],
            "evidence": [e for e in evidence if e.stage == code],
        }
        for code in project.stage_codes
    ]
    comments = selectors.open_review_comments(project).select_related("author")
    return render(
        request,
        "projects/project_detail.html",
        {
            "project": project,
            "rows": rows,
            "comments": comments,
            "restriction": services.enterprise_restriction(enterprise),
            "project_sections": extensions.project_sections(project),
            "timeline": selectors.progress_timeline(project),
            "receipts": project.receipts.all(),
        },
    )


@enterprise_required
def stage_edit(request, enterprise, pk, stage_code):
    known_stage_or_404(request, pk, stage_code, "stage.save")
    project = own_project_or_404(request, enterprise, pk, "stage.save")
    known_stage_or_404(request, pk, stage_code, "stage.save", project)
    stage = STAGE_MODELS[stage_code].objects.filter(project=project).first()
    form_class = stage_form_class(stage_code, project.kind)
    form = form_class(request.POST or None, request.FILES or None, instance=stage)
    if request.method == "POST":
        if not project.is_editable_by_enterprise:
            locked = f"该项目当前状态为“{project.get_status_display()}”，不能修改。"
            audit.record_refusal(
                Actor.from_request(request), "stage.save", project, project=project, message=locked
            )
            messages.error(request, locked)
            return redirect("projects:project_detail", pk=project.pk)
        if form.is_valid():
            saved = save_stage_and_evidence(request, project, stage_code, form)
            if saved:
                return redirect("projects:stage_edit", pk=project.pk, stage_code=stage_code)
            if saved is None:
                return redirect("projects:project_detail", pk=project.pk)
        elif request.FILES.get("file"):
            form.add_error("file", "本环节信息有错误，文件未上传：请修改上面标出的错误后重新选择文件并保存。")
    evidence = project.evidence.filter(stage=stage_code, archived_at__isnull=True).select_related(
        "uploaded_by"
    )
    return render(
        request,
        "projects/stage_form.html",
        {
            "project": project,
            "form": form,
            "stage_code": stage_code,
            "stage_label": StageCode(stage_code).label,
            "stage_tabs": [(code, StageCode(code).label) for code in project.stage_codes],
            "evidence": evidence,
            "required_evidence": required_evidence(project, stage_code),
            "comments_by_field": selectors.comments_by_field(
                selectors.open_review_comments(project, stage_code)
            ),
        },
    )


def required_evidence(project, stage_code) -> str:
    """What the stage's evidence must show, as the page says it."""
    if project.is_design:
        return "；".join(doc for (code, _part), doc in rules.DESIGN_EVIDENCE.items() if code == stage_code)
    return rules.EVIDENCE_REQUIRED[stage_code]


def save_stage_and_evidence(request, project, stage_code, form) -> bool | None:
    """The stage's fields (when changed, or when the stage is new and filled in), then the file chosen with them:
    True when all is saved; False with the errors on the form (nothing typed is lost: the page shows it again);
    None when the record is locked meanwhile."""
    actor = Actor.from_request(request)
    label = StageCode(stage_code).label
    upload = form.cleaned_data.get("file")
    if form.stage_changed() or not upload:
        try:
            _stage, warnings = services.save_stage(
                actor=actor, project=project, stage_code=stage_code, data=form.stage_data()
            )
        except services.RuleViolation as violation:
            add_findings(form, violation.findings, stage_code=stage_code)
            if upload:
                form.add_error("file", "本环节信息有错误，文件未上传：请修改后重新选择文件并保存。")
            return False
        except services.RecordLocked as locked:
            messages.error(request, str(locked))
            return None
        messages.success(request, f"“{label}”环节已保存。")
        for warning in warnings:
            messages.warning(request, warning.message)
    if upload:
        try:
            evidence = services.add_evidence(
                actor=actor,
                project=project,
                stage_code=stage_code,
                uploaded_file=upload,
                description=form.cleaned_data.get("evidence_description", ""),
                part=form.cleaned_data.get("evidence_part", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error("file", f"上传失败：{message}")
            return False
        except services.RecordLocked as locked:
            messages.error(request, str(locked))
            return None
        messages.success(request, f"已上传“{evidence.original_name}”。")
    return True


@require_POST
@enterprise_required
def evidence_upload(request, enterprise, pk, stage_code):
    known_stage_or_404(request, pk, stage_code, "evidence.add")
    project = own_project_or_404(request, enterprise, pk, "evidence.add")
    known_stage_or_404(request, pk, stage_code, "evidence.add", project)
    form = EvidenceUploadForm(request.POST, request.FILES)
    back = reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": stage_code}) + "#evidence"
    if not form.is_valid():
        # Refused before the service sees it (no file, an empty one, a name too long…): audited as the
        # service's own refusals are (services.add_evidence).
        refused = [f"上传失败：{error}" for errors in form.errors.values() for error in errors]
        audit.record_refusal(
            Actor.from_request(request), "evidence.add", project, project=project, message="；".join(refused)
        )
        for message in refused:
            messages.error(request, message)
        return redirect(back)
    try:
        evidence = services.add_evidence(
            actor=Actor.from_request(request),
            project=project,
            stage_code=stage_code,
            uploaded_file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
            part=request.POST.get("part", "")[:20],
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, f"上传失败：{message}")
    except services.RecordLocked as locked:
        messages.error(request, str(locked))
    else:
        messages.success(request, f"已上传“{evidence.original_name}”。")
    return redirect(back)


@xframe_options_sameorigin  # previewed inline beside its stage on the review page
@login_required
def evidence_view(request, pk, evidence_id):
    """Serve a private evidence file after the permission check: the owner enterprise, or its reviewers."""
    with lookups_refused_recorded(request, "evidence.view", Evidence(pk=evidence_id), NOT_FOUND["evidence"]):
        evidence = selectors.get_visible_evidence(request.user, pk, evidence_id)
    return private_file_response(
        evidence.file, content_type=evidence.content_type, name=evidence.original_name
    )


@require_POST
@enterprise_required
def evidence_archive(request, enterprise, pk, evidence_id):
    project = own_project_or_404(request, enterprise, pk, "evidence.archive")
    with lookups_refused_recorded(
        request, "evidence.archive", Evidence(pk=evidence_id), NOT_FOUND["evidence"]
    ):
        evidence = get_object_or_404(project.evidence.all(), pk=evidence_id)
    form = ArchiveEvidenceForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.archive_evidence(actor=Actor.from_request(request), evidence=evidence, reason=reason)
    except (services.RecordLocked, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"已删除“{evidence.original_name}”（文件存档备查）。")
    return redirect(
        reverse("projects:stage_edit", kwargs={"pk": project.pk, "stage_code": evidence.stage}) + "#evidence"
    )


@enterprise_required
def self_check(request, enterprise, pk):
    own_project_or_404(request, enterprise, pk, "project.self_check")
    project = rules.load_project(pk)
    findings = rules.evaluate(project)
    groups = [
        {
            "stage": stage,
            "label": rules.STAGE_LABELS[stage],
            "findings": [f for f in findings if f.stage == stage],
        }
        for stage in [rules.PROJECT, *project.stage_codes]
    ]
    return render(
        request,
        "projects/self_check.html",
        {
            "project": project,
            "groups": groups,
            "summary": rules.summarise(findings),
            "rule_count": len(rules.RULES),
        },
    )


@require_POST
@enterprise_required
def project_submit(request, enterprise, pk):
    project = own_project_or_404(request, enterprise, pk, "project.submit")
    try:
        services.submit_project(
            actor=Actor.from_request(request),
            project=project,
            expected_status=request.POST.get("expected_status"),
        )
    except services.RuleViolation as violation:
        messages.error(request, f"提交失败：自查发现{len(violation.findings)}个错误，请修改后再提交。")
        return redirect("projects:self_check", pk=project.pk)
    except (services.RecordLocked, PermissionDenied) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "已提交审核。审核期间不能修改；如被退回，可修改后重新提交。")
    return redirect("projects:project_detail", pk=project.pk)


@require_POST
@enterprise_required
def project_withdraw(request, enterprise, pk):
    project = own_project_or_404(request, enterprise, pk, "project.withdraw")
    try:
        services.withdraw_project(
            actor=Actor.from_request(request),
            project=project,
            expected_status=request.POST.get("expected_status"),
        )
    except (services.RecordLocked, PermissionDenied) as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, "已撤回提交，可以继续修改。")
    return redirect("projects:project_detail", pk=project.pk)


@login_required
def project_history(request, pk):
    """Who did what, when, from where, and what changed, in plain words (projects.history decides what the
    viewer may read of it): for the enterprise, its reviewers and the city."""
    with lookups_refused_recorded(request, "project.history", Project(pk=pk), NOT_FOUND["project"]):
        project = get_object_or_404(
            selectors.visible_projects(request.user).select_related("authority"), pk=pk
        )
    events = history.rows_for(request.user, project, selectors.project_history(project))
    return render(request, "projects/history.html", {"project": project, "events": events})


@login_required
def inbox(request):
    page = Paginator(selectors.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "projects/inbox.html", {"page": page})


@require_POST
@login_required
def inbox_mark_read(request):
    selectors.inbox(request.user).filter(read_at__isnull=True).update(read_at=timezone.now())
    return redirect("projects:inbox")


SELECTED_LIMIT = 100  # a page of the list is 20; the check reads each record whole


@require_POST
@enterprise_required
def project_selected(request, enterprise):
    """The record list's action on the ticked records: self-check them, or submit those that pass — each record
    with its own result (a refusal of one does not stop the others)."""
    action = request.POST.get("action")
    if action not in ("check", "submit"):
        raise Http404("没有这个操作。")
    projects, missing, left_over = _selected_projects(request, enterprise)
    actor = Actor.from_request(request)
    results = []
    for project in projects:
        findings = rules.evaluate(rules.load_project(project.pk))
        summary = rules.summarise(findings)
        result = {"project": project, "summary": summary, "findings": [f for f in findings if f.is_error][:5]}
        if action == "submit":
            try:
                services.submit_project(actor=actor, project=project, expected_status=project.status)
            except services.RuleViolation as violation:
                result["outcome"] = f"未提交：自查发现{len(violation.findings)}个错误"
            except (services.RecordLocked, PermissionDenied) as refusal:
                result["outcome"] = f"未提交：{refusal}"
            else:
                result["outcome"] = "已提交审核"
                result["submitted"] = True
        else:
            result["outcome"] = "可以提交" if summary["can_submit"] else f"有{summary['errors']}个错误"
        results.append(result)
    return render(
        request,
        "projects/selected_results.html",
        {"results": results, "action": action, "missing": missing, "left_over": left_over},
    )


def _selected_projects(request, enterprise):
    """(projects, ticked ids not found among the enterprise's, matching records beyond SELECTED_LIMIT).

    The ticked records; or, with scope=all ("全选符合条件的项目"), every record of the list as filtered by the
    search it was shown with (q, status), on every page — at most SELECTED_LIMIT, the others left for a second
    run (a submitted record no longer matches a draft filter)."""
    own = selectors.own_projects(enterprise)
    if request.POST.get("scope") == "all":
        form = ProjectSearchForm(request.POST)
        q, status = (form.cleaned_data["q"], form.cleaned_data["status"]) if form.is_valid() else ("", "")
        matching = selectors.search_projects(own, q, status).order_by("project_number")
        projects = list(matching[: SELECTED_LIMIT + 1])
        left_over = matching.count() - SELECTED_LIMIT if len(projects) > SELECTED_LIMIT else 0
        return projects[:SELECTED_LIMIT], 0, left_over
    ids = [value for value in request.POST.getlist("selected")[:SELECTED_LIMIT] if value.isdigit()]
    projects = list(own.filter(pk__in=ids).order_by("project_number"))
    return projects, len(set(ids)) - len(projects), 0


@enterprise_required
def receipt_pdf(request, enterprise, pk, receipt_id):
    """The 受理回执 as a printable PDF: the owner enterprise's, after the permission check (404 otherwise)."""
    project = own_project_or_404(request, enterprise, pk, "receipt.view")
    with lookups_refused_recorded(
        request, "receipt.view", Receipt(pk=receipt_id), "该受理回执不存在或不属于本单位。"
    ):
        receipt = get_object_or_404(project.receipts.all(), pk=receipt_id)
    url = request.build_absolute_uri(reverse("projects:receipt_verify", kwargs={"token": receipt.token}))
    response = HttpResponse(receipts.pdf_bytes(receipt, url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{receipt.number}.pdf"'
    return response


def receipt_verify(request, token):
    """Public (no login): does this receipt exist, is its content intact, what is the record's status now —
    nothing private (no enterprise, no evidence, no names of people)."""
    receipt = Receipt.objects.select_related("project__authority").filter(token=token[:64]).first()
    return render(
        request,
        "projects/receipt_verify.html",
        {"receipt": receipt, "intact": receipt is not None and receipts.is_intact(receipt)},
        status=200 if receipt else 404,
    )

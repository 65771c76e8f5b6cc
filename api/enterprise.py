"""The enterprise's endpoints: its drafts with all six stages, evidence, the self-check, submit and withdraw, status,
history and comments, a correction request. Each mirrors a page of projects/views.py (or corrections/views.py):
the same lookups (another enterprise's record is a 404, recorded as `<action>.refused`), the same forms for the
fields, the same services for every write (which check the policy and audit)."""

import json

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status as http_status
from rest_framework.response import Response

from corrections import services as correction_services
from projects import audit, history, permissions, rules, selectors, services
from projects.forms import CONSTRUCTION_ONLY_PROJECT_FIELDS, EvidenceUploadForm, ProjectForm, stage_form_class
from projects.models import (
    DESIGN_STAGES,
    STAGE_MODELS,
    STAGE_ORDER,
    Project,
    ProjectKind,
    StageCode,
    project_kind_of,
)
from projects.views import (
    NOT_FOUND,
    known_stage_or_404,
    lookups_refused_recorded,
    own_project_or_404,
    required_evidence,
)
from publicity.models import LibraryEntry

from . import inputs
from . import serializers as out
from .base import MemberView
from .parsers import BoundedMultiPartParser
from .records import RecordAction, summary

TAG = ["企业补录"]
STAGE_HIDDEN = ["id", "project", "updated_by", "updated_at"]
ProjectInput = inputs.schema_serializer("ProjectInput", ProjectForm)
# A stage's body: the fields of its form, which depend on the record's kind (a design record's drawing review has
# the survey and design units and the designers). One body documents them all; each stage takes only its own.
STAGE_FORMS = {
    **{(ProjectKind.CONSTRUCTION, code): stage_form_class(code) for code in STAGE_ORDER},
    **{(ProjectKind.DESIGN, code): stage_form_class(code, ProjectKind.DESIGN) for code in DESIGN_STAGES},
}
StageInput = inputs.schema_serializer("StageInput", *STAGE_FORMS.values())
STAGE_FIELDS_DESCRIPTION = "\n".join(
    f"- {ProjectKind(kind).label} {code}：{', '.join(inputs.field_names(form))}"
    for (kind, code), form in STAGE_FORMS.items()
)


def enterprise_of(request):
    """As projects.views.enterprise_required: an enterprise's clerk, else 403."""
    if not permissions.is_enterprise(request.user):
        raise PermissionDenied("此接口仅供企业填报人员使用。")
    return permissions.enterprise_of(request.user)


def plain(value):
    return audit.serialise(value)


def stage_values(stage) -> dict | None:
    if stage is None:
        return None
    return {name: plain(value) for name, value in model_to_dict(stage, exclude=STAGE_HIDDEN).items()}


def not_asked(kind) -> tuple:
    """The basic-information fields a record of `kind` does not ask (the form leaves them out)."""
    return CONSTRUCTION_ONLY_PROJECT_FIELDS if kind == ProjectKind.DESIGN else ()


def project_values(project) -> dict:
    names = ["project_number", *services.PROJECT_EDITABLE_FIELDS]
    return {name: plain(getattr(project, name)) for name in names if name not in not_asked(project.kind)} | {
        "authority": project.authority_id,
        "kind": project.kind,
    }


def evidence_row(e) -> dict:
    return {
        "id": e.pk,
        "stage": e.stage,
        "part": e.part,
        "name": e.original_name,
        "description": e.description,
        "content_type": e.content_type,
        "size": e.size,
        "sha256": e.sha256,
        "uploaded_at": e.uploaded_at,
    }


def comment_row(c, where) -> dict:
    return {
        "id": c.pk,
        "stage": c.stage,
        "field": c.field,
        "where": where,
        "text": c.text,
        "author_organisation": c.author_organisation,
        "created_at": c.created_at,
        "open": c.settled_by_version_id is None,
    }


def finding_row(f) -> dict:
    return {
        "code": f.code,
        "category": f.category,
        "severity": f.severity,
        "stage": f.stage,
        "field": f.field,
        "message": f.message,
    }


def where(stage, field):
    label = rules.STAGE_LABELS.get(stage or rules.PROJECT, stage)
    return f"{label}·{field}" if field else label


def project_detail(project, enterprise) -> dict:
    loaded = rules.load_project(project.pk)
    stages = rules.stages_of(loaded)
    return {
        **summary(loaded),
        "values": project_values(loaded),
        "stages": {code: stage_values(stages[code]) for code in loaded.stage_codes},
        "evidence": [
            evidence_row(e) for e in loaded.evidence.filter(archived_at__isnull=True).order_by("id")
        ],
        "comments": [comment_row(c, where(c.stage, c.field)) for c in loaded.review_comments.order_by("id")],
        "restriction": services.enterprise_restriction(enterprise),
    }


class ProjectList(MemberView):
    @extend_schema(
        tags=TAG,
        summary="本企业的补录项目",
        parameters=[
            OpenApiParameter("q", str, description="项目名称、编号或任一环节的文件编号"),
            OpenApiParameter("status", str, description="状态"),
        ],
        responses=out.ProjectSummary(many=True),
    )
    def get(self, request):
        enterprise = enterprise_of(request)
        queryset = selectors.search_projects(
            selectors.own_projects(enterprise).select_related("authority"),
            request.query_params.get("q", "")[:100],
            request.query_params.get("status", "")[:30],
        )
        return self.page_of(
            queryset, lambda items: out.ProjectSummary([summary(p) for p in items], many=True).data
        )

    @extend_schema(
        tags=TAG,
        summary="新建补录项目（草稿）",
        description="kind 缺省为本企业补录的类别：建筑企业 construction（施工项目），勘察设计企业 design（设计项目）；"
        "企业不能补录另一类项目（403）。设计项目不填 is_completed、start_basis，project_type 为 building_works 或"
        " municipal_works。",
        request=ProjectInput,
        responses={201: out.Project},
    )
    def post(self, request):
        enterprise = enterprise_of(request)
        asked = request.data.get("kind") if isinstance(request.data, dict) else None
        # Another kind than the enterprise's reaches the service, which refuses it (audited); a kind that is none
        # is the form's to refuse.
        kind = asked if asked in ProjectKind.values else project_kind_of(enterprise)
        data = inputs.form_data(ProjectForm, request.data, base={}, exclude=not_asked(kind))
        form = ProjectForm({**data, "kind": asked or kind}, kind=kind)
        if not form.is_valid():
            inputs.raise_form_errors(form)
        project = services.create_project(actor=self.actor(), data=form.cleaned_data)
        return Response(
            out.Project(project_detail(project, enterprise)).data, status=http_status.HTTP_201_CREATED
        )


class ProjectDetail(MemberView):
    @extend_schema(
        tags=TAG, summary="一个补录项目：基本信息、六个环节、证明材料、审核意见", responses=out.Project
    )
    def get(self, request, pk):
        enterprise = enterprise_of(request)
        project = own_project_or_404(request, enterprise, pk, "project.view")
        return Response(out.Project(project_detail(project, enterprise)).data)

    @extend_schema(
        tags=TAG, summary="修改项目基本信息（只改所给字段）", request=ProjectInput, responses=out.Project
    )
    def patch(self, request, pk):
        enterprise = enterprise_of(request)
        project = own_project_or_404(request, enterprise, pk, "project.update")
        base = model_to_dict(project, fields=services.PROJECT_EDITABLE_FIELDS)
        exclude = ("project_number", "kind", *not_asked(project.kind))
        data = inputs.form_data(ProjectForm, request.data, base=base, exclude=exclude)
        form = ProjectForm(data, instance=project)
        if not form.is_valid():
            inputs.raise_form_errors(form)
        services.update_project(actor=self.actor(), project=project, data=form.cleaned_data)
        return Response(out.Project(project_detail(project, enterprise)).data)


def stage_payload(project, stage_code, stage, warnings=()) -> dict:
    return {
        "stage": stage_code,
        "label": StageCode(stage_code).label,
        "filled": stage is not None,
        "values": stage_values(stage),
        "required_fields": list(STAGE_FORMS[project.kind, stage_code].required_fields),
        "required_evidence": required_evidence(project, stage_code),
        "evidence_parts": rules.evidence_parts(project, stage_code),
        "warnings": [w.message for w in warnings],
    }


STAGE_PARAMETER = OpenApiParameter(
    "stage_code",
    str,
    OpenApiParameter.PATH,
    enum=STAGE_ORDER,
    description="环节代码（设计项目只有 tendering、contract、drawing_review）",
)


def stage_of_own_project_or_404(request, pk, stage_code, action):
    """As the stage page: the enterprise's own record, and a stage its kind has (else a 404, recorded)."""
    enterprise = enterprise_of(request)
    known_stage_or_404(request, pk, stage_code, action)
    project = own_project_or_404(request, enterprise, pk, action)
    known_stage_or_404(request, pk, stage_code, action, project)
    return project


class StageDetail(MemberView):
    def _project(self, request, pk, stage_code, action):
        return stage_of_own_project_or_404(request, pk, stage_code, action)

    @extend_schema(tags=TAG, summary="一个环节的信息", parameters=[STAGE_PARAMETER], responses=out.Stage)
    def get(self, request, pk, stage_code):
        project = self._project(request, pk, stage_code, "project.view")
        stage = STAGE_MODELS[stage_code].objects.filter(project=project).first()
        return Response(out.Stage(stage_payload(project, stage_code, stage)).data)

    @extend_schema(
        tags=TAG,
        summary="填写或修改一个环节（只改所给字段）",
        parameters=[STAGE_PARAMETER],
        request=StageInput,
        description="请求体的字段随项目类别和环节而定（其他字段答 400“没有这个字段”）：\n"
        + STAGE_FIELDS_DESCRIPTION,
        responses=out.Stage,
    )
    def put(self, request, pk, stage_code):
        project = self._project(request, pk, stage_code, "stage.save")
        # As the page: a locked record is refused before its fields are read (services.ensure_editable, audited).
        with audit.refusals_recorded(self.actor(), "stage.save", project, project=project):
            services.ensure_editable(project)
        stage = STAGE_MODELS[stage_code].objects.filter(project=project).first()
        form_class = STAGE_FORMS[project.kind, stage_code]
        base = model_to_dict(stage, exclude=STAGE_HIDDEN) if stage else {}
        form = form_class(inputs.form_data(form_class, request.data, base=base), instance=stage)
        if not form.is_valid():
            inputs.raise_form_errors(form)
        stage, warnings = services.save_stage(
            actor=self.actor(), project=project, stage_code=stage_code, data=form.stage_data()
        )
        return Response(out.Stage(stage_payload(project, stage_code, stage, warnings)).data)

    patch = put


class EvidenceUpload(MemberView):
    parser_classes = [BoundedMultiPartParser]

    @property
    def max_body_bytes(self):
        return (
            settings.EVIDENCE_MAX_BYTES + 256 * 1024
        )  # the file, its name and description, the form's framing

    @extend_schema(
        tags=TAG,
        summary="上传证明材料（multipart/form-data：file, description, part）",
        description="part：该环节要求多份材料时是哪一份（设计项目的施工图审查：certificate 审查合格书、cover_sheet"
        " 图签页），见环节的 evidence_parts。",
        parameters=[STAGE_PARAMETER],
        request={"multipart/form-data": out.EvidenceInput},
        responses={201: out.Evidence},
    )
    def post(self, request, pk, stage_code):
        project = stage_of_own_project_or_404(request, pk, stage_code, "evidence.add")
        form = EvidenceUploadForm(request.data, request.FILES)
        if not form.is_valid():
            # As the page: refused before the service sees it, audited as the service's own refusals are.
            refused = [f"上传失败：{error}" for errors in form.errors.values() for error in errors]
            audit.record_refusal(
                self.actor(), "evidence.add", project, project=project, message="；".join(refused)
            )
            inputs.raise_form_errors(form)
        evidence = services.add_evidence(
            actor=self.actor(),
            project=project,
            stage_code=stage_code,
            uploaded_file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
            part=str(request.data.get("part") or "")[:30],  # one the stage asks for: the service checks
        )
        return Response(out.Evidence(evidence_row(evidence)).data, status=http_status.HTTP_201_CREATED)


class SelfCheck(MemberView):
    @extend_schema(
        tags=TAG, summary="自查：与页面相同的规则与结论（规则代码见 docs/rules.md）", responses=out.SelfCheck
    )
    def get(self, request, pk):
        enterprise = enterprise_of(request)
        project = own_project_or_404(request, enterprise, pk, "project.self_check")
        findings = rules.evaluate(rules.load_project(pk))
        data = {
            "project_id": pk,
            **rules.summarise(findings),
            "rule_count": sum(1 for r in rules.RULES if project.kind in r.kinds),
            "findings": [finding_row(f) for f in findings],
        }
        return Response(out.SelfCheck(data).data)


class OwnRecordAction(RecordAction):
    def find(self, request, pk):
        return own_project_or_404(request, enterprise_of(request), pk, self.action)


@extend_schema_view(
    post=extend_schema(
        tags=TAG,
        summary="提交审核（自查有错误时拒绝，并列出规则与字段）",
        request=out.TransitionInput,
        responses=out.ProjectSummary,
    )
)
class Submit(OwnRecordAction):
    action = "project.submit"

    def perform(self, project, data):
        return services.submit_project(
            actor=self.actor(), project=project, expected_status=data.get("expected_status")
        )


@extend_schema_view(
    post=extend_schema(
        tags=TAG,
        summary="撤回提交（审核人员作出决定之前）",
        request=out.TransitionInput,
        responses=out.ProjectSummary,
    )
)
class Withdraw(OwnRecordAction):
    action = "project.withdraw"

    def perform(self, project, data):
        return services.withdraw_project(
            actor=self.actor(), project=project, expected_status=data.get("expected_status")
        )


class Status(MemberView):
    @extend_schema(tags=TAG, summary="进度：状态、各步用时、受理回执", responses=out.ProjectStatus)
    def get(self, request, pk):
        enterprise = enterprise_of(request)
        project = own_project_or_404(request, enterprise, pk, "project.view")
        entry = LibraryEntry.objects.filter(project=project).only("national_id").first()
        data = {
            "id": project.pk,
            "project_number": project.project_number,
            "status": project.status,
            "status_label": project.get_status_display(),
            "national_id": entry.national_id if entry else None,
            "timeline": selectors.progress_timeline(project),
            "receipts": [{"number": r.number, "issued_at": r.issued_at} for r in project.receipts.all()],
        }
        return Response(out.ProjectStatus(data).data)


class History(MemberView):
    """As the history page: for the enterprise, its reviewers and the city (projects.history decides what each
    reads)."""

    @extend_schema(
        tags=TAG, summary="操作记录（谁、何时、从何处、改了什么）", responses=out.HistoryRow(many=True)
    )
    def get(self, request, pk):
        with lookups_refused_recorded(request, "project.history", Project(pk=pk), NOT_FOUND["project"]):
            project = selectors.visible_projects(request.user).filter(pk=pk).first()
            if project is None:
                raise Http404(NOT_FOUND["project"])
        rows = history.rows_for(request.user, project, selectors.project_history(project))
        data = [
            {
                "occurred_at": row.occurred_at,
                "actor": row.actor,
                "organisation": row.organisation,
                "ip_address": row.ip_address,
                "summary": row.summary,
                "refused": row.refused,
                "changes": [{"label": c.label, "before": c.before, "after": c.after} for c in row.changes],
            }
            for row in rows
        ]
        return Response(out.HistoryRow(data, many=True).data)


class Comments(MemberView):
    @extend_schema(tags=TAG, summary="审核意见（open：尚待本次修改回应）", responses=out.Comment(many=True))
    def get(self, request, pk):
        enterprise = enterprise_of(request)
        project = own_project_or_404(request, enterprise, pk, "project.view")
        comments = [comment_row(c, where(c.stage, c.field)) for c in project.review_comments.order_by("id")]
        return Response(out.Comment(comments, many=True).data)


class CorrectionCreate(MemberView):
    """As the correction request page (corrections.views.request_create): an enterprise's own record in the library."""

    parser_classes = [BoundedMultiPartParser]

    @property
    def max_body_bytes(self):
        return settings.API_MAX_UPLOAD_BYTES

    @extend_schema(
        tags=TAG,
        summary="申请更正已入库的记录（multipart/form-data）",
        request={"multipart/form-data": out.CorrectionInput},
        responses={201: out.Correction},
    )
    def post(self, request, pk):
        if not permissions.is_enterprise(request.user):
            raise PermissionDenied("此接口仅供企业填报人员使用。")
        with lookups_refused_recorded(request, "correction.file", Project(pk=pk), NOT_FOUND["project"]):
            project = (
                permissions.visible_projects(request.user).select_related("authority").filter(pk=pk).first()
            )
            if project is None:
                raise Http404(NOT_FOUND["project"])
        items = _items(request.data.get("items"))
        correction = correction_services.file_correction_request(
            actor=self.actor(),
            project=project,
            statement=str(request.data.get("statement", ""))[:5000],
            items=items,
            evidence_files=request.FILES.getlist("evidence"),
        )
        data = {
            "reference": correction.reference,
            "status": correction.status,
            "status_label": correction.get_status_display(),
            "project_id": project.pk,
        }
        return Response(out.Correction(data).data, status=http_status.HTTP_201_CREATED)


def _items(raw) -> list[dict]:
    """The items field: a JSON array of {stage, field, proposed_value, reason}, as the request form's rows."""
    try:
        items = json.loads(raw or "[]")
    except (TypeError, ValueError, RecursionError):
        raise ValidationError({"items": ["更正事项须为 JSON 数组。"]}) from None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationError({"items": ["更正事项须为 JSON 数组，每项为对象。"]})
    return [
        {key: str(item.get(key) or "")[:2000] for key in ("stage", "field", "proposed_value", "reason")}
        for item in items[:100]
    ]

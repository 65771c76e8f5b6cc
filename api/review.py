"""The reviewer's endpoints: the work queue, a record with its findings and changes, and the three decisions. As the
console (review/admin.py, review/views.py): the queue is the console users'; a record is read through the policy's
visible_projects (another authority's record, or a draft, is a 404, recorded as `<action>.refused`); the decisions
are review.services', which check the policy, the state and audit."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.response import Response

from projects import permissions, selectors
from projects.models import Project
from projects.views import NOT_FOUND, lookups_refused_recorded
from review import queue, services
from review import selectors as review_selectors

from . import serializers as out
from .base import MemberView
from .enterprise import evidence_row, finding_row, project_values
from .pagination import cursor_ordered
from .records import RecordAction, summary

TAG = ["审核"]


def visible_or_404(request, pk, action) -> Project:
    with lookups_refused_recorded(request, action, Project(pk=pk), NOT_FOUND["project"]):
        project = (
            selectors.visible_projects(request.user)
            .select_related("authority", "enterprise")
            .filter(pk=pk)
            .first()
        )
        if project is None:
            raise Http404(NOT_FOUND["project"])
    return project


class Queue(MemberView):
    pagination_class = cursor_ordered(("submitted_at", "id"))

    @extend_schema(
        tags=TAG,
        summary="工作队列（待我审核等，按提交时间先后）",
        parameters=[OpenApiParameter("tab", str, enum=list(queue.TABS), description="todo 待我审核（默认）")],
        responses=out.QueueRow(many=True),
    )
    def get(self, request):
        user = request.user
        if not permissions.is_console_user(user):
            raise PermissionDenied("此接口仅供审核人员和市级管理人员使用。")
        is_reviewer = permissions.is_review_staff(user)  # a district's or a drawing-review agency's
        tab = request.query_params.get("tab", queue.TODO if is_reviewer else queue.FAILED)
        if tab not in queue.TABS or (not is_reviewer and tab != queue.FAILED):
            tab = queue.TODO if is_reviewer else queue.FAILED
        items = self.paginate_queryset(queue.listing(user, tab))
        today = timezone.localdate()
        rows = [
            {
                "id": row.project.pk,
                "project_number": row.project.project_number,
                "name": row.project.name,
                "enterprise_name": row.project.enterprise.name,
                "status": row.project.status,
                "submitted_at": row.project.submitted_at,
                "assigned_to_me": getattr(getattr(row.project, "assignment", None), "reviewer_id", None)
                == user.pk,
                "reviewer": row.reviewer_name,
                "waited_working_days": row.waited,
                "limit_working_days": row.limit,
                "overdue": row.overdue,
            }
            for row in queue.rows(items, today)
        ]
        return self.get_paginated_response(out.QueueRow(rows, many=True).data)


def decision_row(d) -> dict:
    return {
        "decision": d.decision,
        "ground": d.ground,
        "reason": d.reason,
        "authority_name": d.authority_name,
        "decided_at": d.decided_at,
        "version": d.version.number if d.version else None,
    }


class Record(MemberView):
    @extend_schema(
        tags=TAG,
        summary="审核页的内容：六个环节、证明材料、自查结论、意见、决定、与上次提交相比的改动",
        responses=out.ReviewRecord,
    )
    def get(self, request, pk):
        if not permissions.is_console_user(request.user):
            raise PermissionDenied("此接口仅供审核人员和市级管理人员使用。")
        project = visible_or_404(request, pk, "project.view")
        page = review_selectors.review_page(project)
        data = {
            **summary(project),
            "enterprise": {"name": project.enterprise.name, "credit_code": project.enterprise.credit_code},
            "values": project_values(project),
            "stages": {
                view.code: ({name: value for name, _label, value in view.rows} if view.filled else None)
                for view in page["stages"]
            },
            "evidence": [
                evidence_row(e) for view in page["stages"] for e in view.evidence if e.archived_at is None
            ],
            "findings": [finding_row(row["finding"]) for row in page["findings"]],
            "errors": page["summary"]["errors"],
            "warnings": page["summary"]["warnings"],
            "comments": [
                {
                    "id": row["comment"].pk,
                    "stage": row["comment"].stage,
                    "field": row["comment"].field,
                    "where": row["where"],
                    "text": row["comment"].text,
                    "author_organisation": row["comment"].author_organisation,
                    "created_at": row["comment"].created_at,
                    "open": row["comment"].settled_by_version_id is None,
                }
                for row in page["comments"]
            ],
            "decisions": [decision_row(d) for d in page["decisions"]],
            "changes_since_previous_submission": [
                {"stage": c.stage, "field": c.field, "label": c.label, "before": c.before, "after": c.after}
                for c in page["comparison"].changes
            ],
            "may_decide": permissions.may_decide(request.user, project),
        }
        return Response(out.ReviewRecord(data).data)


class DecisionAction(RecordAction):
    """A decision on a record the caller may see (the district may read a design record it may not decide: the
    service refuses it, 403, audited)."""

    def find(self, request, pk):
        return visible_or_404(request, pk, self.action)


@extend_schema_view(
    post=extend_schema(
        tags=TAG, summary="审核通过（进入公示）", request=out.ApproveInput, responses=out.ProjectSummary
    )
)
class Approve(DecisionAction):
    action = "review.approve"
    input_class = out.ApproveInput

    def perform(self, project, data):
        return services.approve(
            actor=self.actor(),
            project=project,
            expected_status=data.get("expected_status"),
            comment=data.get("comment", ""),
        )


@extend_schema_view(
    post=extend_schema(
        tags=TAG,
        summary="退回修改（至少一条意见，可指定环节与字段）",
        request=out.ReturnInput,
        responses=out.ProjectSummary,
    )
)
class Return(DecisionAction):
    action = "review.return"
    input_class = out.ReturnInput

    def perform(self, project, data):
        comments = [
            {"stage": c.get("stage", ""), "field": c.get("field", ""), "text": c["text"]}
            for c in data["comments"]
        ]
        return services.return_for_revision(
            actor=self.actor(),
            project=project,
            comments=comments,
            expected_status=data.get("expected_status"),
        )


@extend_schema_view(
    post=extend_schema(
        tags=TAG,
        summary="不予受理（最终决定，须写明理由）",
        request=out.RejectInput,
        responses=out.ProjectSummary,
    )
)
class Reject(DecisionAction):
    action = "review.reject"
    input_class = out.RejectInput

    def perform(self, project, data):
        return services.reject(
            actor=self.actor(),
            project=project,
            ground=data["ground"],
            reason=data["reason"],
            expected_status=data.get("expected_status"),
        )

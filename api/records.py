"""What the enterprise's and the reviewer's endpoints share: a record's summary, and the one shape of the action
views (submit, withdraw, approve, return, reject): find the record as the caller may see it (else a 404, recorded
as `<action>.refused`), read the body, call the one service (which checks the policy and the state, and audits),
answer the record's summary."""

from rest_framework.response import Response

from . import serializers as out
from .base import MemberView


def authority(project) -> dict:
    return {"id": project.authority_id, "code": project.authority.code, "name": project.authority.name}


def summary(project) -> dict:
    return {
        "id": project.pk,
        "project_number": project.project_number,
        "name": project.name,
        "kind": project.kind,
        "kind_label": project.get_kind_display(),
        "status": project.status,
        "status_label": project.get_status_display(),
        "authority": authority(project),
        "updated_at": project.updated_at,
        "submitted_at": project.submitted_at,
    }


def valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data if isinstance(request.data, dict) else {})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RecordAction(MemberView):
    """A subclass names its audit `action`, its body (`input_class`), how the caller finds the record (`find`)
    and the service it calls (`perform`); its schema goes on with extend_schema_view(post=…)."""

    action = ""
    input_class = out.TransitionInput

    def find(self, request, pk):
        raise NotImplementedError

    def perform(self, project, data: dict):
        raise NotImplementedError

    def post(self, request, pk):
        project = self.find(request, pk)
        project = self.perform(project, valid(self.input_class, request))
        return Response(out.ProjectSummary(summary(project)).data)

"""Telling people about a correction, through the one notifier (projects.notifications.notify: inbox rows now,
e-mail once committed); whom to tell is the policy's (projects.permissions)."""

from projects import notifications, permissions
from projects.models import CityDepartment

from .values import field_label


def reviewers_of(project):
    """The record's reviewers (its authority's; a design record's agency's): they give the opinion."""
    return [m.user for m in permissions.project_reviewers(project).select_related("user")]


def approval_center_users():
    """The city approval service center: it decides the requests the district accepted."""
    return [
        m.user
        for m in permissions.department_members([CityDepartment.APPROVAL_CENTER]).select_related("user")
    ]


def items_text(request) -> str:
    return "\n".join(
        f"- {field_label(item.stage, item.field_name)}：{item.current_value or '（空）'} → {item.proposed_value}"
        for item in request.items.all()
    )


def tell_decision(actor, project, request, verdict, opinion):
    title = f"更正申请{request.reference}：市审批服务中心{verdict}"
    body = (
        f"项目“{project.name}”（{project.project_number}）的更正申请（编号{request.reference}）经"
        f"{actor.organisation_name}审定：{verdict}。\n审定意见：{opinion}"
    )
    notifications.notify_enterprise(project, title, body)
    notifications.notify(reviewers_of(project), project=project, title=title, body=body)

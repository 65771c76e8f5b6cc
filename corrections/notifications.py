"""Telling people about a correction: inbox rows now, e-mail once committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from projects import notifications
from projects.models import CityDepartment, Membership, Notification, Role

from .values import field_label

# ---------------------------------------------------------------- telling people


def notify(users, project, title: str, body: str):
    """Inbox rows now, e-mail once committed (as projects.notifications.notify_enterprise does)."""
    users = [u for u in users if u.is_active]
    Notification.objects.bulk_create(
        [Notification(recipient=user, project=project, title=title, body=body) for user in users]
    )
    addresses = [user.email for user in users if user.email]
    if addresses:
        transaction.on_commit(
            lambda: send_mail(
                f"[建设工程项目信息补录] {title}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                addresses,
                fail_silently=True,
            )
        )


def reviewers_of(project):
    return [
        m.user
        for m in Membership.objects.filter(
            role=Role.REVIEWER, authority_id=project.authority_id
        ).select_related("user")
    ]


def approval_center_users():
    return [
        m.user
        for m in Membership.objects.filter(
            role=Role.CITY, department=CityDepartment.APPROVAL_CENTER
        ).select_related("user")
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
    notify(reviewers_of(project), project, title, body)

"""Telling people what happened: the in-portal inbox, and e-mail after the transaction commits."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from . import permissions
from .models import Notification


def enterprise_users(enterprise_id):
    """The enterprise's active clerks."""
    return [
        m.user
        for m in permissions.enterprise_members(enterprise_id).select_related("user")
        if m.user.is_active
    ]


def notify_enterprise(project, title: str, body: str) -> list[Notification]:
    """Every active user of the project's enterprise gets an inbox row now and an e-mail once committed."""
    users = enterprise_users(project.enterprise_id)
    rows = Notification.objects.bulk_create(
        [Notification(recipient=user, project=project, title=title, body=body) for user in users]
    )
    addresses = [user.email for user in users if user.email]
    if addresses:
        # After commit: a rolled-back decision must not have told anyone anything.
        transaction.on_commit(
            lambda: send_mail(
                f"[建设工程项目信息补录] {title}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                addresses,
                fail_silently=True,
            )
        )
    return rows

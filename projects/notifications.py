"""Telling people what happened, one way for every app: the in-portal inbox now, e-mail once committed."""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from . import permissions
from .models import Notification

SUBJECT_PREFIX = "[建设工程项目信息补录] "


def notify(users, *, project=None, title: str, body: str) -> list[Notification]:
    """An inbox row for each active user (one INSERT, whatever their number), and one e-mail to those with an
    address, sent after the transaction commits: a rolled-back decision must not have told anyone anything.
    `users`: User objects (loaded with their e-mail); a user named twice is told once. `project`: the record the
    message is about, or None (a spot-check campaign)."""
    recipients = list({user.pk: user for user in users if user.is_active}.values())
    rows = Notification.objects.bulk_create(
        [Notification(recipient=user, project=project, title=title, body=body) for user in recipients]
    )
    addresses = [user.email for user in recipients if user.email]
    if addresses:
        transaction.on_commit(
            lambda: send_mail(
                SUBJECT_PREFIX + title, body, settings.DEFAULT_FROM_EMAIL, addresses, fail_silently=True
            )
        )
    return rows


def enterprise_users(enterprise_id):
    """The enterprise's active clerks."""
    return [
        m.user
        for m in permissions.enterprise_members(enterprise_id).select_related("user")
        if m.user.is_active
    ]


def notify_enterprise(project, title: str, body: str) -> list[Notification]:
    """Every active user of the project's enterprise: two queries (the users, the inbox rows)."""
    return notify(enterprise_users(project.enterprise_id), project=project, title=title, body=body)

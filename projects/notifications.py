"""Telling people what happened, one way for every app: the in-portal inbox now, e-mail once committed."""

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils.text import Truncator

from . import permissions
from .models import Notification

SUBJECT_PREFIX = "[建设工程项目信息补录] "


def notify(users, *, project=None, title: str, body: str) -> list[Notification]:
    """An inbox row for each active user (one INSERT, whatever their number), and an e-mail to each of those with
    an address, sent after the transaction commits: a rolled-back decision must not have told anyone anything.
    One message per recipient over one connection, so that no recipient sees the others' addresses.
    `users`: User objects (loaded with their e-mail); a user named twice is told once. `project`: the record the
    message is about, or None (a spot-check campaign)."""
    recipients = list({user.pk: user for user in users if user.is_active}.values())
    # A title names the project, whose name may be as long as the title's column: shortened, never refused (a
    # decision must not fail for its message); the body and the e-mail keep it whole.
    inbox_title = Truncator(title).chars(Notification._meta.get_field("title").max_length, truncate="…")
    rows = Notification.objects.bulk_create(
        [Notification(recipient=user, project=project, title=inbox_title, body=body) for user in recipients]
    )
    addresses = sorted({user.email for user in recipients if user.email})
    if addresses:
        transaction.on_commit(lambda: _send_each(addresses, SUBJECT_PREFIX + title, body))
    return rows


def _send_each(addresses, subject: str, body: str) -> None:
    connection = get_connection(fail_silently=True)
    messages = [EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in addresses]
    connection.send_messages(messages)


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

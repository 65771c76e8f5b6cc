"""The three administrators (三员分立; docs/security.md, "Separated administrator duties") and the superuser's use.

Who may do what is projects.permissions'; the admin pages (projects/admin.py) ask it. Here: what their work writes
to the audit trail, and the security administrator's tools that are not a model's own change.

- Every change made in the admin (Django's LogEntry: an addition, a change, a deletion, by anyone) is also an audit
  event, `admin.add` / `admin.change` / `admin.delete`, so the administrators' own work is in the trail that none
  of them can change (no admin page changes or deletes an AuditEvent; PostgreSQL refuses it too).
- A superuser is for the installation (creating the first administrators): each of its logins is an audit event,
  `superuser.login`, and its changes are admin events like anyone's.
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import audit, permissions
from .client_address import client_ip

ADMIN_ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}


@receiver(user_logged_in)
def _superuser_login(sender, request, user, **kwargs):
    if getattr(user, "is_superuser", False):
        # The signal comes before login() sets request.user: the actor is the user logging in.
        actor = audit.Actor(user, ip_address=client_ip(request) if request is not None else None)
        audit.record(actor, "superuser.login", user, message="超级管理员登录（仅限安装部署使用）")


@receiver(post_save, sender=LogEntry)
def _admin_change(sender, instance: LogEntry, created, **kwargs):
    """One audit event per admin log entry. The admin deletes one object at a time (the bulk delete action is off:
    nothing is hard-deleted in bulk), so every entry is saved one by one and reaches this receiver."""
    if not created:
        return
    model = instance.content_type.model_class() if instance.content_type_id else None
    changes = {"object": instance.object_repr, "change": instance.get_change_message()}
    event_user = instance.user
    actor = audit.Actor(event_user, ip_address=None)
    role = permissions.administrator_duty(event_user) or ("superuser" if event_user.is_superuser else "")
    audit.record(
        actor,
        ADMIN_ACTIONS.get(instance.action_flag, "admin.change"),
        None,
        changes={
            **changes,
            "model": model._meta.label if model else "",
            "id": str(instance.object_id),
            "as": role,
        },
        message=f"管理后台：{instance}"[:500],
    )


def unlock_login(*, actor: audit.Actor, user) -> int:
    """Lift a login lockout (django-axes) before it ends by itself: the security administrator's."""
    from axes.utils import reset

    permissions.ensure_security_administrator(actor.user, "解除登录锁定")
    removed = reset(username=user.get_username())
    audit.record(
        actor, "account.unlock", user, message=f"解除{user.get_username()}的登录锁定（{removed}条失败记录）"
    )
    return removed

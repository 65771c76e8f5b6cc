"""The console's alarm for a broken audit chain (projects/retention.py): shown while the latest check found it broken,
to those the policy names (projects.permissions.sees_audit_alarm)."""

from django import template

from projects import permissions, retention

register = template.Library()


@register.inclusion_tag("admin/_audit_alarm.html", takes_context=True)
def audit_chain_alarm(context):
    user = context["request"].user
    if not permissions.sees_audit_alarm(user):
        return {"check": None}
    check = retention.latest_check()
    return {"check": check if check is not None and not check.intact else None}

"""The console's alerts from the publicity side: the official calendar's data running out, and deliveries to the
national platform that were given up on (docs/lifecycle.md, "Delivery")."""

from django import template
from django.utils import timezone

from publicity import services, timing

register = template.Library()


@register.inclusion_tag("publicity/_calendar_warning.html")
def calendar_warning():
    return {"warning": timing.calendar_warning(timezone.localdate())}


@register.inclusion_tag("publicity/_failed_deliveries.html", takes_context=True)
def failed_deliveries_banner(context):
    user = context["request"].user
    return {"count": services.failed_deliveries(user).count()}

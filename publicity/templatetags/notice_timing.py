"""Template tags of the notice timers: the console's warning that the official calendar's data runs out."""

from django import template
from django.utils import timezone

from publicity import timing

register = template.Library()


@register.inclusion_tag("publicity/_calendar_warning.html")
def calendar_warning():
    return {"warning": timing.calendar_warning(timezone.localdate())}

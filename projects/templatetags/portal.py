from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """{{ comments_by_field|get_item:field.name }}: a dict lookup by a variable key."""
    return mapping.get(key, ()) if mapping else ()

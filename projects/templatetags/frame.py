"""The page frame (base.html's header and footer) rendered once per process instead of once per request
(bench/README.md: its includes and `{% url %}` tags were about a quarter of an uncached public page).

- `{% fragment "public/_header_links.html" signed_in=user.is_authenticated %}` renders the template with *only*
  the given values in its context (as `{% include … with … only %}`), and keeps the result for the rest of the
  process keyed by those values: a fragment cannot depend on anything it was not given, so what is kept is what
  any request with the same values would render. Values are plain data (text, numbers, booleans, None, dicts of
  them: the helpdesk's details), never a user or a queryset.
- `{% fixed_url "home" %}` is `{% url "home" %}` for a URL without arguments, reversed once.

Both are keyed also by what reversing a URL depends on (the URLconf, the script prefix, the current app) and the
language. The kept copies are dropped when a setting changes (tests) or a source file changes (the development
server reloads templates without restarting).
"""

from django import template
from django.core.signals import setting_changed
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.autoreload import file_changed
from django.utils.html import conditional_escape

register = template.Library()

_rendered: dict = {}


def forget(**kwargs):
    _rendered.clear()


setting_changed.connect(forget, dispatch_uid="projects.frame.setting_changed")
file_changed.connect(forget, dispatch_uid="projects.frame.file_changed")


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"a fragment is keyed by plain values, not {type(value).__name__}")


def _current_app(context):
    """As Django's {% url %} takes it."""
    request = context.get("request")
    if request is None:
        return None
    current_app = getattr(request, "current_app", None)
    if current_app is None:
        match = getattr(request, "resolver_match", None)
        current_app = match.namespace if match else None
    return current_app


# Where _where() keeps what it read for the rest of a page's rendering.
_WHERE_KEY = "projects.frame.where"


def _where(context) -> tuple:
    """What a fragment or fixed URL depends on besides its values. The URLconf, the script prefix and the current
    app are read once a page (kept in the render context, which the page and the templates it extends share: an
    include reads them again) — they change between requests, never while a page renders; reading them is two
    thread-local lookups and a walk of the context, eight times a public page. The language is read every time:
    {% language %} changes it in the middle of a page."""
    render_context = context.render_context
    where = render_context.get(_WHERE_KEY)
    if where is None:
        where = render_context[_WHERE_KEY] = (get_urlconf(), get_script_prefix(), _current_app(context))
    return (*where, translation.get_language())


class FragmentNode(template.Node):
    def __init__(self, name, values):
        self.name = name
        self.values = values

    def render(self, context):
        values = {key: value.resolve(context) for key, value in self.values.items()}
        key = ("fragment", self.name, _frozen(values), _where(context), context.autoescape, context.use_l10n)
        text = _rendered.get(key)
        if text is None:
            text = get_template(self.name).template.render(
                template.Context(values, autoescape=context.autoescape, use_l10n=context.use_l10n)
            )
            _rendered[key] = text
        return text


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError('{% fragment "template name" [name=value …] %}')
    values = template.base.token_kwargs(bits[2:], parser, support_legacy=False)
    if len(values) != len(bits) - 2:
        raise template.TemplateSyntaxError(f"{bits[0]}: values are given as name=value")
    return FragmentNode(bits[1][1:-1], values)


@register.simple_tag(takes_context=True)
def fixed_url(context, name):
    key = ("url", name, _where(context))
    url = _rendered.get(key)
    if url is None:
        url = _rendered[key] = reverse(name, current_app=_current_app(context))
    return conditional_escape(url) if context.autoescape else url

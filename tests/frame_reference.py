"""The reference for tests/test_page_frame.py: `{% fragment %}` as Django's `{% include … with … %}` (the whole
context, nothing kept) and `{% fixed_url %}` as `{% url %}`."""

from django import template
from django.template.defaulttags import url as url_tag
from django.template.loader_tags import do_include

register = template.Library()


@register.tag
def fragment(parser, token):
    bits = token.split_contents()
    source = f"include {bits[1]}" + (" with " + " ".join(bits[2:]) if bits[2:] else "")
    return do_include(parser, template.base.Token(token.token_type, source))


@register.tag
def fixed_url(parser, token):
    return url_tag(
        parser, template.base.Token(token.token_type, token.contents.replace("fixed_url", "url", 1))
    )

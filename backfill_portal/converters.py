"""URL path converters shared by the apps' urls.py."""

from django.urls import register_converter


class IdentifierConverter:
    """A reference or an outside identifier in a URL (YY…, GZ…, NP-…): letters, digits, '-', '_', '.', at most 64.
    Anything else cannot be one, so it is a 404 before any query."""

    regex = r"[-A-Za-z0-9_.]{1,64}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(IdentifierConverter, "identifier")

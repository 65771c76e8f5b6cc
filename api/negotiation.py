"""Which renderer answers: DRF's content negotiation, with the calls that leave the choice to the server answered
at once. A call without an Accept header (or with `*/*`, or with the first renderer's own media type) and without
`?format=` gets the first renderer with its media type, what DRF's negotiation gives it after parsing the header and
every renderer's media type (about a hundred Python calls on each API call; bench/README.md, api.py). Any other
Accept header (`application/json; indent=4`, `text/html`, a list…) is DRF's to judge, as before."""

from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    """settings.REST_FRAMEWORK["DEFAULT_CONTENT_NEGOTIATION_CLASS"]."""

    def select_renderer(self, request, renderers, format_suffix=None):
        first = renderers[0] if renderers else None
        if (
            first is not None
            and format_suffix is None
            and request.META.get("HTTP_ACCEPT", "*/*") in ("*/*", first.media_type)
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

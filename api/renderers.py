"""The JSON of the 业绩 lookup, written by orjson (docs/dependencies.md): the same bytes as DRF's JSONRenderer, in a
tenth of the time (json.dumps of its page cost more than its query's Python; bench/README.md, api.py).

For data of text, integers, booleans, None, lists and dicts with text keys, orjson writes exactly what DRF's
JSONRenderer writes with the settings we keep (compact, UTF-8 not escaped, strict): the same escapes, the same key
order, no spaces — but for U+2028 and U+2029, which DRF escapes (so that the JSON is a JavaScript subset) and so does
this renderer. tests/test_api_performance.py compares the two over every character.

Anything else goes to DRF's own renderer: a type orjson would refuse or write differently (a date, a Decimal, a lazy
translation: routed to `_elsewhere`, which refuses it), a key that is not text, an integer beyond 64 bits, a
pretty-printed answer (`Accept: application/json; indent=4`). Floats are the one thing orjson would take and write
its own way (1e16 where json writes 1e+16): a view that uses this renderer gives it no floats (the 业绩 rows are
built as text by api.public._performance_row; the error bodies of api.errors are text)."""

import orjson
from rest_framework.renderers import JSONRenderer

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _elsewhere(value):
    raise TypeError(type(value).__name__)


class TextJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer for data without floats, its common case (no indent asked) written by orjson."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (
            data is None
            or accepted_media_type not in (None, self.media_type)
            or (renderer_context or {}).get("indent") is not None
            or not self.compact
            or self.ensure_ascii
            or not self.strict
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            body = orjson.dumps(data, default=_elsewhere, option=_OPTIONS)
        except TypeError:
            return super().render(data, accepted_media_type, renderer_context)
        return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")

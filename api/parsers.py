"""Request bodies, bounded (docs/api.md, "Limits"): a JSON body is at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes and
API_MAX_JSON_DEPTH levels deep; a multipart body (evidence) at most the view's `max_body_bytes`. Both are checked
before the body is parsed: a 50 MB body is refused from its Content-Length without being read, and a deeply nested
"JSON bomb" before Python's recursive parser sees it.

DRF's own JSONParser reads the stream without Django's DATA_UPLOAD_MAX_MEMORY_SIZE check (that check is in
HttpRequest.body, which DRF does not use), hence these."""

import json
import re

from django.conf import settings
from rest_framework import exceptions, parsers, status

# Strings are removed before brackets are counted: a "[" inside a string is no nesting.
STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
BRACKETS = re.compile(rb"[\[\]{}]")


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"
    default_detail = "请求内容过大。"


def content_length(parser_context) -> int:
    request = parser_context.get("request")
    meta = request.META if request is not None else {}
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except (TypeError, ValueError):
        return 0


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"请求内容超过上限{limit // 1024}KB。")


def depth_of(raw: bytes) -> int:
    depth = deepest = 0
    for bracket in BRACKETS.findall(STRING.sub(b'""', raw)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name):
    raise ValueError(f"不支持的数值 {name}")


class BoundedJSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if content_length(parser_context) > limit:
            raise _too_large(limit)
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise _too_large(limit)
        if depth_of(raw) > settings.API_MAX_JSON_DEPTH:
            raise exceptions.ParseError(
                f"JSON 嵌套超过{settings.API_MAX_JSON_DEPTH}层。", code="json_too_deep"
            )
        try:
            return json.loads(
                raw.decode(parser_context.get("encoding") or "utf-8"), parse_constant=_refuse_constant
            )
        except (ValueError, RecursionError):
            raise exceptions.ParseError("请求内容不是有效的 JSON。", code="parse_error") from None


class BoundedMultiPartParser(parsers.MultiPartParser):
    """Evidence uploads. Django's own limits apply too (DATA_UPLOAD_MAX_NUMBER_FILES, the fields' memory size)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        view = parser_context.get("view")
        limit = getattr(view, "max_body_bytes", None) or settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if content_length(parser_context) > limit:
            raise _too_large(limit)
        return super().parse(stream, media_type, parser_context)

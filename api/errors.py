"""Every refusal of the API as one JSON shape (docs/api.md, "Errors"):

    {"code": "rule_violation", "message": "…", "field": "permit_number",
     "errors": [{"code": "REQ-1", "message": "…", "field": "permit_number", "stage": "permit"}]}

`code` is stable (clients branch on it), `message` is the Chinese text the page would show, `field` the first field
concerned (or null). The services' refusals keep their meaning: PermissionDenied 403, RecordLocked 409 (the state
does not allow it), RuleViolation and ValidationError 400, Http404 404 (also for what the caller may not see).
"""

import re

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation, ValidationError
from django.http import Http404
from django_fsm import ConcurrentTransition
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from projects.models import RecordLocked
from projects.services import RuleViolation

NOT_FOUND = "不存在或无权查看。"
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# DRF's refusals, as the API words them (DRF's own translations are used for the rest).
MESSAGES = {
    "not_authenticated": "请先登录，或在 Authorization 头中提供接口令牌（Bearer）。",
    "method_not_allowed": "该接口不支持此请求方法。",
    "unsupported_media_type": "不支持的请求内容类型：请使用 application/json（上传文件用 multipart/form-data）。",
    "not_acceptable": "只能返回 application/json。",
}


def body(code: str, message: str, field=None, errors=None) -> dict:
    return {"code": code, "message": message, "field": field or None, "errors": errors or []}


def _finding(f) -> dict:
    return {"code": f.code, "message": f.message, "field": f.field or None, "stage": f.stage}


def _validation_errors(error: ValidationError) -> list[dict]:
    if hasattr(error, "error_dict"):
        return [
            {
                "code": "invalid",
                "message": message,
                "field": None if name == "__all__" else name,
                "stage": None,
            }
            for name, messages in error.message_dict.items()
            for message in messages
        ]
    return [
        {"code": "invalid", "message": message, "field": None, "stage": None} for message in error.messages
    ]


def _drf_validation_errors(detail, prefix="") -> list[dict]:
    """DRF's nested detail ({field: [ErrorDetail]}, lists of those…) flattened to rows with dotted field names."""
    if isinstance(detail, dict):
        rows = []
        for name, value in detail.items():
            field = f"{prefix}.{name}" if prefix else str(name)
            if name in ("non_field_errors", "__all__"):
                field = prefix
            rows.extend(_drf_validation_errors(value, field))
        return rows
    if isinstance(detail, list):
        rows = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            rows.extend(_drf_validation_errors(value, f"{prefix}.{index}" if nested and prefix else prefix))
        return rows
    return [
        {
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
            "field": prefix or None,
            "stage": None,
        }
    ]


def _response(status_code, payload, headers=None):
    response = Response(payload, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def from_errors(code: str, errors: list[dict], status_code=status.HTTP_400_BAD_REQUEST):
    first = errors[0] if errors else {"message": "请求内容有误。", "field": None}
    return _response(status_code, body(code, first["message"], first.get("field"), errors))


def handle(exc, context):
    """settings.REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, Http404):
        # Django's get_object_or_404 says it in English ("No Project matches…"): the API says it in Chinese.
        message = str(exc) if CHINESE.search(str(exc)) else NOT_FOUND
        return _response(404, body("not_found", message))
    if isinstance(exc, RuleViolation):
        return from_errors("rule_violation", [_finding(f) for f in exc.findings])
    if isinstance(exc, ValidationError):
        return from_errors("invalid", _validation_errors(exc))
    if isinstance(exc, RecordLocked):
        return _response(409, body("record_locked", str(exc)))
    if isinstance(exc, ConcurrentTransition):
        return _response(409, body("conflict", "该项目刚被他人处理，本次操作未生效。请刷新后查看。"))
    if isinstance(exc, PermissionDenied):
        return _response(403, body("permission_denied", str(exc) or "无权进行此操作。"))
    if isinstance(exc, RequestDataTooBig):
        return _response(413, body("body_too_large", "请求内容过大。"))
    if isinstance(exc, SuspiciousOperation):
        return _response(400, body("bad_request", "请求无效。"))
    if isinstance(exc, exceptions.ValidationError):
        return from_errors("invalid", _drf_validation_errors(exc.detail))
    if isinstance(exc, exceptions.APIException):
        return _api_exception(exc, context)
    return None  # a bug: Django's 500, logged


def _api_exception(exc, context):
    response = drf_exception_handler(exc, context)  # its headers: WWW-Authenticate, Retry-After, Allow
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    message = MESSAGES.get(code) or str(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
        message = (
            f"请求过于频繁，请{int(exc.wait or 1)}秒后再试。" if exc.wait else "请求过于频繁，请稍后再试。"
        )
    headers = {name: value for name, value in response.items()} if response is not None else {}
    headers.pop("Content-Type", None)
    return _response(exc.status_code, body(code, message), headers)

"""The OpenAPI 3 schema (drf-spectacular): every operation documents the error shape of api/errors.py for the
statuses it may answer, so a client (and schemathesis) reads every response the API gives from the schema."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

ERROR_SCHEMA = {
    "type": "object",
    "description": "错误：稳定的 code、中文 message、相关字段 field；errors 逐条列出（如自查规则代码）。",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string", "nullable": True},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string", "nullable": True},
                    "stage": {"type": "string", "nullable": True},
                },
                "required": ["code", "message", "field"],
            },
        },
    },
    "required": ["code", "message", "field", "errors"],
}

ERRORS = {
    "400": "请求内容有误（字段错误、自查未通过等）",
    "401": "未登录，或令牌无效、过期、已吊销",
    "403": "无权进行此操作",
    "404": "不存在或无权查看",
    "405": "不支持该请求方法",
    "406": "不可接受的响应格式",
    "409": "记录状态不允许此操作",
    "413": "请求内容过大",
    "415": "不支持的请求内容类型",
    "429": "请求过于频繁",
}
PUBLIC_ERRORS = ("400", "404", "405", "406", "429")


class AutoSchema(SpectacularAutoSchema):
    pass


def add_error_responses(result, generator, request, public):
    """POSTPROCESSING_HOOKS: the Error component, and the error statuses on every operation (the public ones have
    no login: no 401/403/409; the others may answer any of them)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        statuses = PUBLIC_ERRORS if path.startswith("/api/v1/public/") else tuple(ERRORS)
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status in statuses:
                if status == "413" and method in ("get", "head", "delete"):
                    continue
                operation["responses"].setdefault(
                    status, {"description": ERRORS[status], "content": reference}
                )
    return result

"""Project-wide middleware."""

from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpResponseBadRequest, JsonResponse

NUL = "\x00"


class RefuseNulBytesMiddleware:
    """A NUL byte in the path or the query string is refused with a 400 before any view runs.

    No legitimate link carries one, and PostgreSQL answers a text comparison with NUL by an error, not an empty
    result: the admin's list filters (?status__exact=%00) and any view that reads a query parameter without a form
    would otherwise fail with a 500. Forms already refuse NUL in what is posted (Django's CharField validator), so
    the body is left to them and uploaded files are not touched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or any(
            NUL in key or NUL in value for key, values in request.GET.lists() for value in values
        ):
            message = "请求地址中含有非法字符（NUL），无法处理。"
            if request.path.startswith("/api/"):  # the open API's error shape (docs/api.md)
                return JsonResponse(
                    {"code": "bad_request", "message": message, "field": None, "errors": []}, status=400
                )
            return HttpResponseBadRequest(message.encode(), content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class RefuseEmptyAdminToFieldMiddleware:
    """`?_to_field=` (empty) on an admin change page is refused with a 400.

    The admin checks a non-empty `_to_field` against the fields it may look up by, but passes an empty one on to
    `get_object()`, where `_meta.get_field("")` raises FieldDoesNotExist: a 500 for any staff user, found by
    tests/test_fuzz_parameters.py. No admin link carries an empty one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.GET.get("_to_field", None) == "":
            return HttpResponseBadRequest(
                "请求参数 _to_field 不能为空。".encode(), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


class FixedPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, with the policy built from the settings once per process instead of twice a
    response.

    django-csp 4.0 builds both headers (the enforced and the report-only one) from CONTENT_SECURITY_POLICY on every
    response, before it looks at whether the response needs one: about 5 % of the bare view, on every page alike
    (bench/README.md). Without a per-response policy (`@csp_update`, `@csp_replace`, `@csp`: the API's docs page,
    the evidence downloads) and without a nonce (no template asks for `request.csp_nonce`), the two strings depend
    on the settings only: they are kept, and forgotten when a setting changes (tests). Anything else goes through
    django-csp unchanged."""

    # What django-csp's decorators set on a response (as attributes: the response's own __dict__).
    _PER_RESPONSE = frozenset(
        ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
    )
    _fixed: tuple | None = None

    @classmethod
    def _policies(cls) -> tuple:
        fixed = cls._fixed
        if fixed is None:
            enforced = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
            report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
            fixed = cls._fixed = (
                build_policy(),
                tuple(enforced.get("EXCLUDE_URL_PREFIXES", None) or ()),
                build_policy(report_only=True),
                tuple(report_only.get("EXCLUDE_URL_PREFIXES", None) or ()),
            )
        return fixed

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or not self._PER_RESPONSE.isdisjoint(
            vars(response)
        ):
            return super().process_response(request, response)
        if (
            response.status_code in (500, 404) and settings.DEBUG
        ):  # django-csp leaves Django's debug pages alone
            return response
        csp, excluded, csp_ro, excluded_ro = self._policies()
        path = request.path_info
        if (
            csp
            and CSP_HEADER not in response
            and getattr(response, "_csp_exempt", False) is False
            and not path.startswith(excluded)
        ):
            response[CSP_HEADER] = csp
        if (
            csp_ro
            and CSP_HEADER_REPORT_ONLY not in response
            and getattr(response, "_csp_exempt_ro", False) is False
            and not path.startswith(excluded_ro)
        ):
            response[CSP_HEADER_REPORT_ONLY] = csp_ro
        # As django-csp does: asking for a nonce after the header is written is an error, not a silent no-op.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


def _forget_fixed_policy(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        FixedPolicyCSPMiddleware._fixed = None


setting_changed.connect(_forget_fixed_policy, dispatch_uid="backfill_portal.middleware.fixed_csp")

"""Project-wide middleware."""

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

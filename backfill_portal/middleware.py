"""Project-wide middleware."""

from django.http import HttpResponseBadRequest

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
            return HttpResponseBadRequest(
                "请求地址中含有非法字符（NUL），无法处理。".encode(), content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)

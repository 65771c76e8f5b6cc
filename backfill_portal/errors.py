"""The portal's own error pages (400, 403, 404, 500): in Chinese, in the portal's look, with the helpdesk.

Without DEBUG, Django calls the handlers below (backfill_portal/urls.py). With DEBUG on, as `make run` serves the
demo, Django would answer a 404, a 400 or an uncaught exception with its English technical pages (the 404 one lists
every URL of the site): ChineseErrorPagesMiddleware answers with the same pages as production instead, and logs
what Django's page would have shown. DEBUG_TECHNICAL_ERROR_PAGES=1 gives a developer Django's pages back.
"""

import logging

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.shortcuts import render
from django.template import loader

from .context_processors import contact_details

request_log = logging.getLogger("django.request")
security_log = logging.getLogger("django.security")


def bad_request(request, exception=None):
    return render(request, "400.html", status=400)


def permission_denied(request, exception=None):
    # The reason a view gave ("此页面仅供企业填报人员使用。") is shown, as Django's default handler does.
    message = str(exception) if exception is not None else ""
    return render(request, "403.html", {"exception": message}, status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    """Rendered without the request's context processors: one of them may be what failed."""
    from django.http import HttpResponseServerError

    html = loader.get_template("500.html").render({"portal_contact": contact_details()})
    return HttpResponseServerError(html)


class ChineseErrorPagesMiddleware:
    """With DEBUG on, the error pages above instead of Django's technical pages (see the module's docstring).
    Without DEBUG it does nothing: Django calls the handlers itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def active() -> bool:
        return settings.DEBUG and not settings.DEBUG_TECHNICAL_ERROR_PAGES

    def __call__(self, request):
        response = self.get_response(request)
        # No URL matched (Django sets resolver_match only on a match; a redirect to the address with a slash has
        # already been made by CommonMiddleware inside this one): the technical 404 is replaced.
        if self.active() and response.status_code == 404 and request.resolver_match is None:
            request_log.warning("Not Found: %s", request.path)
            return page_not_found(request)
        return response

    def process_exception(self, request, exception):
        if not self.active():
            return None
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, PermissionDenied):
            return None  # Django renders 403.html (permission_denied) with DEBUG on too
        if isinstance(exception, SuspiciousOperation | BadRequest):
            security_log.error(str(exception), exc_info=exception)
            return bad_request(request, exception)
        request_log.error("Internal Server Error: %s", request.path, exc_info=exception)
        return server_error(request)

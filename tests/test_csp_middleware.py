"""The Content-Security-Policy header kept per process (backfill_portal.middleware.FixedPolicyCSPMiddleware): the same
header django-csp builds, a settings change followed, a per-response policy and a nonce still django-csp's own."""

import pytest
from csp.constants import NONCE
from csp.decorators import csp_update
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from backfill_portal.middleware import FixedPolicyCSPMiddleware

HEADER = "Content-Security-Policy"
REPORT_ONLY = "Content-Security-Policy-Report-Only"


def through(middleware_class, view, path="/notices/"):
    request = RequestFactory().get(path)
    middleware = middleware_class(view)
    middleware.process_request(request)
    return request, middleware.process_response(request, view(request))


def plain(request):
    return HttpResponse("ok")


def directives(header: str) -> dict:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def test_it_sets_the_header_django_csp_sets():
    _, ours = through(FixedPolicyCSPMiddleware, plain)
    _, theirs = through(CSPMiddleware, plain)

    assert directives(ours[HEADER]) == directives(theirs[HEADER])
    assert "default-src 'self'" in ours[HEADER]
    assert REPORT_ONLY not in ours and REPORT_ONLY not in theirs


def test_it_follows_a_change_of_the_policy_in_the_settings():
    through(FixedPolicyCSPMiddleware, plain)  # kept
    changed = {"DIRECTIVES": {"default-src": ["'none'"]}, "EXCLUDE_URL_PREFIXES": ["/excluded/"]}
    report_only = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": "/csp-report/"}}

    with override_settings(CONTENT_SECURITY_POLICY=changed, CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        _, response = through(FixedPolicyCSPMiddleware, plain)
        _, excluded = through(FixedPolicyCSPMiddleware, plain, path="/excluded/page/")

    assert response[HEADER] == "default-src 'none'"
    assert directives(response[REPORT_ONLY]) == {"default-src": "'self'", "report-uri": "/csp-report/"}
    assert HEADER not in excluded and REPORT_ONLY in excluded
    _, after = through(FixedPolicyCSPMiddleware, plain)
    assert "default-src 'self'" in after[HEADER] and REPORT_ONLY not in after


def test_a_response_with_its_own_policy_gets_it():
    _, response = through(FixedPolicyCSPMiddleware, csp_update({"style-src": ["'unsafe-inline'"]})(plain))

    assert directives(response[HEADER])["style-src"] == "'self' 'unsafe-inline'"


def test_a_header_set_by_the_view_is_kept():
    def own(request):
        response = HttpResponse("file")
        response[HEADER] = "default-src 'none'; sandbox"
        return response

    _, response = through(FixedPolicyCSPMiddleware, own)

    assert response[HEADER] == "default-src 'none'; sandbox"


def test_a_nonce_asked_for_before_the_response_is_in_the_header():
    def with_nonce(request):
        return HttpResponse(str(request.csp_nonce))

    nonce_policy = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'self'", NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=nonce_policy):
        _, response = through(FixedPolicyCSPMiddleware, with_nonce)

    assert f"'nonce-{response.content.decode()}'" in response[HEADER]


def test_asking_for_a_nonce_after_the_header_is_an_error():
    request, _ = through(FixedPolicyCSPMiddleware, plain)

    with pytest.raises(CSPNonceError):
        str(request.csp_nonce)

"""The open API (docs/api.md). The version is in the path: /api/v1/…; a change that breaks a client gets /api/v2/
beside it. The schema (OpenAPI 3) at /api/openapi.json, readable docs at /api/docs/ (Swagger UI from our own static
files, drf-spectacular-sidecar)."""

from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

import backfill_portal.converters  # noqa: F401  (registers <identifier:…>)

from . import enterprise, public, review, views

app_name = "api"

v1 = [
    # public, no login
    path("public/notices/", public.NoticeList.as_view(), name="notices"),
    path("public/notices/<int:notice_id>/", public.NoticeDetail.as_view(), name="notice"),
    path("public/library/", public.LibraryList.as_view(), name="library"),
    path("public/library/<identifier:national_id>/", public.LibraryDetail.as_view(), name="library_entry"),
    path(
        "public/library/<identifier:national_id>/versions/<int:version>/",
        public.LibraryVersion.as_view(),
        name="library_version",
    ),
    path("public/performance/<identifier:credit_code>/", public.Performance.as_view(), name="performance"),
    path("public/blacklist/<identifier:credit_code>/", public.Blacklist.as_view(), name="blacklist"),
    # the enterprise
    path("projects/", enterprise.ProjectList.as_view(), name="projects"),
    path("projects/<int:pk>/", enterprise.ProjectDetail.as_view(), name="project"),
    path("projects/<int:pk>/stages/<str:stage_code>/", enterprise.StageDetail.as_view(), name="stage"),
    path(
        "projects/<int:pk>/stages/<str:stage_code>/evidence/",
        enterprise.EvidenceUpload.as_view(),
        name="evidence",
    ),
    path("projects/<int:pk>/check/", enterprise.SelfCheck.as_view(), name="self_check"),
    path("projects/<int:pk>/submit/", enterprise.Submit.as_view(), name="submit"),
    path("projects/<int:pk>/withdraw/", enterprise.Withdraw.as_view(), name="withdraw"),
    path("projects/<int:pk>/status/", enterprise.Status.as_view(), name="status"),
    path("projects/<int:pk>/history/", enterprise.History.as_view(), name="history"),
    path("projects/<int:pk>/comments/", enterprise.Comments.as_view(), name="comments"),
    path("projects/<int:pk>/corrections/", enterprise.CorrectionCreate.as_view(), name="correction_create"),
    # the reviewer
    path("review/queue/", review.Queue.as_view(), name="review_queue"),
    path("review/projects/<int:pk>/", review.Record.as_view(), name="review_record"),
    path("review/projects/<int:pk>/approve/", review.Approve.as_view(), name="review_approve"),
    path("review/projects/<int:pk>/return/", review.Return.as_view(), name="review_return"),
    path("review/projects/<int:pk>/reject/", review.Reject.as_view(), name="review_reject"),
]

urlpatterns = [
    path("", views.index, name="index"),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="schema"),
    # Swagger UI sets one inline style as it renders: allowed on this page only (styles run no code; the page shows
    # no user input), scripts stay 'self' only.
    path(
        "docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api:schema")
        ),
        name="docs",
    ),
    path("v1/", include(v1)),
    # Anything else under /api/ (an id that is no number, a path of no endpoint): the API's JSON 404, not the
    # portal's HTML page.
    re_path(r"", views.no_endpoint, name="no_endpoint"),
]

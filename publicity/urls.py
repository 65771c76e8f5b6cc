import os

from django.conf import settings
from django.urls import path

import backfill_portal.converters  # noqa: F401  (registers <identifier:…>)

from . import site_urls, views

app_name = "publicity"

# The public site's front door, paper and 业绩 pages first: "library/performance/" must win over
# "library/<identifier:national_id>/".
urlpatterns = [
    *site_urls.urlpatterns,
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<int:notice_id>/", views.notice_detail, name="notice_detail"),
    path("objections/lookup/", views.objection_lookup, name="objection_lookup"),
    path("objections/<identifier:reference>/", views.objection_status, name="objection_status"),
    path("library/", views.library_list, name="library_list"),
    path("library/<identifier:national_id>/", views.library_detail, name="library_detail"),
    path("library/<identifier:national_id>/v<int:version>/", views.library_version, name="library_version"),
]

# The benchmark's baseline view (bench/notice_pages.py): never routed in production.
if settings.DEBUG or os.environ.get("BENCH_BARE_VIEW") == "1":
    urlpatterns.append(path("bench/bare/", views.bare, name="bench_bare"))

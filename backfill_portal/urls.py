from django.contrib import admin
from django.urls import include, path

from publicity import site

from . import accounts

admin.site.site_header = "建设工程项目信息补录系统 · 审核管理"
admin.site.site_title = "补录审核"
admin.site.index_title = "审核管理"

urlpatterns = [
    # Before projects.urls' own "home" (the same "/"): anonymous visitors get the public home page, logged-in users
    # are sent on by projects.views.home as before.
    path("", site.home, name="home"),
    # Before django.contrib.auth.urls: the reset request is throttled; the help page is for accounts without e-mail.
    path("accounts/password_reset/", accounts.ThrottledPasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_help/", accounts.password_help, name="password_help"),
    path("accounts/two-factor/", include((accounts.two_factor_urls, "two_factor"))),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("", include("api.token_urls")),
    path("", include("review.urls")),
    path("", include("corrections.urls")),
    path("", include("inspections.urls")),
    path("", include("integrity.urls")),
    path("", include("reporting.urls")),
    path("", include("publicity.urls")),
    path("", include("imports.urls")),
    path("", include("projects.urls")),
]

# The portal's own error pages (backfill_portal/errors.py; with DEBUG on, its middleware).
handler400 = "backfill_portal.errors.bad_request"
handler403 = "backfill_portal.errors.permission_denied"
handler404 = "backfill_portal.errors.page_not_found"
handler500 = "backfill_portal.errors.server_error"

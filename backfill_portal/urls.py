from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "建设工程项目信息补录系统 · 审核管理"
admin.site.site_title = "补录审核"
admin.site.index_title = "审核管理"

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("review.urls")),
    path("", include("corrections.urls")),
    path("", include("inspections.urls")),
    path("", include("integrity.urls")),
    path("", include("reporting.urls")),
    path("", include("publicity.urls")),
    path("", include("projects.urls")),
]

"""The public endpoints (no login, throttled per client address): notices, a notice, the library, an entered record
and its versions, 业绩 by credit code, the blacklist by credit code. Public data only: what the public pages show,
through the same selectors (publicity.selectors, publicity.performance, integrity.selectors)."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from integrity import selectors as integrity_selectors
from projects.models import ProjectType
from publicity import performance
from publicity import selectors as publicity
from publicity.models import LibraryEntry, NoticeState
from publicity.snapshots import public_sections

from . import serializers as out
from .base import PublicView
from .pagination import cursor_ordered
from .renderers import TextJSONRenderer

PROJECT_TYPES = dict(ProjectType.choices)
TAG = ["公开查询"]
Q = OpenApiParameter("q", str, description="项目编号、文件编号（完整）或项目/企业名称的一部分")


def _sections(content) -> list[dict]:
    return [
        {"label": section["label"], "rows": [[str(label), str(value)] for label, value in section["rows"]]}
        for section in public_sections(content)
    ]


def _public_row(row, names) -> dict:
    return {
        "project_number": row.project_number,
        "project_name": row.project_name,
        "enterprise_name": row.enterprise_name,
        "authority_name": names.get(row.authority_id, ""),
        "project_type": row.project_type,
        "project_type_label": PROJECT_TYPES.get(row.project_type, row.project_type),
    }


def _notice_row(notice, names, now) -> dict:
    return {
        **_public_row(notice, names),
        "id": notice.pk,
        "state": notice.state,
        "starts_at": notice.starts_at,
        "ends": notice.end_text,
        "days_left": notice.days_left(now),
        "paused": notice.state == NoticeState.PAUSED,
    }


def _authority_names() -> dict:
    return {a.id: a.name for a in publicity.authorities()}


def _q(request) -> str:
    return " ".join(request.query_params.get("q", "").split())[:100]


class NoticeList(PublicView):
    pagination_class = cursor_ordered(("-starts_at", "-id"))

    @extend_schema(tags=TAG, parameters=[Q], responses=out.NoticeRow(many=True), summary="公示中的项目")
    def get(self, request):
        queryset = publicity.search(publicity.public_notices(), q=_q(request), date_field="starts_at")
        names, now = _authority_names(), timezone.now()
        items = self.paginate_queryset(queryset.only(*publicity.NOTICE_LIST_FIELDS))
        return self.get_paginated_response(
            out.NoticeRow([_notice_row(n, names, now) for n in items], many=True).data
        )


class NoticeDetail(PublicView):
    @extend_schema(tags=TAG, responses=out.Notice, summary="一条公示（公示内容，身份证号已遮盖）")
    def get(self, request, notice_id):
        notice = publicity.public_notice_or_404(notice_id)
        snapshot = notice.snapshot
        data = {
            **_notice_row(notice, _authority_names(), timezone.now()),
            "snapshot_version": snapshot.version,
            "content_hash": snapshot.content_hash,
            "sections": _sections(snapshot.content),
        }
        return Response(out.Notice(data).data)


def _library_row(entry, names) -> dict:
    return {
        **_public_row(entry, names),
        "national_id": entry.national_id,
        "national_version": entry.national_version,
        "entered_at": entry.entered_at,
        "updated_at": entry.updated_at,
    }


def _versions(snapshots) -> list[dict]:
    return [
        {
            "version": s.version,
            "content_hash": s.content_hash,
            "created_at": s.created_at,
            "notice_state": getattr(getattr(s, "notice", None), "state", None),
        }
        for s in snapshots
    ]


class LibraryList(PublicView):
    pagination_class = cursor_ordered(("-entered_at", "-id"))

    @extend_schema(
        tags=TAG,
        parameters=[Q],
        responses=out.LibraryRow(many=True),
        summary="已进入全国平台项目库的补录项目",
    )
    def get(self, request):
        queryset = publicity.search(LibraryEntry.objects.all(), q=_q(request), date_field="entered_at")
        names = _authority_names()
        items = self.paginate_queryset(queryset.only(*publicity.LIBRARY_LIST_FIELDS))
        return self.get_paginated_response(
            out.LibraryRow([_library_row(e, names) for e in items], many=True).data
        )


class LibraryDetail(PublicView):
    @extend_schema(tags=TAG, responses=out.LibraryEntry, summary="一条入库记录及其各版本")
    def get(self, request, national_id, version=None):
        entry = publicity.library_entry_or_404(national_id)
        snapshot = entry.snapshot if version is None else publicity.published_snapshot_or_404(entry, version)
        data = {
            **_library_row(entry, _authority_names()),
            "snapshot_version": snapshot.version,
            "sections": _sections(snapshot.content),
            "versions": _versions(publicity.published_versions(entry)),
        }
        return Response(out.LibraryEntry(data).data)


class LibraryVersion(LibraryDetail):
    @extend_schema(tags=TAG, responses=out.LibraryEntry, summary="入库记录的某一版本（更正前的版本）")
    def get(self, request, national_id, version):
        return super().get(request, national_id, version)


def _credit_code(value: str, field: str = "credit_code") -> str:
    code = (value or "").strip().upper()
    if not performance.CREDIT_CODE.fullmatch(code):
        raise ValidationError({field: ["统一社会信用代码应为18位数字或大写字母。"]})
    return code


class Performance(PublicView):
    """业绩: an enterprise's records in the national library, by its credit code (publicity.performance)."""

    pagination_class = cursor_ordered(("-entered_at", "-id"))
    # Its rows are text, integers and lists (_performance_row): orjson writes them as DRF's JSONRenderer would.
    renderer_classes = [TextJSONRenderer]

    @extend_schema(
        tags=TAG, responses=out.PerformanceRecord(many=True), summary="按统一社会信用代码查询企业业绩"
    )
    def get(self, request, credit_code):
        code = _credit_code(credit_code)
        rows = performance.with_versions(self.paginate_queryset(performance.entry_values(code)))
        zone = timezone.get_current_timezone()
        return self.get_paginated_response([_performance_row(row, zone) for row in rows])


# The rows are built here as PerformanceRecord renders them (its fields' order, text and numbers; the schema is
# still its definition), without running the serializer on each of them: on the first page of an enterprise its
# fields cost more than the query (bench/README.md, api.py). tests/test_api_performance.py pins the bytes.
def _datetime(value, zone) -> str:
    """DRF's DateTimeField in ISO 8601 (REST_FRAMEWORK has no DATETIME_FORMAT): in the current time zone, UTC as Z."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _performance_row(row: dict, zone) -> dict:
    figures, documents = performance.shown(row["shown"])
    return {
        "national_id": row["national_id"],
        "project_number": row["project_number"],
        "project_name": row["project_name"],
        "enterprise_name": row["enterprise_name"],
        "enterprise_credit_code": row["enterprise_credit_code"],
        "entered_at": _datetime(row["entered_at"], zone),
        "figures": figures,
        "documents": documents,
        "versions": row["versions"],
    }


class Blacklist(PublicView):
    """The blacklist in force, by credit code: what the public blacklist page shows (integrity.selectors)."""

    pagination_class = cursor_ordered(("-starts_on", "-id"))

    @extend_schema(
        tags=TAG, responses=out.BlacklistRow(many=True), summary="按统一社会信用代码查询黑名单（列入期内）"
    )
    def get(self, request, credit_code):
        query = integrity_selectors.BlacklistQuery(credit_code=credit_code[:40])
        if query.problem:
            raise ValidationError({"credit_code": [query.problem]})
        rows = integrity_selectors.blacklist_rows(query).only(
            "id", "reason", "starts_on", "ends_on", "enterprise__name", "enterprise__credit_code"
        )
        items = self.paginate_queryset(rows)
        data = [
            {
                "enterprise_name": listing.enterprise.name,
                "credit_code": listing.enterprise.credit_code,
                "reason": listing.reason,
                "starts_on": listing.starts_on,
                "ends_on": listing.ends_on,
            }
            for listing in items
        ]
        return self.get_paginated_response(out.BlacklistRow(data, many=True).data)

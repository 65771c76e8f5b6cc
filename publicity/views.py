"""The public pages (no login): notices and their objection form, the objector's lookup, the national library.

Thin: reads through publicity.selectors (a fixed number of queries per page), the one write through
publicity.services.file_objection. Nothing here shows a contact, an evidence file or an ID number in full.
"""

import logging
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit
from django_ratelimit.exceptions import Ratelimited

from backfill_portal.cache import cache_available
from backfill_portal.url_makers import identifier_url_maker, url_maker
from projects.client_address import client_ip
from projects.models import ProjectType
from projects.services import RecordLocked

from . import rows as row_html
from . import selectors, services, timing
from .forms import LookupForm, ObjectionForm, PublicSearchForm
from .models import NoticeState, Objection, new_reference
from .page_cache import cached_for_anonymous, csrf_context
from .snapshots import public_sections
from .timing import BEIJING

log = logging.getLogger(__name__)

# Lookups by reference per IP: enough for a person, too few to walk the reference space.
LOOKUP_RATE = "30/m"


def objection_rate(group, request):
    """Read at each request, so a test (or an operator) changing settings.OBJECTION_RATE takes effect. While the
    cache that counts is down, no limit (fail-open, unlike the other throttles): an objection is a right with a
    deadline, and one refused in a notice's last hours cannot be filed later (docs/architecture.md)."""
    if not cache_available(getattr(settings, "RATELIMIT_USE_CACHE", "default")):
        return None
    return settings.OBJECTION_RATE


def rate_limited(request, exception=None):
    """settings.RATELIMIT_VIEW: too many requests from one address (429, in Chinese)."""
    return render(request, "publicity/rate_limited.html", status=429)


def throttled(view):
    """Turn django-ratelimit's refusal into the 429 page here, whether or not RatelimitMiddleware (which
    would call RATELIMIT_VIEW) is installed: without it, Ratelimited is a PermissionDenied and becomes a 403."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Ratelimited as refusal:
            log.warning("rate limited: %s %s from %s", request.method, request.path, client_ip(request))
            return rate_limited(request, refusal)

    return wrapper


PROJECT_TYPES = dict(ProjectType.choices)


@dataclass
class Row:
    """One line of a public list, as text: the template only prints it (rendering is most of a page's cost)."""

    url: str
    project_number: str
    project_name: str
    enterprise_name: str
    authority_name: str
    project_type: str
    date: str
    deadline: str = ""
    days_left: int = 0
    paused: bool = False
    national_id: str = ""


def _day(moment) -> str:
    return f"{moment.astimezone(BEIJING):%Y-%m-%d}"


def _notice_rows(notices, authority_names):
    """Rows of selectors.notice_page (named tuples). The days left and the end as Notice.days_left and
    Notice.end_text give them, each worked out once a page for the notices that share it: a page's notices mostly
    started on the same few days, and counting the days one by one for each row was 4 % of the page."""
    now = timezone.now()
    detail_url = url_maker("publicity:notice_detail")
    days_left, end_text, day = {}, {}, {}
    rows = []
    for n in notices:
        paused = n.state == NoticeState.PAUSED
        ends_at = timing.resumed_end(now, n.remaining_seconds or 0) if paused else n.ends_at
        if (started := day.get(n.starts_at)) is None:
            started = day[n.starts_at] = n.starts_at.astimezone(BEIJING).date()
        # timing.days_left reads the start only as its Beijing day.
        if (left := days_left.get((started, ends_at))) is None:
            left = days_left[started, ends_at] = timing.days_left(n.starts_at, ends_at, now)
        if (deadline := end_text.get(n.ends_at)) is None:
            deadline = end_text[n.ends_at] = timing.end_text(n.ends_at)
        rows.append(
            Row(
                url=detail_url(n.id),
                project_number=n.project_number,
                project_name=n.project_name,
                enterprise_name=n.enterprise_name,
                authority_name=authority_names.get(n.authority_id, ""),
                project_type=PROJECT_TYPES.get(n.project_type, n.project_type),
                date=f"{started:%Y-%m-%d}",
                deadline=deadline,
                days_left=left,
                paused=paused,
            )
        )
    return rows


def _library_rows(entries, authority_names):
    detail_url = identifier_url_maker("publicity:library_detail")
    return [
        Row(
            url=detail_url(e.national_id),
            project_number=e.project_number,
            project_name=e.project_name,
            enterprise_name=e.enterprise_name,
            authority_name=authority_names.get(e.authority_id, ""),
            project_type=PROJECT_TYPES.get(e.project_type, e.project_type),
            date=_day(e.entered_at),
            national_id=e.national_id,
        )
        for e in entries
    ]


def _search(request, page_function):
    """The list pages' common part: 1 query for the authorities, 1 for the page."""
    authorities = selectors.authorities()
    form = PublicSearchForm(request.GET or None, authorities=authorities)
    number = selectors.page_number(request.GET.get("page"))
    if form.is_bound and not form.is_valid():
        page = selectors.Page(items=[], number=1, has_next=False)
    else:
        page = page_function(number, **form.filters())
    return form, page, {a.id: a.name for a in authorities}


# ---------------------------------------------------------------- notices


@require_GET
@cached_for_anonymous
def notice_list(request):
    form, page, names = _search(request, selectors.notice_page)
    rows = _notice_rows(page, names)
    return render(
        request,
        "publicity/notice_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "rows_html": row_html.notice_rows(rows),
            "notice_days": settings.NOTICE_DAYS,
        },
    )


def _detail_context(notice, form):
    snapshot = notice.snapshot
    return {
        "notice": notice,
        "snapshot": snapshot,
        # Called by the template only when its cached copy of the sections is missing: the snapshot never changes.
        "sections": lambda: public_sections(snapshot.content),
        "days_left": notice.days_left(),
        "deadline": notice.end_text,
        "paused": notice.state == NoticeState.PAUSED,
        "form": form,
    }


@require_http_methods(["GET", "POST"])
@cached_for_anonymous  # anonymous GETs only: a POST (an objection) always reaches the throttle below
@throttled
@ratelimit(key="ip", rate=objection_rate, method="POST", block=True)
def notice_detail(request, notice_id):
    notice = selectors.public_notice_or_404(notice_id)
    if request.method != "POST":
        context = {**_detail_context(notice, ObjectionForm()), **csrf_context(request)}
        return render(request, "publicity/notice_detail.html", context)

    form = ObjectionForm(request.POST, request.FILES)
    if form.is_bot:
        # Looks exactly like a success to the bot; nothing is stored.
        log.warning(
            "objection honeypot filled on notice %s from %s: not stored",
            notice.pk,
            client_ip(request),
        )
        return render(
            request, "publicity/objection_filed.html", {"notice": notice, "reference": new_reference()}
        )
    if form.is_valid():
        data = form.cleaned_data
        try:
            objection = services.file_objection(
                notice_id=notice.pk,
                name=data["name"],
                contact=data["contact"],
                reason=data["reason"],
                evidence=data["evidence"] or None,
                ip_address=client_ip(request),
            )
        except ValidationError as invalid:
            form.add_service_errors(invalid)
        except RecordLocked as refusal:
            form.add_error(None, str(refusal))
        else:
            return render(
                request,
                "publicity/objection_filed.html",
                {"notice": notice, "reference": objection.reference},
            )
    return render(request, "publicity/notice_detail.html", _detail_context(notice, form), status=400)


# ---------------------------------------------------------------- the objector's lookup


@require_GET
@throttled
@ratelimit(group="publicity.objection_lookup", key="ip", rate=LOOKUP_RATE, block=True)
def objection_lookup(request):
    form = LookupForm(request.GET or None)
    status = 200
    if form.is_valid():
        reference = selectors.normalise_reference(form.cleaned_data["reference"])
        if Objection.objects.filter(reference=reference).exists():
            return redirect("publicity:objection_status", reference=reference)
        form.add_error("reference", f"未找到受理编号为“{reference}”的异议，请核对后重新输入。")
        status = 404
    return render(request, "publicity/objection_lookup.html", {"form": form}, status=status)


@require_GET
@throttled
@ratelimit(group="publicity.objection_lookup", key="ip", rate=LOOKUP_RATE, block=True)
def objection_status(request, reference):
    objection = selectors.objection_status_or_404(reference)
    return render(request, "publicity/objection_status.html", {"objection": objection})


# ---------------------------------------------------------------- the national library


@require_GET
@cached_for_anonymous
def library_list(request):
    form, page, names = _search(request, selectors.library_page)
    rows = _library_rows(page, names)
    return render(
        request,
        "publicity/library_list.html",
        {"form": form, "page": page, "rows": rows, "rows_html": row_html.library_rows(rows)},
    )


@require_GET
@cached_for_anonymous
def library_detail(request, national_id):
    entry = selectors.library_entry_or_404(national_id)
    return render(
        request,
        "publicity/library_detail.html",
        {
            "entry": entry,
            "snapshot": entry.snapshot,
            "sections": public_sections(entry.snapshot.content),
            "versions": selectors.published_versions(entry),
        },
    )


@require_GET
@cached_for_anonymous
def library_version(request, national_id, version):
    entry = selectors.library_entry_or_404(national_id)
    snapshot = selectors.published_snapshot_or_404(entry, version)
    return render(
        request,
        "publicity/library_detail.html",
        {
            "entry": entry,
            "snapshot": snapshot,
            "sections": public_sections(snapshot.content),
            "versions": selectors.published_versions(entry),
            "historical": snapshot.pk != entry.snapshot_id,
        },
    )


# ---------------------------------------------------------------- benchmark baseline


def bare(request):
    """The benchmark's baseline: the whole Django stack, no query, no template (bench/notice_pages.py).
    Routed only with DEBUG or BENCH_BARE_VIEW=1 (publicity/urls.py)."""
    return HttpResponse("ok")

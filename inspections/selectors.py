"""Reads of spot checks: campaigns with their counts, a department's work list, an item for the city."""

from django.core.paginator import Paginator
from django.db.models import Case, Count, IntegerField, Q, Value, When

from projects.models import STAGE_MODELS
from projects.permissions import checks_spot_checks, department_of, is_city, scoped_to_department
from publicity.models import LibraryEntry
from review.selectors import display_value

from .models import Finding, SpotCheckCampaign, SpotCheckItem
from .services import FINDINGS_NEEDING_NOTES, PAGE_SIZE, STAGE_DEPARTMENTS, population


def campaigns(q: str = ""):
    """Campaigns, newest first, with their item counts (one query)."""
    queryset = SpotCheckCampaign.objects.annotate(
        item_count=Count("items"),
        pending_count=Count("items", filter=Q(items__finding=Finding.PENDING)),
        problem_count=Count("items", filter=Q(items__finding__in=FINDINGS_NEEDING_NOTES)),
    ).order_by("-created_at", "-id")
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(name__icontains=q)
    return queryset


def campaign_page(q: str, page):
    paginator = Paginator(campaigns(q).prefetch_related("authorities"), PAGE_SIZE)
    return paginator.get_page(page)


def campaign_items(campaign, *, finding: str = ""):
    queryset = SpotCheckItem.objects.filter(campaign=campaign).select_related(
        "project", "project__enterprise", "project__authority", "checked_by"
    )
    if finding:
        queryset = queryset.filter(finding=finding)
    return queryset.order_by("project_id", "id")


def _pending_first(queryset):
    return queryset.annotate(
        done=Case(When(finding=Finding.PENDING, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("done", "-campaign__created_at", "project_id", "id")


def work_list(user, *, q: str = "", finding: str = ""):
    """The items routed to the user's department (a superuser: all), pending first, searchable by project
    number, project name, enterprise name or credit code, or campaign name."""
    queryset = SpotCheckItem.objects.select_related(
        "campaign", "project", "project__enterprise", "project__authority"
    )
    queryset = scoped_to_department(user, queryset)
    if finding:
        queryset = queryset.filter(finding=finding)
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(
            Q(project__project_number__icontains=q)
            | Q(project__name__icontains=q)
            | Q(project__enterprise__name__icontains=q)
            | Q(project__enterprise__credit_code=q.upper())
            | Q(campaign__name__icontains=q)
        )
    return _pending_first(queryset)


def item_for_city(user, item_id: int) -> SpotCheckItem | None:
    """An item, to any city user (findings are read by the whole commission); None otherwise."""
    if not is_city(user):
        return None
    return (
        SpotCheckItem.objects.select_related(
            "campaign", "project", "project__enterprise", "project__authority", "checked_by", "evidence_file"
        )
        .filter(pk=item_id)
        .first()
    )


def stage_snapshot_rows(item: SpotCheckItem) -> list[tuple[str, str]]:
    """The sampled stage as it is in the national library (the library entry's current snapshot), labelled."""
    entry = LibraryEntry.objects.select_related("snapshot").filter(project_id=item.project_id).first()
    if entry is None:
        return []
    stage = (entry.snapshot.content.get("stages") or {}).get(item.stage) or {}
    model = STAGE_MODELS[item.stage]
    rows = []
    for name, value in stage.items():
        try:
            field = model._meta.get_field(name)
        except Exception:  # a field the snapshot has and the model no longer does
            rows.append((name, str(value)))
            continue
        rows.append((str(field.verbose_name), display_value(field, value)))
    return rows


def awaiting(user):
    """The work queue's 抽查待核查 (registered in apps.py): the pending items routed to the user's department,
    the earliest drawn first; None for a user no item is routed to (projects.permissions.checks_spot_checks)."""
    if not checks_spot_checks(user):
        return None
    department = department_of(user)
    if department and department not in STAGE_DEPARTMENTS.values():
        return None  # a department no stage is routed to (建管处) has no items to check
    items = scoped_to_department(user, SpotCheckItem.objects.filter(finding=Finding.PENDING))
    return items.select_related("campaign", "project__enterprise", "project__authority").order_by(
        "campaign__drawn_at", "campaign_id", "project_id", "id"
    )


def matching_count(authorities, period_start, period_end) -> int:
    """How many records a campaign with these conditions would draw from (services.population): shown before a
    campaign is created and before its sample is drawn, so that a draw of nothing is seen coming."""
    return population(authorities, period_start, period_end).count()

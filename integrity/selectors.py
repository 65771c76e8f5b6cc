"""Reads of integrity (docs in integrity/services.py): the blacklist in force and the guard it puts on enterprises,
the integrity score and ledger, the register with its query and export, the ledger's index of enterprises."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from projects import identifiers
from projects.models import Enterprise

from .models import Blacklisting, IntegrityDeduction


def day_label(value: datetime.date) -> str:
    return f"{value:%Y-%m-%d}"


def listing_period(listing: Blacklisting) -> str:
    return f"{day_label(listing.starts_on)}至{day_label(listing.ends_on)}"


# ---------------------------------------------------------------- the blacklist in force


def in_force(on: datetime.date | None = None):
    """Listings in force on `on` (today): started, not ended, not lifted."""
    day = on or timezone.localdate()
    return Blacklisting.objects.filter(starts_on__lte=day, ends_on__gte=day, lifted_at__isnull=True)


def active_blacklisting(enterprise, on: datetime.date | None = None) -> Blacklisting | None:
    return in_force(on).filter(enterprise=enterprise).order_by("-ends_on", "-id").first()


def is_blacklisted(enterprise, on: datetime.date | None = None) -> bool:
    return in_force(on).filter(enterprise=enterprise).exists()


def blacklist_guard(enterprise, on: datetime.date) -> str | None:
    """The enterprise guard (projects.services.ENTERPRISE_GUARDS): a blacklisted enterprise may not start or submit
    a backfill. The refusal names the listing's dates."""
    listing = active_blacklisting(enterprise, on)
    if listing is None:
        return None
    return (
        f"{enterprise.name}已被列入建筑市场黑名单（{listing_period(listing)}），"
        "列入期间不能新建或提交补录项目。如有异议，请联系重庆市城乡建设委员会。"
    )


# ---------------------------------------------------------------- the integrity score and ledger


def base_score() -> Decimal:
    return Decimal(str(getattr(settings, "INTEGRITY_BASE_SCORE", 100)))


def integrity_score(enterprise) -> Decimal:
    """INTEGRITY_BASE_SCORE (100) minus every deduction of the enterprise, never below 0."""
    deducted = IntegrityDeduction.objects.filter(enterprise=enterprise).aggregate(total=Sum("points"))[
        "total"
    ]
    return max(Decimal("0"), base_score() - (deducted or Decimal("0")))


def ledger(enterprise):
    return (
        IntegrityDeduction.objects.filter(enterprise=enterprise)
        .select_related("recorded_by", "source_item", "source_item__campaign", "source_item__project")
        .order_by("-recorded_at", "-id")
    )


# ---------------------------------------------------------------- the register, its query and export


class BlacklistQuery:
    """What the blacklist pages filter by: a credit code (checked with projects.identifiers), a name fragment, and
    whether listings no longer in force are included. `problem` holds the Chinese message of a bad code."""

    def __init__(self, credit_code: str = "", name: str = "", include_ended: bool = False):
        self.credit_code = (credit_code or "").strip().upper()
        self.name = (name or "").strip()
        self.include_ended = include_ended
        self.problem = identifiers.credit_code_problem(self.credit_code) if self.credit_code else None

    @classmethod
    def from_params(cls, params, *, allow_ended: bool = True) -> "BlacklistQuery":
        return cls(
            credit_code=params.get("credit_code", "")[:40],
            name=params.get("name", "")[:100],
            include_ended=allow_ended and params.get("scope") == "all",
        )


def blacklist_rows(q: BlacklistQuery | None = None, on: datetime.date | None = None):
    """The register, newest listing first: listings in force on `on` (today), or all of them with
    include_ended. A bad credit code matches nothing."""
    q = q or BlacklistQuery()
    queryset = Blacklisting.objects.select_related("enterprise")
    if not q.include_ended:
        day = on or timezone.localdate()
        queryset = queryset.filter(starts_on__lte=day, ends_on__gte=day, lifted_at__isnull=True)
    if q.problem:
        return queryset.none()
    if q.credit_code:
        queryset = queryset.filter(enterprise__credit_code=q.credit_code)
    if q.name:
        queryset = queryset.filter(enterprise__name__icontains=q.name)
    return queryset.order_by("-starts_on", "-id")


def listing_state(listing: Blacklisting, on: datetime.date | None = None) -> str:
    day = on or timezone.localdate()
    if listing.lifted_at is not None:
        return "已提前移出"
    if listing.ends_on < day:
        return "已届满"
    if listing.starts_on > day:
        return "未开始"
    return "列入中"


EXPORT_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "列入原因",
    "列入日期",
    "届满日期",
    "状态",
    "提前移出日期",
    "移出原因",
]


def export_rows(q: BlacklistQuery | None = None) -> list[list[str]]:
    """The rows of the Excel and CSV exports, as text (dates YYYY-MM-DD): what the public may read, plus whether
    and why a listing was lifted. No source finding, notes, evidence or staff names."""
    today = timezone.localdate()
    return [
        [
            listing.enterprise.name,
            listing.enterprise.credit_code,
            listing.reason,
            day_label(listing.starts_on),
            day_label(listing.ends_on),
            listing_state(listing, today),
            day_label(timezone.localtime(listing.lifted_at).date()) if listing.lifted_at else "",
            listing.lift_reason,
        ]
        for listing in blacklist_rows(q).iterator(chunk_size=2000)
    ]


def enterprises_with_records(q: str = ""):
    """Enterprises that have a listing or a deduction (the ledger's index), with the sum deducted, searchable by name
    or credit code. Subqueries, not joins: a join of both would count each deduction once per listing."""
    deducted = (
        IntegrityDeduction.objects.filter(enterprise=OuterRef("pk"))
        .values("enterprise")
        .annotate(total=Sum("points"))
        .values("total")
    )
    queryset = Enterprise.objects.annotate(
        deducted=Subquery(deducted),
        listed=Exists(Blacklisting.objects.filter(enterprise=OuterRef("pk"))),
    ).filter(Q(listed=True) | Q(deducted__isnull=False))
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(Q(name__icontains=q) | Q(credit_code=q.upper()))
    return queryset.order_by("name", "id")

"""Integrity (诚信): the construction market blacklist (黑名单) and the ledger of integrity deductions (扣分).

- A blacklisting rests on a spot-check item whose finding is false information (信息虚假); nothing else can back
  one. It runs from starts_on to ends_on inclusive (Beijing dates) unless lifted early with a reason. While it
  runs, the enterprise can neither start (create) nor submit backfills: `blacklist_guard` is registered in
  projects.services.ENTERPRISE_GUARDS by integrity.apps.IntegrityConfig.ready, and the refusal names the dates.
  Nothing is deleted: a lifted or ended listing stays in the register.
- The integrity score is INTEGRITY_BASE_SCORE (100) minus the sum of all deductions of the enterprise, never below
  0. Deductions do not expire and are not undone; a deduction made in error is answered by the city in writing,
  not by deleting the line (the ledger is append-only, every line audited).
- Who: city users (any department) and superusers list, lift and deduct. The blacklist's public page shows
  only the enterprise's name and credit code, the reason and the dates of listings in force: the construction
  market blacklist is public information; source findings, notes, evidence and who listed stay internal.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from inspections.models import Finding, SpotCheckItem
from inspections.services import FINDINGS_NEEDING_NOTES, REFUSALS
from projects import audit, identifiers, notifications
from projects.audit import Actor, refusals_recorded
from projects.models import Enterprise, RecordLocked
from projects.permissions import ensure_city

from .models import Blacklisting, IntegrityDeduction

MAX_DEDUCTION = Decimal("100")


def _day(value: datetime.date) -> str:
    return f"{value:%Y-%m-%d}"


def listing_period(listing: Blacklisting) -> str:
    return f"{_day(listing.starts_on)}至{_day(listing.ends_on)}"


# ---------------------------------------------------------------- the blacklist


def blacklist(*, actor: Actor, source_item_id: int, reason: str, starts_on, ends_on) -> Blacklisting:
    """Put the enterprise of a false-information finding on the blacklist (city only)."""
    item = (
        SpotCheckItem.objects.select_related("project", "project__enterprise")
        .filter(pk=source_item_id)
        .first()
    )
    if item is None:
        raise SpotCheckItem.DoesNotExist("没有这个抽查事项。")
    with refusals_recorded(actor, "integrity.blacklist", item, project=item.project, refusals=REFUSALS):
        ensure_city(actor.user, "将企业列入黑名单")
        return _blacklist(actor, item.pk, reason, starts_on, ends_on)


@transaction.atomic
def _blacklist(actor, item_id, reason, starts_on, ends_on):
    item = (
        SpotCheckItem.objects.select_for_update()
        .select_related("project", "project__enterprise")
        .get(pk=item_id)
    )
    if item.finding != Finding.FALSE_INFORMATION:
        raise ValidationError(
            {
                "source_item": [
                    f"该抽查事项的核查结论为“{item.get_finding_display()}”：只有核查结论为“信息虚假”的抽查事项"
                    "才能作为列入黑名单的依据。"
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["请写明列入黑名单的原因。"]
    if not starts_on:
        errors.setdefault("starts_on", []).append("请填写列入日期。")
    if not ends_on:
        errors.setdefault("ends_on", []).append("请填写届满日期。")
    if starts_on and ends_on and ends_on < starts_on:
        errors.setdefault("ends_on", []).append(
            f"届满日期（{_day(ends_on)}）不能早于列入日期（{_day(starts_on)}）。"
        )
    if ends_on and ends_on < timezone.localdate():
        errors.setdefault("ends_on", []).append(f"届满日期（{_day(ends_on)}）已过，不能列入。")
    if errors:
        raise ValidationError(errors)
    enterprise = item.project.enterprise
    existing = Blacklisting.objects.filter(
        source_item=item, lifted_at__isnull=True, ends_on__gte=timezone.localdate()
    )
    current = existing.first()
    if current is not None:
        raise RecordLocked(f"该企业已依据此抽查结论列入黑名单（{listing_period(current)}），不能重复列入。")
    listing = Blacklisting(
        enterprise=enterprise,
        reason=reason,
        source_item=item,
        starts_on=starts_on,
        ends_on=ends_on,
        listed_by=actor.user,
    )
    listing.full_clean()
    listing.save()
    audit.record(
        actor,
        "integrity.blacklist",
        listing,
        project=item.project,
        changes={
            "enterprise": [None, enterprise.credit_code],
            "period": [None, listing_period(listing)],
            "source_item": [None, item.pk],
        },
        message=f"{enterprise.name}列入黑名单（{listing_period(listing)}）：{reason}"[:500],
    )
    notifications.notify_enterprise(
        item.project,
        "贵企业已被列入建筑市场黑名单",
        f"因项目“{item.project.name}”（{item.project.project_number}）经抽查认定信息虚假，"
        f"{enterprise.name}被列入建筑市场黑名单，期限{listing_period(listing)}。\n原因：{reason}\n"
        "列入期间不能新建或提交补录项目。",
    )
    return listing


def lift_blacklisting(*, actor: Actor, blacklisting_id: int, reason: str) -> Blacklisting:
    """End a listing before its date, with a reason (city only). The row stays, lifted."""
    listing = (
        Blacklisting.objects.select_related("enterprise", "source_item__project")
        .filter(pk=blacklisting_id)
        .first()
    )
    if listing is None:
        raise Blacklisting.DoesNotExist("没有这条黑名单记录。")
    with refusals_recorded(
        actor, "integrity.lift", listing, project=listing.source_item.project, refusals=REFUSALS
    ):
        ensure_city(actor.user, "将企业移出黑名单")
        return _lift(actor, listing.pk, reason)


@transaction.atomic
def _lift(actor, listing_id, reason):
    listing = (
        Blacklisting.objects.select_for_update()
        .select_related("enterprise", "source_item__project")
        .get(pk=listing_id)
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["请写明提前移出黑名单的原因。"]})
    if listing.lifted_at is not None:
        raise RecordLocked(
            f"该黑名单记录已于{timezone.localtime(listing.lifted_at):%Y-%m-%d %H:%M}移出，无需重复操作。"
        )
    if listing.ends_on < timezone.localdate():
        raise RecordLocked(f"该黑名单记录已于{_day(listing.ends_on)}届满，无需移出。")
    listing.lifted_at = timezone.now()
    listing.lifted_by = actor.user
    listing.lift_reason = reason
    listing.full_clean()
    listing.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    project = listing.source_item.project
    audit.record(
        actor,
        "integrity.lift",
        listing,
        project=project,
        changes={"lifted_at": [None, audit.serialise(listing.lifted_at)]},
        message=f"{listing.enterprise.name}提前移出黑名单：{reason}"[:500],
    )
    notifications.notify_enterprise(
        project,
        "贵企业已移出建筑市场黑名单",
        f"{listing.enterprise.name}（原列入期限{listing_period(listing)}）已提前移出建筑市场黑名单，"
        f"可以继续新建和提交补录项目。\n原因：{reason}",
    )
    return listing


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


# ---------------------------------------------------------------- the integrity ledger


def deduct_points(
    *, actor: Actor, enterprise: Enterprise, points, reason: str, source_item=None
) -> IntegrityDeduction:
    """One line of the ledger (city only): points > 0 (one decimal), a reason, optionally the finding behind it
    (an error or false-information item of this enterprise's record)."""
    with refusals_recorded(actor, "integrity.deduct", enterprise, refusals=REFUSALS):
        ensure_city(actor.user, "扣减诚信分")
        return _deduct(actor, enterprise, points, reason, source_item)


@transaction.atomic
def _deduct(actor, enterprise, points, reason, source_item):
    errors: dict[str, list[str]] = {}
    try:
        value = Decimal(str(points))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0 or value > MAX_DEDUCTION:
        errors["points"] = [f"扣分须大于0且不超过{MAX_DEDUCTION}分。"]
    elif value != value.quantize(Decimal("0.1")):
        errors["points"] = ["扣分最多保留一位小数。"]
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = ["请写明扣分原因。"]
    if source_item is not None:
        source_item = SpotCheckItem.objects.select_related("project").get(
            pk=getattr(source_item, "pk", source_item)
        )
        if source_item.project.enterprise_id != enterprise.pk:
            errors.setdefault("source_item", []).append("所依据的抽查事项不是该企业的项目。")
        elif source_item.finding not in FINDINGS_NEEDING_NOTES:
            errors.setdefault("source_item", []).append(
                f"所依据的抽查事项核查结论为“{source_item.get_finding_display()}”：只有信息有误或信息虚假才能扣分。"
            )
    if errors:
        raise ValidationError(errors)
    line = IntegrityDeduction(
        enterprise=enterprise, points=value, reason=reason, source_item=source_item, recorded_by=actor.user
    )
    line.full_clean()
    line.save()
    audit.record(
        actor,
        "integrity.deduct",
        line,
        project=source_item.project if source_item else None,
        changes={"enterprise": [None, enterprise.credit_code], "points": [None, str(value)]},
        message=f"{enterprise.name}扣{value}分：{reason}"[:500],
    )
    return line


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
            _day(listing.starts_on),
            _day(listing.ends_on),
            listing_state(listing, today),
            _day(timezone.localtime(listing.lifted_at).date()) if listing.lifted_at else "",
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

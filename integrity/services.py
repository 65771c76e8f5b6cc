"""Integrity (诚信): the construction market blacklist (黑名单) and the ledger of integrity deductions (扣分).

- A blacklisting rests on a spot-check item whose finding is false information (信息虚假); nothing else can back
  one. It runs from starts_on to ends_on inclusive (Beijing dates) unless lifted early with a reason. While it
  runs, the enterprise can neither start (create) nor submit backfills: `selectors.blacklist_guard` is registered in
  projects.services.ENTERPRISE_GUARDS by integrity.apps.IntegrityConfig.ready, and the refusal names the dates.
  Nothing is deleted: a lifted or ended listing stays in the register.
- The integrity score is INTEGRITY_BASE_SCORE (100) minus the sum of all deductions of the enterprise, never below
  0. Deductions do not expire and are not undone; a deduction made in error is answered by the city in writing,
  not by deleting the line (the ledger is append-only, every line audited).
- Who: city users (any department) and superusers list, lift and deduct. The blacklist's public page shows
  only the enterprise's name and credit code, the reason and the dates of listings in force: the construction
  market blacklist is public information; source findings, notes, evidence and who listed stay internal.

The writes are here; the reads (the listings in force, the guard, the score, the register and its export) are in
selectors.py.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from inspections.models import Finding, SpotCheckItem
from inspections.services import FINDINGS_NEEDING_NOTES, REFUSALS
from projects import audit, notifications
from projects.audit import Actor, refusals_recorded
from projects.models import Enterprise, RecordLocked
from projects.permissions import ensure_city

from .models import Blacklisting, IntegrityDeduction
from .selectors import day_label, listing_period

MAX_DEDUCTION = Decimal("100")


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


def listing_problems(*, reason: str, starts_on, ends_on) -> dict[str, list[str]]:
    """What is wrong with a listing's reason and period, field by field, in Chinese (empty when nothing is)."""
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["请写明列入黑名单的原因。"]
    if not starts_on:
        errors.setdefault("starts_on", []).append("请填写列入日期。")
    if not ends_on:
        errors.setdefault("ends_on", []).append("请填写届满日期。")
    if starts_on and ends_on and ends_on < starts_on:
        errors.setdefault("ends_on", []).append(
            f"届满日期（{day_label(ends_on)}）不能早于列入日期（{day_label(starts_on)}）。"
        )
    if ends_on and ends_on < timezone.localdate():
        errors.setdefault("ends_on", []).append(f"届满日期（{day_label(ends_on)}）已过，不能列入。")
    return errors


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
    reason = (reason or "").strip()
    errors = listing_problems(reason=reason, starts_on=starts_on, ends_on=ends_on)
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
        raise RecordLocked(f"该黑名单记录已于{day_label(listing.ends_on)}届满，无需移出。")
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

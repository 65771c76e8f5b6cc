"""City spot checks (抽查) of records in the national library: the services (writes; reads in selectors.py).

A campaign names the authorities, the stages and the period of entry into the library, and a sample rate or size.
Its sample is drawn once, reproducibly: the population is every record that entered the library within the period
(LibraryEntry.entered_at, Beijing dates) and lies in one of the chosen authorities, in primary-key order; the seed is
given or drawn (secrets.randbits(63)) and recorded with the population size, so `draw(population, seed, size)` can
be run again by anyone and gives the same records. The pages call the seed 复核码 (the number to re-draw with) and
explain the draw in plain words (docs/lifecycle.md, "Spot checks"). A draw when no record matches is refused
(NothingToDraw), audited, and leaves the campaign undrawn: an empty campaign helps no one. Each sampled record × chosen stage it has becomes one item,
routed to the city department that checks that stage (STAGE_DEPARTMENTS, docs/domain.md's stage table). The item ends
with a finding — correct, error or false information — with notes (required unless correct) and an optional
evidence file (typed by content, like stage evidence; served only after a permission check).

A recorded finding is final: a second finding on the same item is refused, never silently overwritten (the
finding may back a blacklisting, a deduction or a correction order). A checker who finds an error or false
information may order the enterprise to correct the record (corrections.services.issue_correction_order); the item keeps the link to the order.

Who: city users (and superusers) create campaigns and draw samples; a finding is recorded only by a city user of the
item's department (or a superuser). Every change and every refusal is audited.
"""

import math
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from corrections import services as correction_services
from projects import audit, files, notifications
from projects.audit import Actor, refusals_recorded
from projects.identifiers import markup_problem
from projects.models import (
    STAGE_ORDER,
    AuditEvent,
    CityDepartment,
    Project,
    RecordLocked,
    StageCode,
    Status,
)
from projects.permissions import department_members, ensure_city, ensure_may_record_finding

from .models import FINAL_FINDINGS, Finding, FindingEvidence, SpotCheckCampaign, SpotCheckItem

# Which department checks which stage (docs/domain.md): the one place routing is decided.
STAGE_DEPARTMENTS: dict[str, str] = {
    StageCode.REGISTRATION: CityDepartment.TENDERING_OFFICE,
    StageCode.TENDERING: CityDepartment.TENDERING_OFFICE,
    StageCode.CONTRACT: CityDepartment.TENDERING_OFFICE,
    StageCode.DRAWING_REVIEW: CityDepartment.DESIGN,
    StageCode.PERMIT: CityDepartment.APPROVAL_CENTER,
    StageCode.COMPLETION: CityDepartment.QUALITY_STATION,
}

SEED_LIMIT = 2**63  # the seed is stored in a signed 64-bit column
FINDINGS_NEEDING_NOTES = (Finding.ERROR, Finding.FALSE_INFORMATION)
PAGE_SIZE = 20
# What the trail records as a refused spot-check action: who may not act, and a state that does not allow it.
REFUSALS = (PermissionDenied, RecordLocked)


def department_for(stage: str) -> str:
    return STAGE_DEPARTMENTS[stage]


# ---------------------------------------------------------------- who may act (projects.permissions)


def check_finding_permission(*, actor: Actor, item: SpotCheckItem, action: str = "spot_check.finding"):
    """For pages: refuse (and audit) a user who may not act on the item, before looking at what was posted."""
    with refusals_recorded(actor, action, item, project=item.project, refusals=REFUSALS):
        ensure_may_record_finding(actor.user, item)


# ---------------------------------------------------------------- campaigns


def campaign_problems(*, period_start, period_end, sample_rate, sample_size) -> dict[str, list[str]]:
    """What is wrong with a campaign's period and sample, field by field, in Chinese (empty when nothing is): the
    period lies in the past and runs forwards; exactly one of a rate (0 < rate ≤ 100, percent) and a size (≥ 1)."""
    errors: dict[str, list[str]] = {}
    if period_start > period_end:
        errors["period_end"] = [f"入库截止日期（{period_end}）不能早于起始日期（{period_start}）。"]
    if period_start > timezone.localdate():
        errors["period_start"] = [f"入库起始日期（{period_start}）不能晚于今天：抽查的是已入库的记录。"]
    if (sample_rate is None) == (sample_size is None):
        errors["sample_size"] = ["抽查比例与抽查数量须填写且只填写其中一项。"]
    elif sample_rate is not None and not Decimal("0") < sample_rate <= Decimal("100"):
        errors["sample_rate"] = ["抽查比例须大于0且不超过100（%）。"]
    elif sample_size is not None and sample_size < 1:
        errors["sample_size"] = ["抽查数量须为正整数。"]
    return errors


def create_campaign(
    *,
    actor: Actor,
    name: str,
    authorities,
    stages,
    period_start,
    period_end,
    sample_rate=None,
    sample_size=None,
) -> SpotCheckCampaign:
    """A campaign (city only), from clean values (inspections.forms.CampaignForm parses what was typed): a name,
    Authority objects, StageCode values, two dates, and a Decimal rate (percent) or an int size. Refused with a
    ValidationError whose message_dict says, field by field and in Chinese, what is wrong; nothing is written then."""
    with refusals_recorded(actor, "spot_check.create", refusals=REFUSALS):
        ensure_city(actor.user, "创建抽查任务")
    errors = campaign_problems(
        period_start=period_start, period_end=period_end, sample_rate=sample_rate, sample_size=sample_size
    )
    if errors:
        raise ValidationError(errors)
    rate = sample_rate.quantize(Decimal("0.01")) if sample_rate is not None else None
    authorities = sorted(set(authorities), key=lambda authority: authority.code)
    campaign = SpotCheckCampaign(
        name=name,
        stages=[code for code in STAGE_ORDER if code in stages],
        period_start=period_start,
        period_end=period_end,
        sample_rate=rate,
        sample_size=sample_size,
        created_by=actor.user,
    )
    campaign.full_clean(exclude=["seed", "population_size", "drawn_at", "drawn_by"])
    with transaction.atomic():
        campaign.save()
        campaign.authorities.set(authorities)
        audit.record(
            actor,
            "spot_check.create",
            campaign,
            changes={
                "name": [None, name],
                "authorities": [None, [authority.code for authority in authorities]],
                "stages": [None, campaign.stages],
                "period": [None, f"{period_start}~{period_end}"],
                "sample_rate": [None, audit.serialise(rate)],
                "sample_size": [None, sample_size],
            },
            message=name,
        )
    return campaign


# ---------------------------------------------------------------- drawing the sample


def draw(population_ids, seed: int, size: int) -> list[int]:
    """The sample, as sorted ids: pure, so anyone with the population, the seed and the size can redraw it.
    `population_ids` in a deterministic order (the population query orders by primary key)."""
    population = list(population_ids)
    size = max(0, min(size, len(population)))
    return sorted(random.Random(seed).sample(population, size))


def sample_size_for(campaign: SpotCheckCampaign, population_size: int) -> int:
    """sample_size capped at the population, or ceil(rate% × population) (at most the population)."""
    if campaign.sample_size is not None:
        return min(campaign.sample_size, population_size)
    return min(population_size, math.ceil(campaign.sample_rate * population_size / Decimal(100)))


def population(authorities, period_start, period_end):
    """Records in the national library that entered within the period (Beijing dates) and lie in one of
    `authorities` (Authority rows or ids), by primary key: what a campaign with these conditions draws from."""
    return Project.objects.filter(
        status=Status.IN_NATIONAL_LIBRARY,
        authority__in=authorities,
        library_entry__entered_at__date__gte=period_start,
        library_entry__entered_at__date__lte=period_end,
    ).order_by("pk")


def population_ids(campaign: SpotCheckCampaign) -> list[int]:
    """The campaign's population (population()), as ids in primary-key order."""
    return list(
        population(campaign.authorities.all(), campaign.period_start, campaign.period_end).values_list(
            "pk", flat=True
        )
    )


class NothingToDraw(RecordLocked):
    """No record matches the campaign's conditions: a draw would leave an empty campaign, so none is made."""


def _stages_present(project_ids, stages) -> dict[int, list[str]]:
    """Which of `stages` each record has (one query, a left join per stage)."""
    rows = Project.objects.filter(pk__in=project_ids).values("pk", *[f"{code}__id" for code in stages])
    return {row["pk"]: [code for code in stages if row[f"{code}__id"] is not None] for row in rows}


def draw_sample(*, actor: Actor, campaign_id: int, seed: int | None = None) -> SpotCheckCampaign:
    """Draw the campaign's sample, once. A second draw — sequential or concurrent — is refused and changes
    nothing: the campaign row is locked (PostgreSQL) and claimed by a conditional update (any database)."""
    campaign = SpotCheckCampaign.objects.filter(pk=campaign_id).first()
    if campaign is None:
        raise SpotCheckCampaign.DoesNotExist("没有这个抽查任务。")
    with refusals_recorded(actor, "spot_check.draw", campaign, refusals=REFUSALS):
        ensure_city(actor.user, "抽取样本")
        if seed is not None and not (isinstance(seed, int) and 0 <= seed < SEED_LIMIT):
            raise ValidationError({"seed": [f"复核码须为0至{SEED_LIMIT - 1}之间的整数。"]})
        return _draw(actor, campaign_id, seed)


@transaction.atomic
def _draw(actor, campaign_id, seed):
    campaign = SpotCheckCampaign.objects.select_for_update().get(pk=campaign_id)
    now = timezone.now()
    claimed = SpotCheckCampaign.objects.filter(pk=campaign.pk, drawn_at__isnull=True).update(
        drawn_at=now, drawn_by=actor.user
    )
    if not claimed:
        campaign.refresh_from_db()
        drawn_at = timezone.localtime(campaign.drawn_at) if campaign.drawn_at else None
        raise RecordLocked(
            f"抽查任务“{campaign.name}”已于{drawn_at:%Y-%m-%d %H:%M}抽取样本（复核码{campaign.seed}），"
            "不能重复抽取。"
        )
    seed = secrets.randbits(63) if seed is None else seed
    population = population_ids(campaign)
    if not population:
        # Refused (and audited by the caller's refusals_recorded); the claim above rolls back with it.
        raise NothingToDraw(
            f"抽查任务“{campaign.name}”没有符合条件的记录：所选区县（开发区）在入库期间"
            f"（{campaign.period_start:%Y-%m-%d}至{campaign.period_end:%Y-%m-%d}）没有进入全国平台项目库的记录，"
            "抽取不到任何样本，未抽取。请调整区县或入库期间后另建抽查任务。"
        )
    size = sample_size_for(campaign, len(population))
    sampled = draw(population, seed, size)
    present = _stages_present(sampled, campaign.stages)
    items = [
        SpotCheckItem(campaign=campaign, project_id=project_id, stage=stage, department=department_for(stage))
        for project_id in sampled
        for stage in present.get(project_id, [])
    ]
    SpotCheckItem.objects.bulk_create(items)
    campaign.seed = seed
    campaign.population_size = len(population)
    campaign.drawn_at = now
    campaign.drawn_by = actor.user
    campaign.save(update_fields=["seed", "population_size", "drawn_at", "drawn_by"])
    audit.record(
        actor,
        "spot_check.draw",
        campaign,
        changes={
            "seed": [None, str(seed)],
            "population_size": [None, len(population)],
            "sampled_records": [None, sampled],
            "items": [None, len(items)],
        },
        message=f"抽取{len(sampled)}条记录（共{len(population)}条符合条件），{len(items)}个抽查事项，复核码{seed}",
    )
    _notify_departments(campaign, items)
    return campaign


def _notify_departments(campaign, items):
    """Each department with items tells its active users (inbox, and e-mail after commit, projects.notifications):
    what to check, in which campaign."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.department] = counts.get(item.department, 0) + 1
    if not counts:
        return
    users: dict[str, list] = {}
    for member in department_members(counts).filter(user__is_active=True).select_related("user"):
        users.setdefault(member.department, []).append(member.user)
    for department, members in users.items():
        notifications.notify(
            members,
            title=f"抽查任务“{campaign.name}”有{counts[department]}个事项待核查",
            body=f"抽查任务“{campaign.name}”已抽取样本，其中{counts[department]}个环节由"
            f"{CityDepartment(department).label}核查，请在“抽查核查”中逐项记录核查结论。",
        )


# ---------------------------------------------------------------- findings


def record_finding(
    *,
    actor: Actor,
    item_id: int,
    finding: str,
    notes: str,
    evidence=None,
    correction_due_on=None,
) -> SpotCheckItem:
    """Record the finding of one item (its department only). Final once recorded: a second finding is refused
    (RecordLocked), never silently overwritten. With `correction_due_on` (error or false information only), the
    enterprise is also ordered to correct the record by that date (order_correction), in the same transaction."""
    item = SpotCheckItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise SpotCheckItem.DoesNotExist("没有这个抽查事项。")
    with refusals_recorded(actor, "spot_check.finding", item, project=item.project, refusals=REFUSALS):
        ensure_may_record_finding(actor.user, item)
        notes = (notes or "").strip()
        if finding not in FINAL_FINDINGS:
            raise ValidationError({"finding": ["请选择核查结论：信息正确、信息有误或信息虚假。"]})
        if finding in FINDINGS_NEEDING_NOTES and not notes:
            raise ValidationError(
                {"notes": [f"核查结论为“{Finding(finding).label}”时须写明核查说明（问题所在）。"]}
            )
        if correction_due_on and finding not in FINDINGS_NEEDING_NOTES:
            raise ValidationError({"correction_due_on": ["只有信息有误或信息虚假时才能通知企业更正。"]})
        checked = None
        if evidence:
            try:
                checked = files.check_upload(evidence)
            except ValidationError as invalid:
                raise ValidationError({"evidence": invalid.messages}) from None
        return _record_finding(actor, item.pk, finding, notes, evidence, checked, correction_due_on)


@transaction.atomic
def _record_finding(actor, item_id, finding, notes, evidence, checked, correction_due_on):
    item = SpotCheckItem.objects.select_for_update().select_related("project").get(pk=item_id)
    if not can_proceed(item.conclude):
        checked_at = timezone.localtime(item.checked_at) if item.checked_at else None
        raise RecordLocked(
            f"该抽查事项已于{checked_at:%Y-%m-%d %H:%M}记录核查结论“{item.get_finding_display()}”，"
            "核查结论一经记录不能修改。"
        )
    item.conclude(finding)
    item.notes = notes
    item.checked_by = actor.user
    item.checked_at = timezone.now()
    try:
        item.full_clean(exclude=["evidence", "finding"])  # a protected field: the transition set it
    except ValidationError as invalid:
        raise ValidationError(invalid.message_dict) from None
    stored = _finding_evidence(actor, item, evidence, checked) if evidence else None
    item.save()
    if stored is not None:
        stored.save()
    audit.record(
        actor,
        "spot_check.finding",
        item,
        project=item.project,
        changes={
            "finding": [Finding.PENDING.value, finding],
            "notes": [None, notes],
            **({"evidence": [None, item.evidence.name]} if evidence else {}),
        },
        message=f"{StageCode(item.stage).label}：{Finding(finding).label}" + (f"。{notes}" if notes else ""),
    )
    if correction_due_on:
        _order_correction(actor, item, correction_due_on)
    return item


def _finding_evidence(actor, item, uploaded_file, checked) -> FindingEvidence:
    """The checker's file, stored before any row is written (a rollback leaves an orphan file, never a row without
    its file) and named on the item's own columns too, which nothing reads any more."""
    stored = FindingEvidence(item=item, uploaded_by=actor.user, uploaded_at=item.checked_at)
    stored.record_upload(uploaded_file, checked)
    if markup_problem(stored.original_name):
        # A file name is not refused for markup (nothing else about the file is), only not kept.
        stored.original_name = f"spot-check-{item.pk}.{checked.extension}"
    stored.full_clean(exclude=["file", "item"])
    stored.file.save("evidence", uploaded_file, save=False)
    item.evidence = stored.file.name
    item.evidence_content_type = stored.content_type
    return stored


def order_correction(*, actor: Actor, item_id: int, due_on):
    """Tell the enterprise to correct the record (责令更正) on an error or false-information finding: a correction
    order of corrections.services, linked to the item. The item's department (or a superuser) only."""
    item = SpotCheckItem.objects.select_related("project").filter(pk=item_id).first()
    if item is None:
        raise SpotCheckItem.DoesNotExist("没有这个抽查事项。")
    with refusals_recorded(
        actor, "spot_check.order_correction", item, project=item.project, refusals=REFUSALS
    ):
        ensure_may_record_finding(actor.user, item)
        with transaction.atomic():
            item = SpotCheckItem.objects.select_for_update().select_related("project").get(pk=item_id)
            return _order_correction(actor, item, due_on)


def _order_correction(actor, item, due_on):
    if item.finding not in FINDINGS_NEEDING_NOTES:
        raise ValidationError({"correction_due_on": ["只有信息有误或信息虚假的核查结论才能通知企业更正。"]})
    if due_on is None or due_on <= timezone.localdate():
        raise ValidationError({"correction_due_on": ["请填写今天以后的应答期限。"]})
    if item.correction_order_id is not None:
        raise RecordLocked("已就该抽查事项通知企业更正，不能重复通知。")
    finding = f"抽查（{item.campaign.name}）·{StageCode(item.stage).label}：{item.get_finding_display()}。{item.notes}"
    order = correction_services.issue_correction_order(
        actor=actor, project=item.project, finding=finding, due_on=due_on, spot_check_item=item
    )
    item.correction_order = order
    item.save(update_fields=["correction_order"])
    return order


# ---------------------------------------------------------------- re-drawing to check a sample


@dataclass(frozen=True)
class Redraw:
    """A drawn campaign's sample drawn again from today's population with its recorded seed (复核码)."""

    recorded_population: int
    population: int
    sampled: list[int]  # the records the draw took, as its audit event recorded them
    redrawn: list[int]

    @property
    def same(self) -> bool:
        return self.sampled == self.redrawn


def redraw(campaign: SpotCheckCampaign) -> Redraw:
    """Draw the campaign's sample again (services.draw, the same seed and size) and say whether it gives the same
    records. Records that entered or left the library within the period since the draw change the population, and
    then the sample may differ: the caller says so beside the answer (recorded_population ≠ population)."""
    if campaign.drawn_at is None:
        raise ValueError("the campaign has not been drawn")
    ids = population_ids(campaign)
    size = sample_size_for(campaign, campaign.population_size)
    event = (
        AuditEvent.objects.filter(
            action="spot_check.draw", object_type=campaign._meta.model_name, object_id=str(campaign.pk)
        )
        .order_by("-id")
        .first()
    )
    sampled = list(event.changes["sampled_records"][1]) if event is not None else []
    return Redraw(
        recorded_population=campaign.population_size,
        population=len(ids),
        sampled=sampled,
        redrawn=draw(ids, campaign.seed, size),
    )

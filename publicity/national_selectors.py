"""Reads for the console about the national platform's answers: refusals (全国平台退回) and what the daily
read-back found (报送核对). Not public: the console and the city's figures call them."""

from django.db.models import Count

from projects.models import STAGE_MODELS, StageCode

from .models import DiscrepancyKind, OutboxMessage, OutboxState, ReconciliationDiscrepancy

# ---------------------------------------------------------------- the national platform's answers, for the console


def refusals(*, authority_id=None):
    """Outbox messages the national platform refused, newest first, with their structured reasons."""
    messages = OutboxMessage.objects.filter(state=OutboxState.REFUSED).select_related("project")
    if authority_id is not None:
        messages = messages.filter(project__authority_id=authority_id)
    return messages.order_by("-created_at", "-id")


def refusal_by_field(message) -> dict[tuple[str, str], list[str]]:
    """A refusal against the record's fields: (stage, field) -> the platform's reasons ("", "" for reasons about
    numbers the portal issues and the like)."""
    found: dict[tuple[str, str], list[str]] = {}
    for problem in message.refusal:
        key = (problem.get("stage", ""), problem.get("stage_field", ""))
        found.setdefault(key, []).append(f"{problem['table']}.{problem['field']}：{problem['message']}")
    return found


def open_discrepancies(*, authority_id=None):
    """What the last read-backs found and is not yet resolved (报送核对)."""
    flags = ReconciliationDiscrepancy.objects.filter(resolved_at__isnull=True).select_related("entry")
    if authority_id is not None:
        flags = flags.filter(authority_id=authority_id)
    return flags


def discrepancy_counts(*, authority_id=None) -> dict[str, int]:
    """Open discrepancies by kind, for the console and the city's figures: {"missing": n, "altered": m}."""
    counts = dict.fromkeys(DiscrepancyKind.values, 0)
    rows = open_discrepancies(authority_id=authority_id).values("kind").annotate(n=Count("id"))
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def _field_label(stage: str, field: str) -> str:
    """ "合同备案 · 合同金额（元）" for a refusal's (stage, stage field); the platform's own field where the portal has none."""
    if stage not in STAGE_MODELS:
        return "基本信息及平台编号"
    model = STAGE_MODELS[stage]
    try:
        label = model._meta.get_field(field).verbose_name if field else ""
    except Exception:  # noqa: BLE001 - a field the standard names that the portal renamed: show the stage alone
        label = ""
    return f"{StageCode(stage).label} · {label}" if label else StageCode(stage).label


def refusal_rows(message) -> list[tuple[str, list[str]]]:
    """A refusal as the console lists it: each of the record's fields (in Chinese) with the platform's reasons."""
    return [
        (_field_label(stage, field), reasons) for (stage, field), reasons in refusal_by_field(message).items()
    ]

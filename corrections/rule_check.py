"""The rule engine (projects/rules.py) run on a snapshot's content: a correction is checked by the same rules as
the enterprise's forms, on the record as it would read once corrected."""

import copy
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models

from projects import rules
from projects.models import STAGE_MODELS, STAGE_ORDER, Evidence, Project
from projects.validators import validate_plain_text

from .values import (
    CORRECTABLE_FIELDS,
    MAX_ITEMS,
    NOT_CORRECTABLE_PROJECT_FIELDS,
    PROJECT_SECTION,
    apply_changes,
    field_label,
    parse_value,
    same_value,
    section_label,
    section_model,
    section_of,
)

# ---------------------------------------------------------------- the rule engine on a snapshot's content


def _in_memory(project: Project, content: dict):
    """A project and its stages holding `content`'s values, unsaved: what the rule engine reads."""
    candidate = copy.copy(project)
    for name, value in content["project"].items():
        setattr(candidate, name, Project._meta.get_field(name).to_python(value))
    stages = {}
    for code in STAGE_ORDER:
        data = content["stages"].get(code)
        if data is None:
            stages[code] = None
            continue
        model = STAGE_MODELS[code]
        stages[code] = model(
            project_id=project.pk,
            **{name: model._meta.get_field(name).to_python(value) for name, value in data.items()},
        )
    return candidate, stages


def _errors_of(project, content, evidence_counts) -> dict:
    candidate, stages = _in_memory(project, content)
    context = rules.RecordContext(
        project=candidate,
        stages=stages,
        evidence_counts=evidence_counts,
        duplicate_documents=rules.find_duplicate_documents(candidate, stages),
        window=None,  # the backfill window governs backfills, not corrections: the same finding on both sides
    )
    return {
        (f.code, f.stage, f.field, f.message): f
        for f in rules.evaluate(candidate, context=context)
        if f.is_error
    }


def rule_errors(project: Project, base: dict, corrected: dict) -> list:
    """The rule engine's errors (formats, dates in order, linkage between stages, document numbers used by other
    projects …) that the corrected content has and the base content has not: a correction may not make the
    record wrong; an old finding it does not touch does not block it."""
    loaded = rules.load_project(project.pk)
    evidence_counts = dict.fromkeys(STAGE_ORDER, 0)
    for row in (
        Evidence.objects.filter(project_id=project.pk, archived_at__isnull=True)
        .values("stage")
        .annotate(n=models.Count("id"))
    ):
        evidence_counts[row["stage"]] = row["n"]
    before = _errors_of(loaded, base, evidence_counts)
    after = _errors_of(loaded, corrected, evidence_counts)
    return [finding for key, finding in after.items() if key not in before]


@dataclass(frozen=True)
class CleanItem:
    stage: str
    field: str
    current: object  # plain, as in the base snapshot
    proposed: object  # plain, as the new snapshot will hold it
    reason: str
    model_field: models.Field

    @property
    def change(self):
        return (self.stage, self.field, self.proposed)


def clean_items(project: Project, base: dict, items) -> list[CleanItem]:
    """Check every item against the base snapshot: an existing, correctable field of a section the snapshot
    holds, a proposed value the stage form would accept and that differs from the current one, a reason; then
    the record as corrected against the rule engine. All problems at once, numbered by item."""
    problems, cleaned, seen = [], [], set()
    items = list(items or [])
    if not items:
        raise ValidationError("请至少填写一项需要更正的内容。")
    if len(items) > MAX_ITEMS:
        raise ValidationError(f"一份更正申请最多{MAX_ITEMS}项。")
    for number, item in enumerate(items, start=1):
        try:
            cleaned.append(_clean_item(number, item, base, seen))
        except ValidationError as invalid:
            problems.extend(invalid.messages)
    if problems:
        raise ValidationError(problems)
    findings = rule_errors(project, base, apply_changes(base, [c.change for c in cleaned]))
    if findings:
        raise ValidationError(["更正后的信息未通过校验：", *_numbered(findings, cleaned)])
    return cleaned


def _clean_item(number: int, item: dict, base: dict, seen: set) -> CleanItem:
    """One item, or a ValidationError naming its first problem (each check needs the one before it to pass).
    `seen`: the (section, field) pairs of the items before it, to which this one is added."""
    stage = item.get("stage") or ""
    stage = PROJECT_SECTION if stage == rules.PROJECT else stage
    name = (item.get("field") or "").strip()
    where = f"第{number}项（{field_label(stage, name)}）"
    model_field = _correctable_field(number, where, stage, name)
    if (stage, name) in seen:
        raise ValidationError(f"{where}重复：同一字段只能列一项。")
    seen.add((stage, name))
    section = section_of(base, stage)
    if section is None:
        raise ValidationError(f"{where}：入库记录中没有“{section_label(stage)}”环节的内容，无从更正。")
    try:
        proposed = parse_value(model_field, item.get("proposed_value"))
    except ValidationError as invalid:
        raise ValidationError([f"{where}：{message}" for message in invalid.messages]) from None
    current = section.get(name)
    if same_value(model_field, current, proposed):
        raise ValidationError(f"{where}：更正后的内容与现有内容相同。")
    reason = _clean_reason(where, item.get("reason"))
    return CleanItem(stage, name, current, proposed, reason, model_field)


def _correctable_field(number: int, where: str, stage: str, name: str) -> models.Field:
    if stage not in CORRECTABLE_FIELDS:
        raise ValidationError(f"第{number}项：没有“{stage}”这个环节。")
    model = section_model(stage)
    if name not in {f.name for f in model._meta.concrete_fields}:
        raise ValidationError(f"第{number}项：“{section_label(stage)}”没有“{name}”这个字段。")
    if name not in CORRECTABLE_FIELDS[stage]:
        why = NOT_CORRECTABLE_PROJECT_FIELDS.get(name) if stage == PROJECT_SECTION else ""
        raise ValidationError(f"{where}不是可以更正的内容" + (f"：{why}。" if why else "。"))
    return model._meta.get_field(name)


def _clean_reason(where: str, reason) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(f"{where}：请说明错误原因。")
    try:
        validate_plain_text(reason)
    except ValidationError as invalid:
        raise ValidationError([f"{where}错误原因：{message}" for message in invalid.messages]) from None
    return reason


def _numbered(findings, cleaned) -> list[str]:
    """The rule engine's findings on the corrected record, each named by the item that caused it (or its stage)."""
    numbers = {(c.stage or rules.PROJECT, c.field): n for n, c in enumerate(cleaned, start=1)}
    problems = []
    for finding in findings:
        number = numbers.get((finding.stage, finding.field))
        where = (
            f"第{number}项（{field_label(cleaned[number - 1].stage, finding.field)}）"
            if number
            else rules.STAGE_LABELS[finding.stage]
        )
        problems.append(f"{where}：{finding.message}")
    return problems

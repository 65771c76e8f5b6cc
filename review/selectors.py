"""Reads for the review console: the record as a reviewer sees it, and what changed between submissions.

`diff_contents()` and `diff_evidence()` are pure (two SubmissionVersion payloads in, rows out); the functions
below them fetch what they compare.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import models
from django.db.models import Q, Value

from projects import identifiers, rules
from projects.models import (
    STAGE_MODELS,
    STAGE_ORDER,
    Authority,
    Enterprise,
    Evidence,
    Project,
    ReviewComment,
    SubmissionVersion,
)
from publicity.models import LibraryEntry, Notice, Objection, OutboxMessage

from .models import ReviewDecision

PROJECT = rules.PROJECT  # the key of the project's own fields in SubmissionVersion.content
SECTIONS = [PROJECT, *STAGE_ORDER]
HIDDEN_FIELDS = {"id", "project", "updated_at", "updated_by", "created_at"}


def section_model(section: str) -> type[models.Model]:
    return Project if section == PROJECT else STAGE_MODELS[section]


def section_fields(section: str) -> list[models.Field]:
    """The fields a reviewer reads, in the model's order: everything the enterprise entered."""
    return [f for f in section_model(section)._meta.concrete_fields if f.name not in HIDDEN_FIELDS]


# ---------------------------------------------------------------- showing values


def display_value(model_field: models.Field, value) -> str:
    """A stored or serialised value as a reviewer reads it: choice labels, 是/否, dates as YYYY-MM-DD."""
    if value is None or value == "":
        return ""
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):  # joint-venture members, designers: one record a line, as typed
        return "；".join(identifiers.format_records(model_field.name, value).splitlines())
    if isinstance(model_field, models.DecimalField):
        try:
            return f"{Decimal(str(value)):,.2f}"
        except InvalidOperation:
            return str(value)
    return str(value)


def stage_rows(instance) -> list[tuple[str, str, str]]:
    """(field name, label, shown value) of every field of a saved project or stage."""
    section = PROJECT if isinstance(instance, Project) else instance.code
    return [
        (f.name, str(f.verbose_name), display_value(f, getattr(instance, f.attname)))
        for f in section_fields(section)
    ]


# ---------------------------------------------------------------- what changed between two submissions


@dataclass(frozen=True)
class FieldChange:
    stage: str  # "project" or a stage code
    stage_label: str
    field: str
    label: str
    before: str  # as shown; "" when empty
    after: str


def diff_contents(before: dict | None, after: dict | None) -> list[FieldChange]:
    """Field by field, what differs between two SubmissionVersion.content payloads, in stage and field order.

    A stage missing from one side (not filled then) counts as all its fields empty. Keys that are no model
    field (a field since removed) are compared too, labelled with their name.
    """
    before, after = before or {}, after or {}
    changes = []
    for section in SECTIONS:
        old, new = before.get(section) or {}, after.get(section) or {}
        known = {f.name: f for f in section_fields(section)}
        extra = sorted((set(old) | set(new)) - set(known) - HIDDEN_FIELDS)
        for name in [*known, *extra]:
            if _normalised(old.get(name)) == _normalised(new.get(name)):
                continue
            model_field = known.get(name)
            changes.append(
                FieldChange(
                    stage=section,
                    stage_label=rules.STAGE_LABELS[section],
                    field=name,
                    label=str(model_field.verbose_name) if model_field else name,
                    before=display_value(model_field, old.get(name))
                    if model_field
                    else _plain(old.get(name)),
                    after=display_value(model_field, new.get(name)) if model_field else _plain(new.get(name)),
                )
            )
    return changes


def _normalised(value):
    """None and "" are the same to a reader (a blank optional field)."""
    return None if value == "" else value


def _plain(value) -> str:
    return "" if value is None else str(value)


def diff_evidence(before: list | None, after: list | None) -> tuple[list[dict], list[dict]]:
    """(added, removed) evidence files between two SubmissionVersion.evidence lists, matched by file id."""
    old = {item["id"]: item for item in before or []}
    new = {item["id"]: item for item in after or []}
    added = [_evidence_row(item) for key, item in new.items() if key not in old]
    removed = [_evidence_row(item) for key, item in old.items() if key not in new]
    return added, removed


def _evidence_row(item: dict) -> dict:
    return {**item, "stage_label": rules.STAGE_LABELS.get(item.get("stage"), item.get("stage", ""))}


@dataclass
class Comparison:
    previous: SubmissionVersion | None
    latest: SubmissionVersion | None
    changes: list[FieldChange] = field(default_factory=list)
    evidence_added: list[dict] = field(default_factory=list)
    evidence_removed: list[dict] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes or self.evidence_added or self.evidence_removed)


def changes_since_previous_submission(project: Project) -> Comparison:
    """The latest submission against the one before it (a record resubmitted after a return). One query, and
    one more when the authority was changed (its names are shown, not its ids)."""
    versions = list(SubmissionVersion.objects.filter(project=project).order_by("-number")[:2])
    if len(versions) < 2:
        return Comparison(previous=None, latest=versions[0] if versions else None)
    latest, previous = versions
    changes = diff_contents(previous.content, latest.content)
    changes = _name_organisations(changes, previous.content, latest.content)
    added, removed = diff_evidence(previous.evidence, latest.evidence)
    return Comparison(previous, latest, changes, added, removed)


def _name_organisations(changes, before, after):
    foreign_keys = {"authority": Authority, "enterprise": Enterprise}
    wanted = [c for c in changes if c.stage == PROJECT and c.field in foreign_keys]
    if not wanted:
        return changes
    names = {}
    for change in wanted:
        model = foreign_keys[change.field]
        ids = [(before.get(PROJECT) or {}).get(change.field), (after.get(PROJECT) or {}).get(change.field)]
        names.update(
            {
                (model, pk): name
                for pk, name in model.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name")
            }
        )
    renamed = []
    for change in changes:
        if change in wanted:
            model = foreign_keys[change.field]
            change = FieldChange(
                change.stage,
                change.stage_label,
                change.field,
                change.label,
                names.get((model, _int(change.before)), change.before),
                names.get((model, _int(change.after)), change.after),
            )
        renamed.append(change)
    return renamed


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the console's search


def search_filter(term: str) -> Q:
    """What the console's search box matches: the project name (contains), the project number (prefix), or,
    exactly, the enterprise's credit code or any stage's document number.

    The exact matches are looked up first, in one query on the unique indexes (credit code, each stage's document
    number), and enter the filter as id lists: every branch of the OR is then indexed on PostgreSQL (the name by
    projects/0008's trigram index, the number by its pattern index) and a search of 100k records reads the matching
    rows only. With subqueries in the OR instead, PostgreSQL scanned every record (bench/console_list.py).
    """
    term = term.strip()
    exact = (
        Enterprise.objects.filter(credit_code=term.upper())
        .order_by()  # no ORDER BY inside a UNION
        .annotate(matched=Value("enterprise"))
        .values("matched", "pk")
    )
    for code in STAGE_ORDER:
        model = STAGE_MODELS[code]
        exact = exact.union(
            model.objects.filter(**{model.document_field: term})
            .order_by()
            .annotate(matched=Value("project"))
            .values("matched", "project_id"),
            all=True,
        )
    enterprise_ids, project_ids = [], []
    for row in exact:
        (enterprise_ids if row["matched"] == "enterprise" else project_ids).append(row["pk"])
    condition = Q(name__icontains=term) | Q(project_number__startswith=term)
    if enterprise_ids:
        condition |= Q(enterprise_id__in=enterprise_ids)
    if project_ids:
        condition |= Q(pk__in=project_ids)
    return condition


# ---------------------------------------------------------------- the review page


@dataclass
class StageView:
    code: str
    label: str
    rows: list  # (field name, label, value); empty when the stage was not filled
    filled: bool
    evidence: list
    findings: list


def review_page(project: Project) -> dict:
    """Everything the review page shows of a record, in a fixed number of queries."""
    loaded = rules.load_project(project.pk)
    findings = rules.evaluate(loaded)
    located = [{"finding": f, "where": comment_location(f.stage, f.field)} for f in findings]
    stages = rules.stages_of(loaded)
    evidence = list(Evidence.objects.filter(project=project))
    stage_views = [
        StageView(
            code=code,
            label=rules.STAGE_LABELS[code],
            rows=stage_rows(stages[code]) if stages[code] else [],
            filled=stages[code] is not None,
            evidence=[e for e in evidence if e.stage == code],
            findings=[row for row in located if row["finding"].stage == code],
        )
        for code in loaded.stage_codes  # a design record's three, a construction record's six
    ]
    return {
        "project_findings": [row for row in located if row["finding"].stage == PROJECT],
        "stages": stage_views,
        "findings": located,
        "summary": rules.summarise(findings),
        "comments": [
            {"comment": c, "where": comment_location(c.stage, c.field)}
            for c in ReviewComment.objects.filter(project=project).select_related("settled_by_version")
        ],
        "decisions": list(
            ReviewDecision.objects.filter(project=project).select_related("reviewer", "version")
        ),
        "comparison": changes_since_previous_submission(project),
    }


def publicity_panel(project: Project) -> dict:
    """The record's public side as the review page shows it: its notices (the current one first), the objections
    to them (contacts included: reviewers need them), the deliveries to the national platform and the library
    entry. Four queries, whatever the record's history."""
    notices = list(
        Notice.objects.filter(project=project).select_related("snapshot").order_by("-starts_at", "-id")
    )
    by_id = {n.pk: n for n in notices}
    objections = list(
        Objection.objects.filter(notice__project=project)
        .select_related("handled_by", "evidence_file")
        .order_by("-submitted_at", "-id")
    )
    for objection in objections:
        objection.notice = by_id[objection.notice_id]  # no query per row for its snapshot version
    return {
        "notice": notices[0] if notices else None,
        "notices": notices,
        "objections": objections,
        "outbox": list(
            OutboxMessage.objects.filter(project=project)
            .select_related("snapshot")
            .order_by("-created_at", "-id")
        ),
        "library_entry": LibraryEntry.objects.filter(project=project).select_related("snapshot").first(),
    }


def comment_location(stage: str, field_name: str) -> str:
    """Where a review comment is pinned, in words: 施工许可·施工许可证编号."""
    where = rules.STAGE_LABELS[stage or PROJECT]
    if field_name == "evidence":
        return f"{where}·证明材料"
    if field_name:
        try:
            return f"{where}·{section_model(stage or PROJECT)._meta.get_field(field_name).verbose_name}"
        except Exception:  # a field since removed
            return f"{where}·{field_name}"
    return where

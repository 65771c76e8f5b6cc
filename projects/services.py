"""Every write to a backfill record: permission check, rule check, change, audit event — in one transaction.

Views and admin classes call these; nothing else writes to records. Each raises PermissionDenied (a user who
may not act), RecordLocked (a record not editable in its state) or RuleViolation (what the rule engine refuses),
each with a Chinese message, and leaves nothing changed.
"""

import random

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import can_proceed

from backfill_portal.bulk_copy import copy_new_rows, take_ids

from . import audit, files, identifiers, permissions, receipts, rules
from .audit import Actor
from .models import (  # RecordLocked is re-exported for the services' callers
    STAGE_MODELS,
    BackfillWindow,
    Evidence,
    Project,
    ProjectKind,
    RecordLocked,
    ReviewComment,
    StageCode,
    Status,
    SubmissionVersion,
)


class RuleViolation(ValidationError):
    """The rule engine refused the data; .findings says why, field by field."""

    def __init__(self, findings):
        self.findings = findings
        super().__init__([f.message for f in findings])


# ---------------------------------------------------------------- who may act (projects.permissions decides)


def enterprise_of(actor: Actor):
    return permissions.ensure_enterprise(actor.user)


def ensure_own_project(actor: Actor, project: Project):
    permissions.ensure_own_project(actor.user, project)


def ensure_reviewer_of(actor: Actor, project: Project):
    """Only a reviewer of the authority where the project lies may decide on it (review and publicity)."""
    permissions.ensure_reviewer_of(actor.user, project)


def ensure_editable(project: Project):
    if not project.is_editable_by_enterprise:
        raise RecordLocked(
            f"该项目当前状态为“{project.get_status_display()}”，不能修改。"
            "如需更正已入库信息，请提交更正申请。"
        )


# Enterprise guards: other apps restrict an enterprise without projects importing them. review's integrity
# registers one that refuses a blacklisted enterprise (integrity.apps.IntegrityConfig.ready). A guard takes the enterprise
# and a date and returns a Chinese refusal, or None. create_project and submit_project ask them.
ENTERPRISE_GUARDS: list = []


def enterprise_restriction(enterprise, on=None) -> str | None:
    """The first guard's refusal for `enterprise` on `on` (today), or None: also shown on the enterprise's pages."""
    day = on or timezone.localdate()
    for guard in ENTERPRISE_GUARDS:
        problem = guard(enterprise, day)
        if problem:
            return problem
    return None


def lock_project(project: Project) -> Project:
    """Re-read the row under a lock, so a concurrent transition cannot slip in between check and write."""
    return Project.objects.select_for_update().select_related("enterprise", "authority").get(pk=project.pk)


# ---------------------------------------------------------------- the project


def issue_project_number(county_code: str, today) -> str:
    """6-digit county code + yyMMdd + 4-digit serial: the next serial for that county and day."""
    prefix = f"{county_code}{today:%y%m%d}"
    # A range, not startswith: PostgreSQL walks the unique index backwards from the day's last possible number and
    # stops at the first (5 buffers), where LIKE 'prefix%' read and sorted every number of that county's day
    # (bench/README.md, "The import and the delivery at 1M").
    last = (
        Project.objects.filter(project_number__gte=f"{prefix}0000", project_number__lte=f"{prefix}9999")
        .order_by("-project_number")
        .values_list("project_number", flat=True)
        .first()
    )
    serial = int(last[-4:]) + 1 if last else 1
    if serial > 9999:
        raise RuleViolation([_project_finding("project_number", "该区县当日项目编号已用完，请明日再试。")])
    return f"{prefix}{serial:04d}"


class ProjectNumbers:
    """Issues the numbers of many new projects in one run (the bulk import): the last serial of a county and day
    is read once (issue_project_number), then counted on in memory. A number another writer took meanwhile is
    refused by the unique constraint; the writer then forgets the prefix (`forget`) and reads it again."""

    def __init__(self):
        self.last = {}  # prefix -> the last serial issued

    def __call__(self, county_code: str, today) -> str:
        prefix = f"{county_code}{today:%y%m%d}"
        if prefix in self.last and self.last[prefix] < 9999:
            self.last[prefix] += 1
            number = f"{prefix}{self.last[prefix]:04d}"
        else:
            number = issue_project_number(county_code, today)
            self.last[prefix] = int(number[-4:])
        return number

    def forget(self, number: str):
        self.last.pop(number[:-4], None)


def field_findings(stage_code: str, invalid: ValidationError) -> list:
    """A model validation error as findings, so every caller of a service gets one kind of refusal."""
    return [
        rules.Finding(
            "FIELD",
            rules.Category.LEGALITY,
            rules.Severity.ERROR,
            stage_code,
            "" if name == "__all__" else name,
            message,
        )
        for name, messages in invalid.message_dict.items()
        for message in messages
    ]


def _project_finding(field, message):
    return rules.Finding(
        "PROJECT", rules.Category.LEGALITY, rules.Severity.ERROR, rules.PROJECT, field, message
    )


def create_project(*, actor: Actor, data: dict) -> Project:
    """Start a backfill. `data` holds the Project form's cleaned fields; a blank project_number is issued. `kind`
    (construction by default) must be the enterprise's: a construction enterprise starts no design record and a
    survey/design enterprise no construction record (refused and audited, nothing written)."""
    enterprise = enterprise_of(actor)
    data = dict(data)
    kind = data.pop("kind", None) or ProjectKind.CONSTRUCTION
    with audit.refusals_recorded(actor, "project.create", enterprise):
        permissions.ensure_may_start(actor.user, kind)
    restricted = enterprise_restriction(enterprise)
    if restricted:
        with audit.refusals_recorded(actor, "project.create", enterprise):
            raise PermissionDenied(restricted)
    window = BackfillWindow.objects.filter(enterprise_kind=enterprise.kind).first()
    problem = rules.window_problem(window, enterprise.get_kind_display(), timezone.localdate())
    if problem:
        raise RuleViolation([_project_finding("", problem)])

    for attempt in range(3):
        try:
            with transaction.atomic():
                project = Project(enterprise=enterprise, created_by=actor.user, kind=kind, **data)
                _default_county(project)
                if not project.project_number and identifiers.is_chongqing_division(project.county_code):
                    project.project_number = issue_project_number(project.county_code, timezone.localdate())
                _check_project(project)
                project.save()
                audit.record(
                    actor,
                    "project.create",
                    project,
                    project=project,
                    changes=audit.diff({}, audit.field_values(project)),
                )
                return project
        except IntegrityError:
            # Two enterprises took the same serial at once: the unique constraint refused one; draw again.
            if data.get("project_number") or attempt == 2:
                raise RuleViolation([_project_finding("project_number", "该项目编号已被使用。")]) from None
    raise AssertionError("unreachable")


def create_checked_project(
    *,
    actor: Actor,
    project: Project,
    stages: dict,
    window=None,
    restriction_checked=False,
    numbers: ProjectNumbers | None = None,
) -> Project:
    """The bulk import's write of a new record (docs/import.md): `project` and `stages` ({code: stage}) are
    unsaved instances the caller has just validated field by field (full_clean) and as a whole record with the
    rule engine (rules.evaluate, refusing on the on-save rules' errors: imports.services.RowImporter.check).
    Checking the whole record once replaces the fourteen partial checks a project and six save_stage calls make.

    What can change between that check and this write is checked here again: who acts (the enterprise, the kind
    of record it may start, its restrictions — unless `restriction_checked`: the import asks them once per job),
    the backfill window (`window`, the enterprise kind's, else read), and the unique project and document numbers
    (the database's constraints). `numbers`: the run's ProjectNumbers, so that a run of new projects reads each county's
    last serial once. Written in one transaction (a savepoint of the caller's, if any), retried with a new number when
    the one issued was taken meanwhile: the project, each stage and one audit event each (project.create, stage.create with its fields, as create_project and save_stage
    write them), appended to the chain under one lock."""
    _ensure_may_create(actor, [project], window=window, restriction_checked=restriction_checked)

    project.created_by = actor.user
    _default_county(project)
    numbered = bool(project.project_number)
    for attempt in range(3):
        if not numbered and identifiers.is_chongqing_division(project.county_code):
            project.project_number = (numbers or issue_project_number)(
                project.county_code, timezone.localdate()
            )
        try:
            return _write_checked_project(actor, project, stages)
        except _NumberTaken:
            # The whole attempt rolled back (no savepoint around the insert: two queries a project fewer).
            project.pk = None
            if numbers is not None:
                numbers.forget(project.project_number)
            if numbered or attempt == 2:
                raise RuleViolation([_project_finding("project_number", "该项目编号已被使用。")]) from None
    raise AssertionError("unreachable")


class _NumberTaken(Exception):
    """The project's number was taken by another writer between issuing it and inserting the project."""


@transaction.atomic
def _write_checked_project(actor: Actor, project: Project, stages: dict) -> Project:
    try:
        project.save(force_insert=True)
    except IntegrityError:
        raise _NumberTaken from None
    entries = [_created(project)]
    for code, stage in stages.items():
        if stage is None:
            continue
        stage.project = project
        stage.updated_by = actor.user
        # bulk_create: the stage's save() would ask the database whether this draft, created a moment ago in
        # this transaction, is still editable (models.ensure_content_editable); PostgreSQL's trigger still
        # guards the row. An IntegrityError (a document number taken meanwhile) rolls the whole project back.
        try:
            type(stage).objects.bulk_create([stage])
        except IntegrityError:
            raise RuleViolation([_document_used(code)]) from None
        entries.append(_stage_created(project, code, stage))
    audit.record_many(actor, entries)
    return project


def _created(project: Project) -> audit.Entry:
    return audit.Entry(
        "project.create", project, project=project, changes=audit.diff({}, audit.field_values(project))
    )


def _stage_created(project: Project, code: str, stage) -> audit.Entry:
    changes = audit.diff({}, audit.field_values(stage))
    return audit.Entry("stage.create", stage, project=project, changes=changes, message=StageCode(code).label)


def _ensure_may_create(actor: Actor, projects: list, *, window, restriction_checked: bool) -> None:
    """What may change between an import's check of its records and their write, asked again (once for a batch):
    the records are the acting enterprise's, it may start their kinds, it is not restricted (unless
    `restriction_checked`), and its backfill window is open (`window`, else read)."""
    enterprise = enterprise_of(actor)
    if any(project.enterprise_id != enterprise.pk for project in projects):
        raise PermissionDenied("只能为本企业导入补录项目。")
    with audit.refusals_recorded(actor, "project.create", enterprise):
        for kind in {project.kind for project in projects}:
            permissions.ensure_may_start(actor.user, kind)
    restricted = None if restriction_checked else enterprise_restriction(enterprise)
    if restricted:
        with audit.refusals_recorded(actor, "project.create", enterprise):
            raise PermissionDenied(restricted)
    window = window or BackfillWindow.objects.filter(enterprise_kind=enterprise.kind).first()
    problem = rules.window_problem(window, enterprise.get_kind_display(), timezone.localdate())
    if problem:
        raise RuleViolation([_project_finding("", problem)])


def create_checked_projects(
    *,
    actor: Actor,
    records: list,
    window=None,
    restriction_checked=False,
    numbers: ProjectNumbers | None = None,
) -> list[Project]:
    """Many new records of the bulk import in one transaction (docs/import.md, "Batches"): `records` is
    [(project, stages)], each as create_checked_project takes it (checked whole by the caller), with the same
    checks again (who acts, the kind, the restrictions unless `restriction_checked`, the backfill window) asked once
    for the batch. Written with one COPY per table (backfill_portal/bulk_copy.py; the projects' and stages' ids
    taken first in one query): the projects, each stage model's rows and the audit events, and one INSERT of the new
    chains' heads (audit.record_new_chains: the same seven events a project as create_checked_project's).

    All or nothing: any error (a number another writer took meanwhile, a document number taken, a head that exists)
    rolls the whole batch back, leaves every record unsaved as it came (numbers issued here taken back) and raises
    BatchRefused; the caller then writes each record with create_checked_project, so that one record's problem
    costs the others nothing and is reported on its own."""
    _ensure_may_create(
        actor,
        [project for project, _stages in records],
        window=window,
        restriction_checked=restriction_checked,
    )

    issued = []
    try:
        for project, _stages in records:
            project.created_by = actor.user
            _default_county(project)
            if not project.project_number and identifiers.is_chongqing_division(project.county_code):
                project.project_number = (numbers or issue_project_number)(
                    project.county_code, timezone.localdate()
                )
                issued.append(project)
        with transaction.atomic():
            _write_checked_projects(actor, records)
    except Exception as failure:
        for project, stages in records:
            _unsaved(project)
            for stage in stages.values():
                if stage is not None:
                    _unsaved(stage)
        for project in issued:
            if numbers is not None:
                numbers.forget(project.project_number)  # read afresh: the rolled-back numbers are free again
            project.project_number = ""
        raise BatchRefused(failure) from failure
    return [project for project, _stages in records]


class BatchRefused(Exception):
    """A batch of create_checked_projects was rolled back whole (the error is its cause); nothing was written."""


def _unsaved(instance):
    """An instance as it was before a rolled-back bulk_create gave it a primary key."""
    instance.pk = None
    instance._state.adding = True


def _write_checked_projects(actor: Actor, records: list):
    # COPY, not bulk_create: the same rows, in about half the time (backfill_portal/bulk_copy.py), the ids of the
    # projects and their stages taken first in one query. PostgreSQL's trigger still guards every row.
    projects = [project for project, _stages in records]
    by_model = {}
    for _project, stages in records:
        for stage in stages.values():
            if stage is not None:
                by_model.setdefault(type(stage), []).append(stage)
    take_ids({Project: projects, **by_model})
    copy_new_rows(Project, projects)
    chains = []
    for project, stages in records:
        entries = [_created(project)]
        for code, stage in stages.items():
            if stage is None:
                continue
            stage.project = project
            stage.updated_by = actor.user
            entries.append(_stage_created(project, code, stage))
        chains.append(entries)
    for model, stages in by_model.items():
        copy_new_rows(model, stages)
    audit.record_new_chains(actor, chains)


def _document_used(stage_code: str):
    model = STAGE_MODELS[stage_code]
    label = model._meta.get_field(model.document_field).verbose_name
    return rules.Finding(
        "TRUTH-5",
        rules.Category.TRUTHFULNESS,
        rules.Severity.ERROR,
        stage_code,
        model.document_field,
        f"{label}已被其他项目使用。",
    )


def _default_county(project: Project):
    """A district's or county's own code; a zone's parent district; else the enterprise must say."""
    if project.authority_id and project.authority.division_code and not project.county_code:
        project.county_code = project.authority.division_code


def _check_project(project: Project):
    _default_county(project)
    findings = rules.errors_on_save(project, project)
    if not project.project_number:  # not issued because the county is missing: say that, once
        findings = [f for f in findings if f.field != "project_number"]
    if not identifiers.is_chongqing_division(project.county_code or ""):
        findings.append(_project_finding("county_code", "请填写重庆市的区县行政区划代码（5001xx或5002xx）。"))
    duplicate = Project.objects.filter(project_number=project.project_number).exclude(pk=project.pk).exists()
    if duplicate:
        findings.append(
            _project_finding("project_number", f"项目编号“{project.project_number}”已被其他补录项目使用。")
        )
    if findings:
        raise RuleViolation(findings)


PROJECT_EDITABLE_FIELDS = [
    "authority",
    "county_code",
    "name",
    "address",
    "project_type",
    "is_classified",
    "is_completed",
    "start_basis",
    "already_in_national_library",
    "total_investment",
    "total_area",
]


@audit.audits_refusals("project.update", refusals=(PermissionDenied, RecordLocked))
@transaction.atomic
def update_project(*, actor: Actor, project: Project, data: dict) -> Project:
    ensure_own_project(actor, project)
    project = lock_project(project)
    ensure_editable(project)
    before = audit.field_values(project)
    for name in PROJECT_EDITABLE_FIELDS:
        if name in data:
            setattr(project, name, data[name])
    _check_project(project)
    project.save()
    changes = audit.diff(before, audit.field_values(project))
    if changes:
        audit.record(actor, "project.update", project, project=project, changes=changes)
    return project


# ---------------------------------------------------------------- the six stages


@audit.audits_refusals("stage.save", refusals=(PermissionDenied, RecordLocked))
@transaction.atomic
def save_stage(*, actor: Actor, project: Project, stage_code: str, data: dict):
    """Create or update one stage from a form's cleaned data. Returns (stage, warnings)."""
    ensure_own_project(actor, project)
    project = lock_project(project)
    ensure_editable(project)
    if stage_code not in project.stage_codes:
        raise RuleViolation(
            [_project_finding("", f"{project.get_kind_display()}没有“{StageCode(stage_code).label}”环节。")]
        )
    model = STAGE_MODELS[stage_code]
    stage = model.objects.filter(project=project).first()
    before = audit.field_values(stage) if stage else {}
    if stage is None:
        stage = model(project=project)
    for name, value in data.items():
        setattr(stage, name, value)
    stage.updated_by = actor.user
    try:
        stage.full_clean()
    except ValidationError as invalid:
        raise RuleViolation(field_findings(stage_code, invalid)) from None

    errors = rules.errors_on_save(project, stage)
    if errors:
        raise RuleViolation(errors)
    try:
        with transaction.atomic():
            stage.save()
    except IntegrityError:
        raise RuleViolation([_document_used(stage_code)]) from None
    changes = audit.diff(before, audit.field_values(stage))
    if changes:
        action = "stage.update" if before else "stage.create"
        audit.record(
            actor, action, stage, project=project, changes=changes, message=StageCode(stage_code).label
        )
        Project.objects.filter(pk=project.pk).update(updated_at=timezone.now())
    return stage, rules.warnings_on_save(project, stage)


# ---------------------------------------------------------------- evidence


# The checks live in projects/files.py (docs/files.md); these names stay for review/'s imports until it uses
# that module directly.
ALLOWED_EVIDENCE_TYPES = files.ALLOWED_TYPES
size_label = files.size_label
sniff_evidence = files.sniff_type
file_sha256 = files.sha256_of


# A refused upload is audited too: wrong type, too large, empty, unreadable (ValidationError), as well as a locked
# record or another enterprise's.
@audit.audits_refusals("evidence.add", refusals=(PermissionDenied, RecordLocked, ValidationError))
@transaction.atomic
def add_evidence(
    *, actor: Actor, project: Project, stage_code: str, uploaded_file, description="", part=""
) -> Evidence:
    """`part`: which of the stage's documents this is where it asks for several (rules.EVIDENCE_PARTS)."""
    ensure_own_project(actor, project)
    project = lock_project(project)
    ensure_editable(project)
    if stage_code not in project.stage_codes:
        raise ValidationError("未知的环节。")
    if part and part not in rules.evidence_parts(project, stage_code):
        raise ValidationError("该环节没有这类证明材料。")
    checked = files.check_upload(uploaded_file)
    evidence = Evidence(
        project=project, stage=stage_code, part=part, description=description, uploaded_by=actor.user
    )
    evidence.record_upload(uploaded_file, checked)
    evidence.full_clean(exclude=["file"])
    evidence.file.save(f"{random.getrandbits(64):016x}", uploaded_file, save=False)
    # Stored before the row is written: a rollback leaves an orphan file, never a row without its file.
    evidence.save()
    audit.record(
        actor,
        "evidence.add",
        evidence,
        project=project,
        changes={
            "original_name": [None, evidence.original_name],
            "sha256": [None, evidence.sha256],
            "stage": [None, stage_code],
            **({"part": [None, part]} if part else {}),
            "size": [None, evidence.size],
        },
        message=StageCode(stage_code).label,
    )
    return evidence


@audit.audits_refusals(
    "evidence.archive",
    refusals=(PermissionDenied, RecordLocked),
    target=lambda kwargs: (kwargs["evidence"], kwargs["evidence"].project),
)
@transaction.atomic
def archive_evidence(*, actor: Actor, evidence: Evidence, reason: str) -> Evidence:
    """'Delete' for the enterprise: the file stays, archived with who, when and why (nothing is hard-deleted)."""
    ensure_own_project(actor, evidence.project)
    project = lock_project(evidence.project)
    ensure_editable(project)
    evidence = Evidence.objects.select_for_update().get(pk=evidence.pk)
    if evidence.archived_at is not None:
        raise RecordLocked("该证明材料已删除。")
    evidence.archive(by=actor.user, reason=reason or "企业删除")
    evidence.full_clean(exclude=["file"])
    evidence.save(update_fields=["archived_at", "archived_by", "archive_reason"])
    audit.record(
        actor,
        "evidence.archive",
        evidence,
        project=project,
        changes={"archived_at": [None, audit.serialise(evidence.archived_at)]},
        message=evidence.archive_reason,
    )
    return evidence


# ---------------------------------------------------------------- the lifecycle


def _audited_refusal_message(refusal) -> str | None:
    """A refusal of who may act or of the state is recorded with its message. A closed window refuses who may act
    when, not what was typed: audited like them (docs/lifecycle.md). Other rule errors are shown beside the
    fields, not audited."""
    if isinstance(refusal, RuleViolation):
        closed = [f.message for f in refusal.findings if f.code in AUDITED_RULES]
        return "；".join(closed)[:500] if closed else None
    return audit.refusal_message(refusal)


def refusals_audited(action: str):
    """A refused transition leaves no trace but the refusal: the change rolls back, then this records who
    tried what, in a transaction of its own (projects.audit.refusals_recorded)."""
    return audit.audits_refusals(
        action, refusals=(PermissionDenied, RecordLocked, RuleViolation), message_of=_audited_refusal_message
    )


AUDITED_RULES = {"SCOPE-7"}  # the backfill window


def ensure_expected_status(project: Project, expected_status: str | None):
    """A decision made on a page that showed another state is refused: someone acted in between."""
    if expected_status is not None and project.status != expected_status:
        raise RecordLocked(
            f"该项目的状态已变为“{project.get_status_display()}”（您打开页面时为“{Status(expected_status).label}”），"
            "可能已有其他人处理。请刷新后查看。"
        )


def record_transition(actor, project, action, before, message="", changes=None, fields=None):
    """Save the project (only `fields` if given: a transition that changed nothing else) and audit it."""
    project.save(update_fields=fields)
    audit.record(
        actor,
        action,
        project,
        project=project,
        changes={"status": [before, project.status], **(changes or {})},
        message=message,
    )


def snapshot_submission(project: Project) -> dict:
    loaded = rules.load_project(project.pk)
    stages = rules.stages_of(loaded)
    return {
        "project": audit.field_values(loaded, exclude=PROJECT_VOLATILE_FIELDS),
        **{code: audit.field_values(stage) if stage else None for code, stage in stages.items()},
    }


PROJECT_VOLATILE_FIELDS = (
    "id",
    "status",
    "updated_at",
    "created_at",
    "submitted_at",
    "first_submitted_at",
    "created_by",
)


@refusals_audited("project.submit")
@transaction.atomic
def submit_project(*, actor: Actor, project: Project, expected_status: str | None = None) -> Project:
    """draft/returned → submitted, when the rule engine finds no error. The record is then locked for the
    enterprise until a reviewer returns it; what was submitted is kept as a numbered version."""
    ensure_own_project(actor, project)
    restricted = enterprise_restriction(enterprise_of(actor))
    if restricted:
        raise PermissionDenied(restricted)  # audited by refusals_audited
    project = lock_project(project)
    ensure_expected_status(project, expected_status)
    if not can_proceed(project.submit):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能提交。")
    findings = rules.evaluate(rules.load_project(project.pk))
    errors = [f for f in findings if f.is_error]
    if errors:
        raise RuleViolation(errors)
    before = project.status
    project.submit()
    routing = route_on_submission(project)
    version = SubmissionVersion.objects.create(
        project=project,
        number=project.versions.count() + 1,
        submitted_at=project.submitted_at,
        submitted_by=actor.user,
        content=snapshot_submission(project),
        evidence=[
            {"id": e.pk, "stage": e.stage, "name": e.original_name, "sha256": e.sha256}
            for e in project.evidence.filter(archived_at__isnull=True)
        ],
    )
    receipts.issue(project=project, version=version, actor_user=actor.user)
    ReviewComment.objects.filter(project=project, settled_by_version__isnull=True).update(
        settled_by_version=version
    )
    warnings = len(findings)
    record_transition(
        actor,
        project,
        "project.submit",
        before,
        message=f"第{version.number}次提交审核" + (f"（{warnings}条提示）" if warnings else ""),
        changes=routing,
    )
    return project


def agency_with_account(credit_code: str):
    """The drawing-review agency with this credit code that has at least one active reviewer, or None."""
    from .models import Enterprise, EnterpriseKind

    if not credit_code:
        return None
    return (
        Enterprise.objects.filter(
            kind=EnterpriseKind.DRAWING_REVIEW,
            credit_code=credit_code,
            pk__in=permissions.agency_reviewers_with_account().values("enterprise_id"),
        )
        .only("pk", "name")
        .first()
    )


def route_on_submission(project: Project) -> dict:
    """A design record goes to the agency named on its certificate when that agency has a reviewer account, else
    to the city's queue; once the city gave it to the district it stays there (docs/design-projects.md,
    "Routing"). Returns the routing's change for the audit event."""
    if not project.is_design or project.routed_to_district:
        return {}
    review = getattr(project, "drawing_review", None)
    agency = agency_with_account(review.review_agency_credit_code if review else "")
    before = project.reviewing_agency.name if project.reviewing_agency_id else None
    project.reviewing_agency = agency
    after = agency.name if agency else None
    return {"reviewing_agency": [before, after]} if before != after else {}


@refusals_audited("project.withdraw")
@transaction.atomic
def withdraw_project(*, actor: Actor, project: Project, expected_status: str | None = None) -> Project:
    """submitted → draft, before any reviewer decided: the enterprise may edit again."""
    ensure_own_project(actor, project)
    project = lock_project(project)
    ensure_expected_status(project, expected_status)
    if not can_proceed(project.withdraw):
        raise RecordLocked(f"该项目当前状态为“{project.get_status_display()}”，不能撤回。")
    before = project.status
    project.withdraw()
    record_transition(actor, project, "project.withdraw", before, message="企业撤回提交")
    return project


__all__ = [
    "Actor",
    "PermissionDenied",
    "RecordLocked",
    "RuleViolation",
    "Status",
    "create_project",
    "update_project",
    "save_stage",
    "add_evidence",
    "archive_evidence",
    "submit_project",
]

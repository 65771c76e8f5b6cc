"""The import: a job per upload, each row a project written through projects.services (docs/import.md).

Each row is checked in full before anything is written: every cell read (reading.parse), every field validated
by its model, and the record as it would be checked by the rule engine (projects.rules.evaluate, the rules that
refuse a save). A row with an error writes nothing; a good row is created or updated as a draft through
projects.services, which check permission and rules again and audit every change — in one transaction per row.

A re-run (the same workbook again, or a job whose worker died) finds what an earlier run wrote by project number
or by a stage's document number and leaves it as it is or updates it: nothing is ever created twice.

The same code imports either kind of record (a construction enterprise's six stages, a survey/design enterprise's
design records: docs/design-projects.md), parametrised by the enterprise's kind (import_kind): the layout, the
stages and the rules follow it.
"""

import datetime
import logging
import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from openpyxl.utils import column_index_from_string

from projects import audit, identifiers, notifications, permissions, rules, services
from projects.audit import Actor
from projects.models import (
    PROJECT_KIND_OF_ENTERPRISE,
    STAGE_MODELS,
    STAGE_ORDER,
    Authority,
    BackfillWindow,
    Evidence,
    Project,
    ProjectKind,
    RecordLocked,
)

from . import layout, reading, workbooks
from .models import ImportJob, JobStatus

log = logging.getLogger(__name__)

PROJECT = rules.PROJECT
# Findings the self-check makes but a draft may still be saved with: shown as 提示 on the row. Missing evidence
# is left out (the evidence comes with the zip, or later, stage by stage).
QUIET_RULES = {"TRUTH-3", "DTRUTH-3"}


def import_kind(enterprise) -> str:
    """The kind of record the enterprise backfills, and so the layout of its template, import and export (a
    drawing-review agency backfills none: its clerks are refused by permissions.ensure_may_start)."""
    return PROJECT_KIND_OF_ENTERPRISE.get(enterprise.kind, ProjectKind.CONSTRUCTION)


# ---------------------------------------------------------------- starting a job


def start_import(*, actor: Actor, workbook, evidence_zip=None) -> ImportJob:
    """Keep the upload and queue its job: the import itself runs in a worker (tasks.run_import)."""
    with audit.refusals_recorded(actor, "import.start", refusals=(PermissionDenied,)):
        enterprise = permissions.ensure_enterprise(actor.user)
    job = ImportJob(
        enterprise=enterprise,
        created_by=actor.user,
        ip_address=audit.stored_ip(actor.ip_address),
        workbook_name=workbook.name[-255:],
        evidence_zip_name=evidence_zip.name[-255:] if evidence_zip else "",
    )
    job.workbook.save("workbook.xlsx", workbook, save=False)
    if evidence_zip:
        job.evidence_zip.save("evidence.zip", evidence_zip, save=False)
    with transaction.atomic():
        job.save()
        audit.record(actor, "import.start", job, message=f"批量导入：{job.workbook_name}")
        from .tasks import run_import

        # robust: a broker that is down does not fail the upload; the sweep (tasks.resume_stalled_imports) queues
        # the job again once it is IMPORT_STALL_SECONDS old.
        transaction.on_commit(lambda: run_import.delay(job.pk), robust=True)
    return job


# ---------------------------------------------------------------- running it


def stalled_jobs():
    """Jobs whose worker is gone: queued or running, with no heartbeat for IMPORT_STALL_SECONDS."""
    limit = timezone.now() - datetime.timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    return ImportJob.objects.filter(
        Q(status=JobStatus.QUEUED, created_at__lt=limit)
        | Q(status=JobStatus.RUNNING, heartbeat_at__lt=limit)
        | Q(status=JobStatus.RUNNING, heartbeat_at__isnull=True)
    )


def claim(job_id: int) -> bool:
    """Take the job for this run: a queued job, or a running one whose worker died. A job another live worker
    runs, or a finished one, is left alone (a redelivered task then does nothing)."""
    now = timezone.now()
    limit = now - datetime.timedelta(seconds=settings.IMPORT_STALL_SECONDS)
    return bool(
        ImportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=JobStatus.QUEUED)
            | Q(status=JobStatus.RUNNING, heartbeat_at__lt=limit)
            | Q(status=JobStatus.RUNNING, heartbeat_at__isnull=True)
        )
        .update(
            status=JobStatus.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            processed=0,
            created_count=0,
            updated_count=0,
            unchanged_count=0,
            refused_count=0,
        )
    )


def run_job(job_id: int) -> ImportJob:
    """Import every row of the job's workbook. Safe to run again (a redelivered task, a worker that died)."""
    if not claim(job_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("enterprise", "created_by").get(pk=job_id)
    actor = Actor(user=job.created_by, ip_address=job.ip_address)
    kind = import_kind(job.enterprise)
    try:
        # Who acts and the enterprise's restrictions (the blacklist: services.ENTERPRISE_GUARDS), once per job: a
        # job takes a minute at most, and a restriction takes effect from a date (integrity.selectors).
        with audit.refusals_recorded(actor, "import.run", job, refusals=(PermissionDenied,)):
            permissions.ensure_may_start(actor.user, kind)
            restricted = services.enterprise_restriction(job.enterprise)
            if restricted:
                raise PermissionDenied(restricted)
    except PermissionDenied as refused:
        return finish(job, status=JobStatus.FAILED, message=f"未导入：{refused}")
    with job.workbook.open("rb") as stored:
        data = stored.read()
    try:
        sheet = reading.read_workbook(data, job.workbook_name, kind)
    except reading.WorkbookRefused as refused:
        if isinstance(refused, reading.OtherKindWorkbook):  # an attempt at the other kind's records: audited
            audit.record_refusal(actor, "import.run", job, message=str(refused))
        return finish(job, status=JobStatus.FAILED, message=str(refused))

    ImportJob.objects.filter(pk=job.pk).update(total=len(sheet.rows))
    importer = RowImporter(actor=actor, enterprise=job.enterprise, sheet=sheet, kind=kind)
    parsed = importer.prepare(sheet.rows)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    results, all_problems, outcomes = [], [], {}
    reported = 0.0

    def record_results(finished):
        for row, outcome, problems, project in finished:
            counts[outcome] += 1
            all_problems.extend(problems)
            outcomes[row.number] = OUTCOME_LABELS[outcome] + (
                f"：{project.project_number}" if project else ""
            )
            results.append(
                {
                    "row": row.number,
                    "key": row.key,
                    "outcome": outcome,
                    "outcome_label": OUTCOME_LABELS[outcome],
                    "project_id": project.pk if project else None,
                    "project_number": project.project_number if project else "",
                    "problems": [p.as_dict(sheet.headers) for p in problems],
                }
            )

    for done, (row, values, parse_problems) in enumerate(parsed, start=1):
        # A new project's row is queued for its batch (RowImporter.flush): its result comes when the batch is
        # written, with the batch's other rows.
        record_results(importer.import_row(row, values, parse_problems))
        if done == len(parsed):
            record_results(importer.flush())
        elif time.monotonic() - reported < PROGRESS_SECONDS:
            continue
        reported = time.monotonic()
        ImportJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now(),
            processed=len(results),
            created_count=counts["created"],
            updated_count=counts["updated"],
            unchanged_count=counts["unchanged"],
            refused_count=counts["refused"],
        )
    results.sort(key=lambda result: result["row"])  # a batch's rows come after the refusals made meanwhile

    evidence_results = []
    if job.evidence_zip:
        from .evidence import import_evidence_zip

        with job.evidence_zip.open("rb") as stored:
            evidence_results = import_evidence_zip(
                actor=actor, archive=stored, projects_by_key=importer.projects_by_key
            )
    ImportJob.objects.filter(pk=job.pk).update(results=results, evidence_results=evidence_results)
    job = finish(job, status=JobStatus.DONE, message=summary_text(counts, evidence_results))
    if all_problems:
        # After the job is done: loading and saving the whole workbook with openpyxl (the only way to keep its
        # layout, drop-downs and formats) takes about as long as importing it. The clerk has the row-by-row
        # results meanwhile, and a download before it is stored makes it there and then (annotated_bytes).
        store_annotated(job, workbooks.annotate(data, all_problems, outcomes, kind))
    return job


# New projects written in one transaction (RowImporter.flush): 11 statements for the batch instead of 12 a
# project; a batch refused is written again project by project.
BATCH_SIZE = 100

# The progress (and the heartbeat) is written at most this often, and after the last row: once a row would cost
# more than the row's own writes.
PROGRESS_SECONDS = 0.5

OUTCOME_LABELS = {
    "created": "已新建草稿",
    "updated": "已更新草稿",
    "unchanged": "无变化",
    "refused": "未导入",
}


def summary_text(counts, evidence_results=()) -> str:
    text = (
        f"新建{counts['created']}个、更新{counts['updated']}个、无变化{counts['unchanged']}个、"
        f"未导入{counts['refused']}个项目"
    )
    if evidence_results:
        stored = sum(1 for r in evidence_results if r["outcome"] == "stored")
        text += f"；证明材料{len(evidence_results)}个文件中保存{stored}个"
    return text + "。"


def finish(job: ImportJob, *, status: str, message: str) -> ImportJob:
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status, message=message[:500], finished_at=timezone.now()
        )
        title = "批量导入已完成" if status == JobStatus.DONE else "批量导入未能完成"
        notifications.notify(
            [job.created_by],
            title=f"{title}：{job.workbook_name}"[:200],
            body=f"{message}\n请在“批量导入”页面查看逐行结果。",
        )
    job.refresh_from_db()
    return job


# ---------------------------------------------------------------- one row, one project


ON_SAVE_RULES = {r.code for r in rules.RULES if r.on_save}


class RowImporter:
    """Imports rows of `kind`'s layout for `enterprise`, whose permission and restrictions the job has checked
    (run_job: once per job)."""

    def __init__(self, *, actor: Actor, enterprise, sheet: reading.ReadSheet, kind=ProjectKind.CONSTRUCTION):
        self.actor = actor
        self.enterprise = enterprise
        self.sheet = sheet
        self.kind = kind
        self.stage_codes = layout.stage_codes(kind)
        self.window = BackfillWindow.objects.filter(enterprise_kind=enterprise.kind).first()
        self.authorities = {a.code: a for a in Authority.objects.all()}
        self.authority_ids = {a.pk for a in self.authorities.values()}
        self.numbers = services.ProjectNumbers()  # each county's last serial read once per job
        self.rows_by_project = {}  # project id -> the row that wrote it in this run
        self.projects_by_key = {}  # 序号 and project number -> project (for the evidence zip)
        # Read for the whole workbook at once (prepare), and kept up to date with what this run writes:
        self.by_number = {}  # project number -> (project id, enterprise id)
        self.by_document = {
            code: {} for code in self.stage_codes
        }  # document number -> (id, number, enterprise id)
        self.loaded = {}  # project id -> the enterprise's matched project, with its stages (rules.load_project)
        self.evidence_counts = {}  # project id -> {stage code: active evidence files}
        self.pending = []  # new projects checked and queued for their batch: (row, project, stages, problems)
        self.pending_keys = set()  # (PROJECT or stage code, project or document number) the queued rows hold

    def column(self, stage, name):
        return self.sheet.index_of(stage, name)

    def problem(self, row, stage, name, message, severity="error"):
        return self.sheet.problem(row.number, self.column(stage, name) if name else None, message, severity)

    def prepare(self, rows) -> list:
        """Read every row's cells, then look up in one query per table what the workbook's project and document
        numbers already name (instead of up to twelve queries a row): [(row, values, problems)]."""
        parsed = [(row, *self.parse(row)) for row in rows]
        numbers = {values[PROJECT].get("project_number") for _row, values, _problems in parsed} - {"", None}
        for number, pk, enterprise_id in Project.objects.filter(project_number__in=numbers).values_list(
            "project_number", "pk", "enterprise_id"
        ):
            self.by_number[number] = (pk, enterprise_id)
        for code in self.stage_codes:
            model = STAGE_MODELS[code]
            field = model.document_field
            documents = {values[code].get(field) for _row, values, _problems in parsed} - {"", None}
            for document, *found in (
                model.objects.filter(**{f"{field}__in": documents})
                .exclude(**{field: ""})
                .values_list(field, "project_id", "project__project_number", "project__enterprise_id")
            ):
                self.by_document[code][document] = tuple(found)
        own = {pk for pk, enterprise_id in self.by_number.values() if enterprise_id == self.enterprise.pk}
        for found in self.by_document.values():
            own |= {
                pk for pk, _number, enterprise_id in found.values() if enterprise_id == self.enterprise.pk
            }
        related = ("enterprise", "authority", *rules.STAGE_RELATED_NAMES.values())
        self.loaded = {p.pk: p for p in Project.objects.select_related(*related).filter(pk__in=own)}
        for row in (
            Evidence.objects.filter(project_id__in=own, archived_at__isnull=True)
            .values("project_id", "stage")
            .annotate(n=Count("id"))
        ):
            self.evidence_counts.setdefault(row["project_id"], {})[row["stage"]] = row["n"]
        return parsed

    def import_row(self, row, values, problems) -> list:
        """[(row, outcome, problems, project or None)] of the rows done by this call: this row, unless it is a new
        project queued for its batch (then nothing, or the whole batch when it is full), and first the batch so
        far when this row names a project or document number one of the batch's rows holds (so that this row
        finds that project written, as it would row by row). Writes nothing for a row that is not clean."""
        finished = []
        if self.pending and self.names_pending(values):
            finished += self.flush()
        done = self.check_row(row, values, problems)
        if done is not None:
            finished.append((row, *done))
        elif len(self.pending) >= BATCH_SIZE:
            finished += self.flush()
        return finished

    def check_row(self, row, values, problems):
        """(outcome, problems, project or None) for one sheet row read by prepare(), or None when the row is a
        clean new project, queued for its batch."""
        if problems:
            return "refused", problems, None
        existing, problems = self.match(row, values)
        if problems:
            return "refused", problems, None
        if existing is not None:
            if existing.pk in self.rows_by_project:
                earlier = self.rows_by_project[existing.pk]
                return (
                    "refused",
                    [self.sheet.problem(row.number, None, f"与第{earlier}行是同一个项目，本行未导入。")],
                    None,
                )
            if not existing.is_editable_by_enterprise:
                message = (
                    f"项目{existing.project_number}当前状态为“{existing.get_status_display()}”，"
                    "已提交或已入库的项目不能通过导入修改，本行未导入。"
                )
                return "refused", [self.sheet.problem(row.number, None, message)], None
        changed = existing is None or self.differs(existing, values)
        project, stages = self.candidate(existing, values)
        problems = self.check(row, project, stages)
        if any(p.severity == "error" for p in problems):
            return "refused", problems, None
        if not changed:
            self.remember(row, existing)
            return "unchanged", problems, existing
        if existing is None:
            self.queue(row, project, stages, problems)
            return None
        return self.written(row, problems, stages, lambda: self.update(existing, values))

    # -- new projects, a batch at a time (docs/import.md, "Batches")

    def queue(self, row, project, stages, problems):
        self.pending.append((row, project, stages, problems))
        if project.project_number:
            self.pending_keys.add((PROJECT, project.project_number))
        for code, stage in stages.items():
            if stage is not None and stage.document_number:
                self.pending_keys.add((code, stage.document_number))

    def names_pending(self, values) -> bool:
        keys = {(PROJECT, values[PROJECT].get("project_number"))}
        keys |= {(code, values[code].get(STAGE_MODELS[code].document_field)) for code in self.stage_codes}
        return not self.pending_keys.isdisjoint(keys)

    def flush(self) -> list:
        """Write the queued new projects: the whole batch in one transaction (services.create_checked_projects:
        one COPY per table), else — the batch refused for any reason, nothing of it written — each project in
        its own transaction as before, so that each is still saved or refused on its own and reported on its row."""
        pending, self.pending, self.pending_keys = self.pending, [], set()
        if len(pending) > 1:
            try:
                services.create_checked_projects(
                    actor=self.actor,
                    records=[(project, stages) for _row, project, stages, _problems in pending],
                    window=self.window,
                    restriction_checked=True,
                    numbers=self.numbers,
                )
            except Exception as refused:  # noqa: BLE001 - whatever it was, each project is tried on its own
                log.info("import batch of %d projects written one by one: %r", len(pending), refused)
            else:
                finished = []
                for row, project, stages, problems in pending:
                    self.remember(row, project, stages)
                    finished.append((row, "created", problems, project))
                return finished
        return [
            (row, *self.written(row, problems, stages, lambda p=project, s=stages: self.create(p, s)))
            for row, project, stages, problems in pending
        ]

    def written(self, row, problems, stages, write):
        """(outcome, problems, project or None) of `write`, a new project's or a draft's, in its own transaction."""
        try:
            written, outcome = write()
        except services.RuleViolation as violation:
            problems = problems + [self.finding_problem(row, f) for f in violation.findings]
            return "refused", problems, None
        except (PermissionDenied, RecordLocked, ValidationError) as refusal:
            problems = problems + [self.sheet.problem(row.number, None, audit.refusal_message(refusal))]
            return "refused", problems, None
        self.remember(row, written, stages)
        return outcome, problems, written

    def remember(self, row, project, stages=None):
        self.rows_by_project[project.pk] = row.number
        for key in (row.key, project.project_number):
            if key:
                self.projects_by_key[key] = project
        if project.project_number:
            self.by_number[project.project_number] = (project.pk, project.enterprise_id)
        for code, stage in (stages or {}).items():
            if stage is not None and stage.document_number:
                found = (project.pk, project.project_number, project.enterprise_id)
                self.by_document[code][stage.document_number] = found

    # -- reading the cells

    def parse(self, row):
        values = {PROJECT: {}, **{code: {} for code in self.stage_codes}}
        problems = []
        for index, column in self.sheet.columns.items():
            raw = row.values.get(index)
            try:
                value = reading.parse(column, raw)
            except reading.BadValue as bad:
                problems.append(self.sheet.problem(row.number, index, f"{column.header}：{bad}"))
                continue
            if column.required and column.stage == PROJECT and value in (None, ""):
                if column.kind != "bool" or not column.nullable:
                    problems.append(self.sheet.problem(row.number, index, f"请填写“{column.header}”。"))
                    continue
            values[column.stage][column.field] = value
        return values, problems

    # -- which project the row is

    def match(self, row, values):
        """The enterprise's project this row describes (by project number, else by a document number), or None."""
        number = values[PROJECT].get("project_number") or ""
        if number:
            found = self.by_number.get(number)
            if found is None:
                return None, []
            pk, enterprise_id = found
            if enterprise_id != self.enterprise.pk:
                message = f"项目编号“{number}”已被其他企业的补录项目使用（如确属本企业，请联系项目所在地审核部门核实）。"
                return None, [self.problem(row, PROJECT, "project_number", message)]
            return self.project(pk), []
        documents = {code: values[code].get(STAGE_MODELS[code].document_field) for code in self.stage_codes}
        found = {
            self.by_document[code][document][0]
            for code, document in documents.items()
            if document
            and document in self.by_document[code]
            and self.by_document[code][document][2] == self.enterprise.pk
        }
        if not found:
            if not any(documents.values()):
                message = "请填写项目编号或至少一个环节的文件编号（如报建编号），重复导入时据此识别同一项目。"
                return None, [self.sheet.problem(row.number, None, message)]
            return None, []
        if len(found) > 1:
            message = "本行各环节的文件编号分别属于本企业的不同补录项目，请核对或填写项目编号。"
            return None, [self.sheet.problem(row.number, None, message)]
        return self.project(found.pop()), []

    def project(self, pk) -> Project:
        """A matched project as rules.load_project reads it: prepared, or one this run wrote."""
        if pk not in self.loaded:
            self.loaded[pk] = rules.load_project(pk)
        return self.loaded[pk]

    def duplicate_documents(self, project, stages) -> dict:
        """rules.find_duplicate_documents from the prepared numbers: another project using a stage's number."""
        duplicates = {}
        for code, stage in stages.items():
            if stage is None or not stage.document_number:
                continue
            found = self.by_document[code].get(stage.document_number)
            if found and found[0] != project.pk:
                duplicates[code] = found[1:]
        return duplicates

    # -- the record as it would be saved

    def project_data(self, values) -> dict:
        data = {}
        for name in layout.project_fields(self.kind):
            if name not in values[PROJECT]:
                continue
            value = values[PROJECT][name]
            if name == "authority":
                value = self.authorities.get(value)
            data[name] = value
        return data

    def stage_data(self, values, code) -> dict | None:
        """The stage's cells as save_stage takes them; None when they are all blank (the stage is left alone)."""
        data = values[code]
        if not any(value not in (None, "", []) for value in data.values()):
            return None
        return data

    def candidate(self, existing, values):
        if existing is not None:
            project = existing  # read by prepare() for this row alone; differs() has compared it already
            stages = rules.stages_of(project)
        else:
            project = Project(enterprise=self.enterprise, created_by=self.actor.user, kind=self.kind)
            stages = dict.fromkeys(STAGE_ORDER)
            project.project_number = values[PROJECT].get("project_number") or ""
        for name, value in self.project_data(values).items():
            setattr(project, name, value)
        if project.authority_id and not project.county_code:
            project.county_code = project.authority.division_code
        for code in self.stage_codes:
            data = self.stage_data(values, code)
            if data is None:
                continue
            stage = stages[code] or STAGE_MODELS[code](project=project)
            for name, value in data.items():
                setattr(stage, name, value)
            stages[code] = stage
        return project, stages

    def check(self, row, project, stages) -> list:
        problems = []
        # An authority read from the sheet is one of self.authorities (reading.parse_choice refuses other names):
        # its foreign key needs no query to validate.
        known = project.authority_id in self.authority_ids
        try:
            project.full_clean(
                exclude=[
                    "enterprise",
                    "created_by",
                    "project_number",
                    "status",
                    *(["authority"] if known else []),
                ],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as invalid:
            problems += self.validation_problems(row, PROJECT, invalid)
        if project.county_code and not identifiers.is_chongqing_division(project.county_code):
            message = "请填写重庆市的区县行政区划代码（5001xx或5002xx）。"
            problems.append(self.problem(row, PROJECT, "county_code", message))
        for code, stage in stages.items():
            if stage is None:
                continue
            try:
                stage.full_clean(
                    exclude=["project", "updated_by"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as invalid:
                problems += self.validation_problems(row, code, invalid)
        if problems:
            return problems
        context = rules.RecordContext(
            project=project,
            stages=stages,
            evidence_counts=dict.fromkeys(STAGE_ORDER, 0) | self.evidence_counts.get(project.pk, {}),
            duplicate_documents=self.duplicate_documents(project, stages),
            window=self.window,
        )
        for finding in rules.evaluate(project, context=context):
            if finding.field == "project_number" and not project.project_number:
                continue  # issued when the project is created
            if finding.code in QUIET_RULES:
                continue
            blocking = finding.is_error and finding.code in ON_SAVE_RULES
            severity = "error" if blocking else "warning"
            problem = self.finding_problem(row, finding, severity)
            if not blocking and finding.is_error:
                problem.message += "（提交前须处理）"
            problems.append(problem)
        return problems

    def validation_problems(self, row, stage, invalid):
        problems = []
        for name, messages in invalid.message_dict.items():
            column = self.column(stage, name) if name != "__all__" else None
            for message in messages:
                header = self.sheet.columns[column].header + "：" if column else ""
                problems.append(self.sheet.problem(row.number, column, header + message))
        return problems

    def finding_problem(self, row, finding, severity=None):
        column = self.column(finding.stage, finding.field) if finding.field else None
        if column is None and finding.stage != PROJECT:
            column = self.column(finding.stage, STAGE_MODELS[finding.stage].document_field)
        prefix = "" if column else f"{finding.stage_label}："
        return self.sheet.problem(
            row.number,
            column,
            prefix + finding.message,
            severity or ("error" if finding.is_error else "warning"),
        )

    def differs(self, project, values) -> bool:
        for name, value in self.project_data(values).items():
            stored = getattr(project, name)
            if name == "authority":
                if stored.pk != getattr(value, "pk", None):
                    return True
            elif not same(stored, value):
                return True
        stages = rules.stages_of(project)
        for code in self.stage_codes:
            data = self.stage_data(values, code)
            if data is None:
                continue
            if stages[code] is None:
                return True
            if any(not same(getattr(stages[code], name), value) for name, value in data.items()):
                return True
        return False

    # -- writing through the services

    def create(self, project, stages):
        """A new project on its own: the checked record as it is (services.create_checked_project, its own
        transaction)."""
        written = services.create_checked_project(
            actor=self.actor,
            project=project,
            stages=stages,
            window=self.window,
            restriction_checked=True,
            numbers=self.numbers,
        )
        return written, "created"

    def update(self, existing, values):
        """A draft, updated through the services a form uses, which lock it and check it again (it may have been
        submitted meanwhile)."""
        with transaction.atomic():
            project = services.update_project(
                actor=self.actor, project=existing, data=self.project_data(values)
            )
            for code in self.stage_codes:
                stage = self.stage_data(values, code)
                if stage is not None:
                    services.save_stage(actor=self.actor, project=project, stage_code=code, data=stage)
        return project, "updated"


def same(stored, value) -> bool:
    if stored in (None, "", []) and value in (None, "", []):
        return True
    if isinstance(stored, datetime.datetime):
        stored = stored.date()
    return stored == value


# ---------------------------------------------------------------- the template and the export


# A design record's example names a design tender and contract (DSCOPE-3), not the lists' first entries.
DESIGN_EXAMPLE_CHOICES = {"tender_class": "设计", "contract_type": "设计"}


def example_row(kind=ProjectKind.CONSTRUCTION) -> list:
    from stdnum.cn import uscc

    credit = "91500103MA5U00000"
    credit += uscc.calc_check_digit(credit)
    example = []
    for column in layout.columns(kind):
        if kind == ProjectKind.DESIGN and column.field in DESIGN_EXAMPLE_CHOICES:
            example.append(DESIGN_EXAMPLE_CHOICES[column.field])
        elif column.kind == "designers":
            example.append(
                "王设计 身份证 500222198508153213 注册建筑师 一级 项目负责人\n"
                "李结构 身份证 500103197806120031 注册结构工程师 一级 专业负责人"
            )
        elif column.kind == "date":
            example.append(datetime.date(2016, 3, 5))
        elif column.kind == "decimal":
            example.append(12345678.9)
        elif column.kind == "integer":
            example.append(0)
        elif column.kind == "bool":
            example.append("是" if column.field in ("is_completed", "passed_first_review") else "否")
        elif column.choices:
            example.append(column.labels[0])
        elif "统一社会信用代码" in column.header:
            example.append(credit)
        elif "身份证" in column.header:
            example.append("500222198508153213")
        elif column.field == "project_number":
            example.append("5001031603050001")
        elif column.field == "county_code":
            example.append("500103")
        else:
            example.append(f"{column.header.split('·')[-1]}（示例）")
    return example


def template_bytes(kind=ProjectKind.CONSTRUCTION) -> bytes:
    return workbooks.build(example=example_row(kind), kind=kind)


def export_bytes(enterprise) -> bytes:
    """The enterprise's records in its template's layout, keyed by project number: imported back, nothing
    changes."""
    kind = import_kind(enterprise)
    columns = layout.columns(kind)
    projects = (
        Project.objects.filter(enterprise=enterprise, kind=kind)
        .select_related("authority", *rules.STAGE_RELATED_NAMES.values())
        .order_by("id")
    )
    rows = []
    for project in projects:
        stages = rules.stages_of(project)
        values = []
        for column in columns:
            source = project if column.stage == PROJECT else stages[column.stage]
            value = getattr(source, column.field) if source is not None else None
            values.append(layout.display_value(column, value))
        rows.append((project.project_number, values))
    return workbooks.build(rows, kind=kind)


def store_annotated(job: ImportJob, annotated: bytes):
    job.annotated.save("annotated.xlsx", ContentFile(annotated), save=False)
    ImportJob.objects.filter(pk=job.pk).update(annotated=job.annotated.name)


def annotated_bytes(job: ImportJob) -> bytes:
    """The annotated copy: stored by the job, or made now from its results (a worker stopped after the job was
    done and before the copy was stored)."""
    if job.annotated:
        with job.annotated.open("rb") as stored:
            return stored.read()
    problems, outcomes = [], {}
    for result in job.results:
        label = result["outcome_label"] + (
            f"：{result['project_number']}" if result["project_number"] else ""
        )
        outcomes[result["row"]] = label
        for p in result["problems"]:
            column = column_index_from_string(p["column"]) if p["column"] else None
            problems.append(
                reading.Problem(
                    p["row"], column, p["message"], p["severity"], sheet=p.get("sheet", layout.SHEET)
                )
            )
    with job.workbook.open("rb") as stored:
        annotated = workbooks.annotate(stored.read(), problems, outcomes, import_kind(job.enterprise))
    store_annotated(job, annotated)
    return annotated


__all__ = ["start_import", "run_job", "template_bytes", "export_bytes"]

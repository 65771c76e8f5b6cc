"""The rule engine: every check the portal makes of a backfill record, one small named rule each.

A rule has a stable code, a category (scope / truthfulness / legality / logic / linkage), a severity (an error
blocks submission, a warning does not), the stage and field it points at, and a Chinese message. The enterprise's
forms, the self-check page, submission and (later) imports and reviewers all call evaluate() below:
one rule, one place.

Rules marked on_save=True are also checked when a stage is saved, so a wrong value is refused at once with
nothing saved; the others (completeness, scope, evidence) are for the self-check and for submission, because a
draft may be saved half-filled.
"""

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from . import identifiers
from .models import (
    DESIGN_PROJECT_TYPES,
    IN_SCOPE_PROJECT_TYPES,
    STAGE_MODELS,
    STAGE_ORDER,
    BackfillWindow,
    ContractType,
    Evidence,
    EvidencePart,
    IdDocumentType,
    Project,
    ProjectKind,
    StageCode,
    StartBasis,
    TenderClass,
    TenderMethod,
    WorksCategory,
)

CONSTRUCTION = (ProjectKind.CONSTRUCTION,)
DESIGN = (ProjectKind.DESIGN,)
BOTH = (ProjectKind.CONSTRUCTION, ProjectKind.DESIGN)


class Category:
    SCOPE = "scope"
    TRUTHFULNESS = "truthfulness"
    LEGALITY = "legality"
    LOGIC = "logic"
    LINKAGE = "linkage"

    LABELS = {
        SCOPE: "补录范围",
        TRUTHFULNESS: "真实性",
        LEGALITY: "合法性",
        LOGIC: "逻辑性",
        LINKAGE: "关联性",
    }


class Severity:
    ERROR = "error"
    WARNING = "warning"

    LABELS = {ERROR: "错误", WARNING: "提示"}


PROJECT = "project"  # the "stage" of a finding about the project's own fields

STAGE_LABELS = {PROJECT: "项目基本信息", **{code: StageCode(code).label for code in STAGE_ORDER}}


@dataclass(frozen=True)
class Finding:
    code: str
    category: str
    severity: str
    stage: str
    field: str
    message: str
    involves: tuple[str, ...] = ()  # every stage the finding depends on: a save of any of them is checked

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    @property
    def category_label(self) -> str:
        return Category.LABELS[self.category]

    @property
    def severity_label(self) -> str:
        return Severity.LABELS[self.severity]

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS[self.stage]


@dataclass(frozen=True)
class Problem:
    """What a rule's check yields: a message, and where it points when that differs from the rule's default."""

    message: str
    stage: str | None = None
    field: str | None = None
    severity: str | None = None
    involves: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    code: str
    category: str
    severity: str
    stage: str
    field: str
    title: str
    check: Callable[["RecordContext"], Iterable[Problem | str]]
    on_save: bool
    involves: tuple[str, ...]
    kinds: tuple[str, ...] = CONSTRUCTION  # the project kinds (ProjectKind) the rule checks


RULES: list[Rule] = []


def rule(
    code,
    *,
    category,
    title,
    stage=PROJECT,
    field="",
    severity=Severity.ERROR,
    on_save=True,
    involves=(),
    kinds=CONSTRUCTION,
):
    """Register a check. The check takes a RecordContext and yields Problems (or plain messages). `kinds`: the
    project kinds it checks (a construction record's six stages, a design record's: docs/design-projects.md)."""

    def register(check):
        if any(r.code == code for r in RULES):
            raise ValueError(f"duplicate rule code {code}")
        RULES.append(
            Rule(
                code,
                category,
                severity,
                stage,
                field,
                title,
                check,
                on_save,
                tuple(involves) or (stage,),
                tuple(kinds),
            )
        )
        return check

    return register


# ---------------------------------------------------------------- the context a rule reads


@dataclass
class RecordContext:
    """Everything the rules read, loaded in a fixed number of queries whatever the data size."""

    project: Project
    stages: dict  # stage code -> stage instance, or None when not filled yet
    evidence_counts: dict  # stage code -> number of active evidence files
    # stage code -> (project number, enterprise id) of another project using the same document number
    duplicate_documents: dict
    window: BackfillWindow | None
    today: datetime.date = field(default_factory=timezone.localdate)
    # (stage code, evidence part) -> number of active files, for stages that ask for several documents
    evidence_parts: dict = field(default_factory=dict)

    def stage(self, code):
        return self.stages.get(code)


STAGE_RELATED_NAMES = {code: code for code in STAGE_ORDER}  # Project's reverse one-to-one accessors


def load_project(project_id) -> Project:
    """The project with its enterprise, authority and all six stages: one query."""
    return Project.objects.select_related("enterprise", "authority", *STAGE_RELATED_NAMES.values()).get(
        pk=project_id
    )


def stages_of(project: Project) -> dict:
    if project.pk is None:
        return dict.fromkeys(STAGE_ORDER)
    stages = {}
    for code, related_name in STAGE_RELATED_NAMES.items():
        try:
            stages[code] = getattr(project, related_name)
        except STAGE_MODELS[code].DoesNotExist:
            stages[code] = None
    return stages


def build_context(project: Project, *, candidate=None) -> RecordContext:
    """The context of a saved project, with an unsaved `candidate` (a stage or the project itself) in place of
    its saved version, so a form's data can be checked before anything is written."""
    if candidate is not None and isinstance(candidate, Project):
        project = candidate
    stages = stages_of(project)
    if candidate is not None and not isinstance(candidate, Project):
        stages[candidate.code] = candidate

    evidence_counts = dict.fromkeys(STAGE_ORDER, 0)
    evidence_parts = {}
    if project.pk:
        rows = (
            Evidence.objects.filter(project_id=project.pk, archived_at__isnull=True)
            .values("stage", "part")
            .annotate(n=Count("id"))
        )
        for row in rows:
            evidence_counts[row["stage"]] += row["n"]
            evidence_parts[(row["stage"], row["part"])] = row["n"]

    return RecordContext(
        project=project,
        stages=stages,
        evidence_counts=evidence_counts,
        duplicate_documents=find_duplicate_documents(project, stages),
        window=BackfillWindow.objects.filter(enterprise_kind=project.enterprise.kind).first(),
        evidence_parts=evidence_parts,
    )


def find_duplicate_documents(project, stages) -> dict:
    """For each filled stage, another project already using its document number (one query per stage, ≤ 6)."""
    duplicates = {}
    for code, stage in stages.items():
        if stage is None or not stage.document_number:
            continue
        model = STAGE_MODELS[code]
        other = (
            model.objects.filter(**{model.document_field: stage.document_number})
            .exclude(project_id=project.pk)
            .values_list("project__project_number", "project__enterprise_id")
            .first()
        )
        if other:
            duplicates[code] = other
    return duplicates


def evaluate(project: Project, *, candidate=None, context: RecordContext | None = None) -> list[Finding]:
    """Run every rule. Findings come in stage order, errors first within a stage."""
    context = context or build_context(project, candidate=candidate)
    findings = []
    kind = context.project.kind or ProjectKind.CONSTRUCTION
    for r in RULES:
        if kind not in r.kinds:
            continue
        for problem in r.check(context) or ():
            if isinstance(problem, str):
                problem = Problem(problem)
            findings.append(
                Finding(
                    code=r.code,
                    category=r.category,
                    severity=problem.severity or r.severity,
                    stage=problem.stage or r.stage,
                    field=problem.field if problem.field is not None else r.field,
                    message=problem.message,
                    involves=problem.involves or r.involves,
                )
            )
    order = {code: i for i, code in enumerate([PROJECT, *STAGE_ORDER])}
    findings.sort(key=lambda f: (order[f.stage], f.severity != Severity.ERROR))
    return findings


def errors_on_save(project: Project, candidate) -> list[Finding]:
    """The errors that refuse a save of `candidate` (a stage or the project): on-save rules touching it."""
    touched = PROJECT if isinstance(candidate, Project) else candidate.code
    on_save_codes = {r.code for r in RULES if r.on_save}
    return [
        f
        for f in evaluate(project, candidate=candidate)
        if f.is_error and f.code in on_save_codes and touched in f.involves
    ]


def warnings_on_save(project: Project, candidate) -> list[Finding]:
    touched = PROJECT if isinstance(candidate, Project) else candidate.code
    return [f for f in evaluate(project, candidate=candidate) if not f.is_error and touched in f.involves]


# ---------------------------------------------------------------- scope (补录范围)


@rule(
    "SCOPE-1",
    category=Category.SCOPE,
    field="county_code",
    title="项目位于重庆市行政区域内",
    on_save=False,
    kinds=BOTH,
)
def in_chongqing(ctx):
    if not identifiers.is_chongqing_division(ctx.project.county_code or ""):
        yield f"项目所在区县代码“{ctx.project.county_code}”不是重庆市的行政区划代码，不在本次补录范围内。"


@rule("SCOPE-2", category=Category.SCOPE, field="is_completed", title="项目已竣工", on_save=False)
def completed(ctx):
    if not ctx.project.is_completed:
        yield "本次只补录已竣工的项目：该项目未竣工。"


@rule(
    "SCOPE-3",
    category=Category.SCOPE,
    field="start_basis",
    title="具有施工许可证或同意开工证明",
    on_save=False,
)
def has_start_basis(ctx):
    if ctx.project.start_basis == StartBasis.NONE:
        yield "项目须具有施工许可证，或项目所在地县级以上主管部门同意开工的证明材料。"


@rule(
    "SCOPE-4",
    category=Category.SCOPE,
    field="already_in_national_library",
    title="尚未进入全国平台项目库",
    on_save=False,
    kinds=BOTH,
)
def not_in_national_library(ctx):
    if ctx.project.already_in_national_library:
        yield "该项目已进入全国建筑市场监管公共服务平台项目库，无需补录。"


@rule("SCOPE-5", category=Category.SCOPE, field="project_type", title="项目类型在补录范围内", on_save=False)
def type_in_scope(ctx):
    if ctx.project.project_type not in IN_SCOPE_PROJECT_TYPES:
        yield "本次只补录建筑工程施工总承包、市政公用工程施工总承包及相关专业承包项目。"


@rule(
    "SCOPE-6", category=Category.SCOPE, field="is_classified", title="非涉密项目", on_save=False, kinds=BOTH
)
def not_classified(ctx):
    if ctx.project.is_classified:
        yield "涉密项目不得通过本系统补录。"


def window_problem(window: BackfillWindow | None, kind_label: str, today: datetime.date) -> str | None:
    """Used by this rule and by the service that starts a backfill."""
    if window is None:
        return f"尚未设置{kind_label}的补录时限，暂不能补录。"
    if not window.is_open_on(today):
        return (
            f"{kind_label}的补录时限为{window.opens_on:%Y年%m月%d日}至{window.closes_on:%Y年%m月%d日}，"
            f"今天（{today:%Y年%m月%d日}）不在时限内，不能补录或提交。"
        )
    return None


@rule("SCOPE-7", category=Category.SCOPE, title="在补录时限内", on_save=False, kinds=BOTH)
def within_window(ctx):
    """Checked on the day of the first submission: a record first submitted within the window and returned
    for revision may be resubmitted after the window closed (docs/lifecycle.md)."""
    first = ctx.project.first_submitted_at
    day = timezone.localdate(first) if first else ctx.today
    problem = window_problem(ctx.window, ctx.project.enterprise.get_kind_display(), day)
    if problem:
        yield problem


# ---------------------------------------------------------------- truthfulness (真实性): complete, evidenced


def required_stages(project) -> list[str]:
    """All six, except the permit stage where the project started on another authority's approval."""
    if project.start_basis == StartBasis.START_APPROVAL:
        return [code for code in STAGE_ORDER if code != StageCode.PERMIT]
    return list(STAGE_ORDER)


REQUIRED_FIELDS = {
    StageCode.REGISTRATION: [
        "registration_number",
        "registered_on",
        "owner_name",
        "owner_credit_code",
        "land_use_permit_number",
        "works_planning_permit_number",
        "nature",
    ],
    StageCode.TENDERING: [
        "award_notice_number",
        "tender_method",
        "awarded_on",
        "award_amount",
        "winner_name",
        "winner_credit_code",
        "project_manager_name",
        "project_manager_id_number",
    ],
    StageCode.CONTRACT: [
        "filing_number",
        "contract_type",
        "amount",
        "signed_on",
        "employer_name",
        "contractor_name",
        "contractor_credit_code",
    ],
    StageCode.DRAWING_REVIEW: ["certificate_number", "review_agency_name", "completed_on"],
    StageCode.PERMIT: [
        "permit_number",
        "drawing_review_certificate_number",
        "contract_amount",
        "issued_on",
        "construction_enterprise_name",
        "construction_enterprise_credit_code",
        "project_manager_name",
        "project_manager_id_number",
    ],
    StageCode.COMPLETION: [
        "filing_number",
        "permit_number",
        "construction_enterprise_name",
        "construction_enterprise_credit_code",
        "actual_start_on",
        "actual_completion_on",
        "filed_on",
    ],
}

EVIDENCE_REQUIRED = {
    StageCode.REGISTRATION: "立项批文或报建登记表",
    StageCode.TENDERING: "中标通知书",
    StageCode.CONTRACT: "合同备案表或合同文本",
    StageCode.DRAWING_REVIEW: "施工图审查合格书",
    StageCode.PERMIT: "施工许可证（或同意开工证明材料）",
    StageCode.COMPLETION: "竣工验收备案表",
}


@rule("TRUTH-1", category=Category.TRUTHFULNESS, title="各环节信息已填写", on_save=False)
def stages_present(ctx):
    for code in required_stages(ctx.project):
        if ctx.stage(code) is None:
            yield Problem(f"尚未填写“{StageCode(code).label}”环节信息。", stage=code)


@rule("TRUTH-2", category=Category.TRUTHFULNESS, title="必填字段已填写", on_save=False)
def required_fields(ctx):
    for code, names in REQUIRED_FIELDS.items():
        stage = ctx.stage(code)
        if stage is None:
            continue
        for name in names:
            if getattr(stage, name) in (None, ""):
                label = stage._meta.get_field(name).verbose_name
                yield Problem(f"请填写“{label}”。", stage=code, field=name)


@rule("TRUTH-3", category=Category.TRUTHFULNESS, title="各环节已上传证明材料", on_save=False)
def evidence_present(ctx):
    codes = set(required_stages(ctx.project))
    if ctx.project.start_basis == StartBasis.START_APPROVAL:
        codes.add(StageCode.PERMIT)  # the approval itself is the evidence of this stage
    for code in STAGE_ORDER:
        if code in codes and ctx.evidence_counts.get(code, 0) == 0:
            yield Problem(
                f"“{StageCode(code).label}”环节尚未上传证明材料（{EVIDENCE_REQUIRED[code]}）。",
                stage=code,
                field="evidence",
            )


def stage_dates(stage) -> list[tuple[str, datetime.date]]:
    return [(name, getattr(stage, name)) for name in date_field_names(type(stage)) if getattr(stage, name)]


# A model's fields and their code tables are fixed when its class is defined: read once a process, not once a
# record (an import checks a thousand records, each of six stages: docs/import.md, "Rules once a process").


@functools.cache
def date_field_names(model) -> tuple[str, ...]:
    """The names of the model's date fields, in field order."""
    return tuple(f.name for f in model._meta.concrete_fields if f.get_internal_type() == "DateField")


@functools.cache
def choice_fields(model) -> tuple:
    """(field, its allowed stored values) for each of the model's fields with a code table, in field order."""
    return tuple(
        (f, frozenset(value for value, _label in f.flatchoices))
        for f in model._meta.concrete_fields
        if f.choices
    )


@rule("TRUTH-4", category=Category.TRUTHFULNESS, title="日期不晚于今天", kinds=BOTH)
def no_future_dates(ctx):
    for code, stage in ctx.stages.items():
        if stage is None:
            continue
        for name, value in stage_dates(stage):
            if value > ctx.today:
                label = stage._meta.get_field(name).verbose_name
                yield Problem(
                    f"“{label}”（{value:%Y-%m-%d}）晚于今天，补录的是已竣工项目，日期不能在将来。",
                    stage=code,
                    field=name,
                    involves=(code,),
                )


@rule("TRUTH-5", category=Category.TRUTHFULNESS, title="文件编号未被其他项目使用", kinds=BOTH)
def document_number_unique(ctx):
    for code, (other_project_number, other_enterprise_id) in ctx.duplicate_documents.items():
        stage = ctx.stage(code)
        label = stage._meta.get_field(stage.document_field).verbose_name
        # Another enterprise's record is not named: its project number is not this enterprise's to know.
        if other_enterprise_id == ctx.project.enterprise_id:
            where = f"已被项目{other_project_number}使用（本企业的另一条补录记录）"
        else:
            where = "已被其他企业的补录项目使用（如确属本企业，请联系项目所在地审核部门核实）"
        yield Problem(
            f"{label}“{stage.document_number}”{where}，同一编号不能重复补录。",
            stage=code,
            field=stage.document_field,
            involves=(code,),
        )


# ---------------------------------------------------------------- legality (合法性): formats


@rule("LEGAL-1", category=Category.LEGALITY, field="project_number", title="项目编号格式", kinds=BOTH)
def project_number_format(ctx):
    problem = identifiers.project_number_problem(ctx.project.project_number or "")
    if problem:
        yield problem


CREDIT_CODE_FIELDS = {
    StageCode.REGISTRATION: ["owner_credit_code"],
    StageCode.TENDERING: ["winner_credit_code", "tender_agency_credit_code"],
    StageCode.CONTRACT: ["employer_credit_code", "contractor_credit_code"],
    StageCode.DRAWING_REVIEW: [
        "review_agency_credit_code",
        "survey_enterprise_credit_code",
        "design_enterprise_credit_code",
    ],
    StageCode.PERMIT: [
        "construction_enterprise_credit_code",
        "survey_enterprise_credit_code",
        "design_enterprise_credit_code",
        "supervision_enterprise_credit_code",
    ],
    StageCode.COMPLETION: ["construction_enterprise_credit_code"],
}


def filled_fields(ctx, fields_by_stage):
    for code, names in fields_by_stage.items():
        stage = ctx.stage(code)
        if stage is None:
            continue
        for name in names:
            value = getattr(stage, name)
            if value:
                yield code, stage, name, value


@rule(
    "LEGAL-2",
    category=Category.LEGALITY,
    title="统一社会信用代码校验（GB 32100-2015，含联合体成员）",
    kinds=BOTH,
)
def credit_codes_valid(ctx):
    for code, stage, name, value in filled_fields(ctx, CREDIT_CODE_FIELDS):
        if ctx.project.is_design and name == "review_agency_credit_code":
            continue  # a design record's agency: DLEGAL-1, which routes the record
        problem = identifiers.credit_code_problem(value)
        if problem:
            label = stage._meta.get_field(name).verbose_name
            yield Problem(f"{label}：{problem}", stage=code, field=name, involves=(code,))
    contract = ctx.stage(StageCode.CONTRACT)
    if contract is not None:
        for problem in identifiers.joint_venture_member_problems(contract.joint_venture_members):
            yield Problem(
                problem,
                stage=StageCode.CONTRACT,
                field="joint_venture_members",
                involves=(StageCode.CONTRACT,),
            )


ID_NUMBER_FIELDS = {
    StageCode.TENDERING: ["project_manager_id_number"],
    StageCode.PERMIT: ["project_manager_id_number", "chief_supervisor_id_number"],
}


def id_type_field(name: str) -> str:
    """The document type beside an ID number field: project_manager_id_number -> project_manager_id_type."""
    return name.removesuffix("_number") + "_type"


@rule("LEGAL-3", category=Category.LEGALITY, title="身份证号码校验（GB 11643）")
def id_numbers_valid(ctx):
    for code, stage, name, value in filled_fields(ctx, ID_NUMBER_FIELDS):
        if getattr(stage, id_type_field(name)) not in ("", IdDocumentType.RESIDENT_ID):
            continue  # another document (NAT-3)
        problem = identifiers.id_number_problem(value)
        if problem:
            label = stage._meta.get_field(name).verbose_name
            yield Problem(f"{label}：{problem}", stage=code, field=name, involves=(code,))


PERMIT_NUMBER_FIELDS = {StageCode.PERMIT: ["permit_number"], StageCode.COMPLETION: ["permit_number"]}


@rule("LEGAL-4", category=Category.LEGALITY, title="施工许可证编号格式")
def permit_number_format(ctx):
    for code, _stage, name, value in filled_fields(ctx, PERMIT_NUMBER_FIELDS):
        problem = identifiers.permit_number_problem(value)
        if problem:
            severity, message = problem
            yield Problem(message, stage=code, field=name, severity=severity, involves=(code,))


DOCUMENT_NUMBER_FIELDS = {
    StageCode.REGISTRATION: ["registration_number"],
    StageCode.TENDERING: ["award_notice_number"],
    StageCode.CONTRACT: ["filing_number"],
    StageCode.DRAWING_REVIEW: ["certificate_number"],
    StageCode.PERMIT: ["drawing_review_certificate_number"],
    StageCode.COMPLETION: ["filing_number"],
}


@rule("LEGAL-5", category=Category.LEGALITY, title="文件编号格式（不超过50个字符，无首尾空格）", kinds=BOTH)
def document_number_format(ctx):
    for code, stage, name, value in filled_fields(ctx, DOCUMENT_NUMBER_FIELDS):
        label = stage._meta.get_field(name).verbose_name
        problem = identifiers.document_number_problem(value, label)
        if problem:
            yield Problem(problem, stage=code, field=name, involves=(code,))


# ---------------------------------------------------------------- logic (逻辑性)


def stage_date(ctx, code):
    stage = ctx.stage(code)
    if stage is None:
        return None, None
    return stage, getattr(stage, stage.date_field)


@rule("LOGIC-1", category=Category.LOGIC, title="各环节日期先后有序", involves=tuple(STAGE_ORDER), kinds=BOTH)
def dates_in_order(ctx):
    """registration ≤ tendering ≤ contract ≤ drawing review ≤ permit ≤ completion filing; each stage is compared
    with the nearest earlier stage that has a date."""
    previous = None  # (stage, date)
    for code in STAGE_ORDER:
        stage, day = stage_date(ctx, code)
        if day is None:
            continue
        if previous is not None and day < previous[1]:
            earlier_stage, earlier_day = previous
            yield Problem(
                f"“{stage._meta.get_field(stage.date_field).verbose_name}”（{day:%Y-%m-%d}）早于"
                f"“{earlier_stage.get_code_display()}”环节的"
                f"“{earlier_stage._meta.get_field(earlier_stage.date_field).verbose_name}”"
                f"（{earlier_day:%Y-%m-%d}），各环节日期应依次为：报建≤招投标≤合同≤施工图审查≤施工许可≤竣工验收备案。",
                stage=code,
                field=stage.date_field,
                involves=(earlier_stage.code, code),
            )
        previous = (stage, day)


@rule(
    "LOGIC-2",
    category=Category.LOGIC,
    stage=StageCode.COMPLETION,
    title="开工、竣工、备案日期有序",
    involves=(StageCode.PERMIT, StageCode.COMPLETION),
)
def completion_dates_in_order(ctx):
    completion = ctx.stage(StageCode.COMPLETION)
    if completion is None:
        return
    _permit, issued_on = stage_date(ctx, StageCode.PERMIT)
    chain = [
        ("施工许可发证日期", issued_on, None),
        ("实际开工日期", completion.actual_start_on, "actual_start_on"),
        ("实际竣工验收日期", completion.actual_completion_on, "actual_completion_on"),
        ("竣工验收备案日期", completion.filed_on, "filed_on"),
    ]
    known = [(label, day, name) for label, day, name in chain if day]
    for (earlier_label, earlier, _), (label, day, name) in zip(known, known[1:], strict=False):
        if day < earlier:
            yield Problem(
                f"“{label}”（{day:%Y-%m-%d}）早于“{earlier_label}”（{earlier:%Y-%m-%d}）。", field=name
            )


def relative_gap(a: Decimal, b: Decimal) -> float:
    return float(abs(a - b) / b) if b else 0.0


@rule(
    "LOGIC-3",
    category=Category.LOGIC,
    stage=StageCode.CONTRACT,
    field="amount",
    severity=Severity.WARNING,
    title="合同金额与中标金额相近",
    involves=(StageCode.TENDERING, StageCode.CONTRACT),
    kinds=BOTH,
)
def contract_amount_near_award(ctx):
    tendering, contract = ctx.stage(StageCode.TENDERING), ctx.stage(StageCode.CONTRACT)
    if not (tendering and contract and tendering.award_amount and contract.amount is not None):
        return
    tolerance = settings.RULE_CONTRACT_AMOUNT_TOLERANCE
    gap = relative_gap(contract.amount, tendering.award_amount)
    if gap > tolerance:
        yield (
            f"合同金额（{contract.amount}元）与中标金额（{tendering.award_amount}元）相差{gap:.0%}，"
            f"超过{tolerance:.0%}，请核实。"
        )


@rule(
    "LOGIC-4",
    category=Category.LOGIC,
    stage=StageCode.COMPLETION,
    field="actual_area",
    severity=Severity.WARNING,
    title="实际面积与报建面积相近",
)
def actual_area_near_registered(ctx):
    completion = ctx.stage(StageCode.COMPLETION)
    registered = ctx.project.total_area
    if not (completion and completion.actual_area is not None and registered):
        return
    tolerance = settings.RULE_AREA_TOLERANCE
    gap = relative_gap(completion.actual_area, registered)
    if gap > tolerance:
        yield (
            f"实际面积（{completion.actual_area}平方米）与项目总面积（{registered}平方米）相差{gap:.0%}，"
            f"超过{tolerance:.0%}，请核实。"
        )


# ---------------------------------------------------------------- linkage (关联性)


CONTRACTOR_FIELDS = [
    (StageCode.TENDERING, "winner_credit_code", "中标单位"),
    (StageCode.CONTRACT, "contractor_credit_code", "合同承包单位"),
    (StageCode.PERMIT, "construction_enterprise_credit_code", "施工许可的施工单位"),
    (StageCode.COMPLETION, "construction_enterprise_credit_code", "竣工验收备案的施工单位"),
]


@rule(
    "LINK-1",
    category=Category.LINKAGE,
    title="中标单位、承包单位、施工单位一致",
    involves=tuple(code for code, _, _ in CONTRACTOR_FIELDS),
)
def same_contractor(ctx):
    first = None  # (code, label, value)
    for code, name, label in CONTRACTOR_FIELDS:
        stage = ctx.stage(code)
        value = getattr(stage, name) if stage else ""
        if not value:
            continue
        if first is None:
            first = (code, label, value)
        elif value != first[2]:
            yield Problem(
                f"{label}（{value}）与{first[1]}（{first[2]}）不一致：中标单位、合同承包单位、"
                f"施工许可和竣工验收备案的施工单位应为同一企业。",
                stage=code,
                field=name,
                involves=(code,),  # refuses the later stage only: the first named stays editable
            )


@rule(
    "LINK-2",
    category=Category.LINKAGE,
    stage=StageCode.PERMIT,
    field="drawing_review_certificate_number",
    title="施工许可所列审查合格书编号与施工图审查环节一致",
    involves=(StageCode.PERMIT,),  # only the citing stage: the cited one may be renumbered at its source
)
def permit_cites_drawing_review(ctx):
    review, permit = ctx.stage(StageCode.DRAWING_REVIEW), ctx.stage(StageCode.PERMIT)
    if review and permit and review.certificate_number and permit.drawing_review_certificate_number:
        if review.certificate_number != permit.drawing_review_certificate_number:
            yield (
                f"施工许可所列施工图审查合格书编号“{permit.drawing_review_certificate_number}”"
                f"与施工图审查环节的编号“{review.certificate_number}”不一致。"
            )


@rule(
    "LINK-3",
    category=Category.LINKAGE,
    stage=StageCode.COMPLETION,
    field="permit_number",
    title="竣工验收备案所列施工许可证编号与施工许可环节一致",
    involves=(StageCode.COMPLETION,),  # only the citing stage (see LINK-2)
)
def completion_cites_permit(ctx):
    permit, completion = ctx.stage(StageCode.PERMIT), ctx.stage(StageCode.COMPLETION)
    if permit and completion and permit.permit_number and completion.permit_number:
        if permit.permit_number != completion.permit_number:
            yield (
                f"竣工验收备案所列施工许可证编号“{completion.permit_number}”"
                f"与施工许可环节的编号“{permit.permit_number}”不一致。"
            )


@rule(
    "LINK-4",
    category=Category.LINKAGE,
    stage=StageCode.PERMIT,
    title="报建与施工许可的规划许可证编号一致",
    involves=(StageCode.PERMIT,),  # only the citing stage (see LINK-2)
)
def planning_permits_agree(ctx):
    registration, permit = ctx.stage(StageCode.REGISTRATION), ctx.stage(StageCode.PERMIT)
    if not (registration and permit):
        return
    for name in ("land_use_permit_number", "works_planning_permit_number"):
        ours, theirs = getattr(permit, name), getattr(registration, name)
        if ours and theirs and ours != theirs:
            label = permit._meta.get_field(name).verbose_name
            yield Problem(f"施工许可的{label}“{ours}”与项目报建的“{theirs}”不一致。", field=name)


@rule(
    "LINK-5",
    category=Category.LINKAGE,
    stage=StageCode.TENDERING,
    field="winner_credit_code",
    severity=Severity.WARNING,
    title="补录企业为项目的施工单位",
)
def enterprise_is_contractor(ctx):
    tendering = ctx.stage(StageCode.TENDERING)
    own = ctx.project.enterprise.credit_code
    if tendering and tendering.winner_credit_code and tendering.winner_credit_code != own:
        yield (
            f"中标单位（{tendering.winner_credit_code}）不是本企业（{own}）：补录应由项目的施工企业牵头，"
            f"请确认本企业在该项目中的角色。"
        )


# ---------------------------------------------------------------- the national platform's own checks
# What a receiving platform refuses (docs/national-standard.md, "What the receivers check"), said in the portal's
# fields, so that a record the rules pass is never refused there. The simulator makes the same checks on the
# national tables (simulator/standard.py); tests/test_national_standard.py holds the two together.

NATIONAL_REQUIRED_FIELDS = {
    StageCode.REGISTRATION: ["works_category", "function_code"],
    StageCode.TENDERING: ["tender_class", "area"],
    StageCode.CONTRACT: ["contract_number", "employer_credit_code"],
    StageCode.DRAWING_REVIEW: ["review_agency_credit_code"],
    StageCode.PERMIT: [
        "area",
        "survey_enterprise_name",
        "survey_enterprise_credit_code",
        "design_enterprise_name",
        "design_enterprise_credit_code",
        "supervision_enterprise_name",
        "supervision_enterprise_credit_code",
        "chief_supervisor_name",
        "chief_supervisor_id_number",
    ],
    StageCode.COMPLETION: ["actual_cost", "actual_area"],
}


# What the receiving systems count as empty in a required field (docs/national-standard.md, Wuxi's checks).
PLACEHOLDERS = ("无", "/")


@rule("NAT-1", category=Category.TRUTHFULNESS, title="全国平台要求的字段已填写", on_save=False)
def national_required_fields(ctx):
    yield from _national_fields_missing(ctx)
    yield from _placeholders(ctx)
    yield from _tender_agency_missing(ctx)
    yield from _id_types_missing(ctx)


def _national_fields_missing(ctx):
    for code, names in NATIONAL_REQUIRED_FIELDS.items():
        stage = ctx.stage(code)
        if stage is None:
            continue
        for name in names:
            if getattr(stage, name) in (None, ""):
                label = stage._meta.get_field(name).verbose_name
                yield Problem(f"请填写{label}（全国平台必填）。", stage=code, field=name, involves=(code,))


def _placeholders(ctx):
    for code in STAGE_ORDER:
        stage = ctx.stage(code)
        names = REQUIRED_FIELDS.get(code, []) + NATIONAL_REQUIRED_FIELDS.get(code, [])
        if code == StageCode.TENDERING:
            names = [*names, "tender_agency_name", "tender_agency_credit_code"]
        for name in names if stage is not None else ():
            value = getattr(stage, name)
            if isinstance(value, str) and value.strip() in PLACEHOLDERS:
                label = stage._meta.get_field(name).verbose_name
                yield Problem(
                    f"{label}不能填写“{value.strip()}”：全国平台视为未填写，请填写实际内容。",
                    stage=code,
                    field=name,
                    involves=(code,),
                )
    if ctx.project.name.strip() in PLACEHOLDERS:
        yield Problem("项目名称不能填写“无”或“/”。", stage=PROJECT, field="name")


def _tender_agency_missing(ctx):
    tendering = ctx.stage(StageCode.TENDERING)
    if tendering and tendering.tender_method != TenderMethod.DIRECT:
        for name in ("tender_agency_name", "tender_agency_credit_code"):
            if not getattr(tendering, name):
                label = tendering._meta.get_field(name).verbose_name
                yield Problem(
                    f"请填写{label}（直接发包以外的招标，全国平台要求填写招标代理机构）。",
                    stage=StageCode.TENDERING,
                    field=name,
                    involves=(StageCode.TENDERING,),
                )


def _id_types_missing(ctx):
    for code, stage, name, _value in filled_fields(ctx, ID_NUMBER_FIELDS):
        type_name = id_type_field(name)
        if not getattr(stage, type_name):
            label = stage._meta.get_field(type_name).verbose_name
            yield Problem(f"请选择{label}。", stage=code, field=type_name, involves=(code,))


@rule("NAT-2", category=Category.LEGALITY, title="选项值在全国平台代码表内", kinds=BOTH)
def national_codes(ctx):
    """A form offers only the code lists' values; this guards data that came another way (imports, the shell)."""
    for code, stage in ctx.stages.items():
        if stage is None:
            continue
        for f, allowed in choice_fields(type(stage)):
            value = getattr(stage, f.attname)
            if value not in ("", None) and value not in allowed:
                yield Problem(
                    f"{f.verbose_name}“{value}”不在全国平台代码表内，请重新选择。",
                    stage=code,
                    field=f.name,
                    involves=(code,),
                )


@rule("NAT-3", category=Category.LEGALITY, title="其他证件号码格式")
def other_documents_valid(ctx):
    for code, stage, name, value in filled_fields(ctx, ID_NUMBER_FIELDS):
        if getattr(stage, id_type_field(name)) in ("", IdDocumentType.RESIDENT_ID):
            continue  # a resident ID: LEGAL-3
        if not identifiers.OTHER_DOCUMENT_NUMBER.fullmatch(value):
            label = stage._meta.get_field(name).verbose_name
            yield Problem(
                f"{label}：证件号码应为4至30位字母、数字或“-”“(”“)”。",
                stage=code,
                field=name,
                involves=(code,),
            )


WORKS_CATEGORY_OF_TYPE = {
    "building_general": WorksCategory.BUILDING,
    "municipal_general": WorksCategory.MUNICIPAL,
}


@rule(
    "NAT-5",
    category=Category.LOGIC,
    stage=StageCode.REGISTRATION,
    field="works_category",
    title="项目分类与项目类型一致",
)
def works_category_matches_type(ctx):
    registration = ctx.stage(StageCode.REGISTRATION)
    expected = WORKS_CATEGORY_OF_TYPE.get(ctx.project.project_type)
    if registration and registration.works_category and expected and registration.works_category != expected:
        yield (
            f"项目类型为“{ctx.project.get_project_type_display()}”，项目分类应为“{expected.label}”，"
            f"而不是“{registration.get_works_category_display()}”。"
        )


# ---------------------------------------------------------------- design records (渝建〔2018〕103号)
# A survey/design enterprise's record: the basic information, an optional survey/design tender, the survey/design
# contract and the drawing review with its designers (docs/design-projects.md). The rules above marked kinds=BOTH
# check it too (in Chongqing, not in the library, non-classified, the window, dates, numbers, codes).

DESIGN_REQUIRED_STAGES = [StageCode.CONTRACT, StageCode.DRAWING_REVIEW]  # the tender is optional

DESIGN_REQUIRED_FIELDS = {
    StageCode.TENDERING: [
        "award_notice_number",
        "tender_class",
        "tender_method",
        "awarded_on",
        "award_amount",
        "winner_name",
        "winner_credit_code",
    ],
    StageCode.CONTRACT: [
        "filing_number",
        "contract_number",
        "contract_type",
        "amount",
        "signed_on",
        "employer_name",
        "employer_credit_code",
        "contractor_name",
        "contractor_credit_code",
    ],
    StageCode.DRAWING_REVIEW: [
        "certificate_number",
        "review_agency_name",
        "review_agency_credit_code",
        "completed_on",
        "passed_first_review",
        "first_review_violation_count",
        "design_enterprise_name",
        "design_enterprise_credit_code",
        "designers",
    ],
}

# The documents each part of a design record is evidenced by: (stage, part) -> what to upload.
DESIGN_EVIDENCE = {
    (StageCode.TENDERING, ""): "中标通知书",
    (StageCode.CONTRACT, ""): "勘察或设计合同",
    (StageCode.DRAWING_REVIEW, EvidencePart.CERTIFICATE): "施工图审查合格书",
    (StageCode.DRAWING_REVIEW, EvidencePart.COVER_SHEET): "施工图图签页（盖章）",
}


def evidence_parts(project, stage_code) -> list[str]:
    """The parts a stage's evidence is uploaded as ([] where one kind of file does)."""
    if project.kind != ProjectKind.DESIGN:
        return []
    return [part for (code, part) in DESIGN_EVIDENCE if code == stage_code and part]


@rule(
    "DTRUTH-1",
    category=Category.TRUTHFULNESS,
    title="设计项目的合同和施工图审查已填写",
    on_save=False,
    kinds=DESIGN,
)
def design_stages_present(ctx):
    for code in DESIGN_REQUIRED_STAGES:
        if ctx.stage(code) is None:
            yield Problem(f"尚未填写“{StageCode(code).label}”环节信息。", stage=code)


@rule("DTRUTH-2", category=Category.TRUTHFULNESS, title="设计项目必填字段已填写", on_save=False, kinds=DESIGN)
def design_required_fields(ctx):
    for code, names in DESIGN_REQUIRED_FIELDS.items():
        stage = ctx.stage(code)
        for name in names if stage is not None else ():
            value = getattr(stage, name)
            if value in (None, "", []) or (isinstance(value, str) and value.strip() in PLACEHOLDERS):
                label = stage._meta.get_field(name).verbose_name
                yield Problem(f"请填写“{label}”。", stage=code, field=name)


@rule(
    "DTRUTH-3",
    category=Category.TRUTHFULNESS,
    title="设计项目各部分已上传证明材料",
    on_save=False,
    kinds=DESIGN,
)
def design_evidence_present(ctx):
    for (code, part), document in DESIGN_EVIDENCE.items():
        if code == StageCode.TENDERING and ctx.stage(code) is None:
            continue  # no tender, nothing to evidence
        count = ctx.evidence_parts.get((code, part), 0) if part else ctx.evidence_counts.get(code, 0)
        if count == 0:
            yield Problem(
                f"“{StageCode(code).label}”尚未上传证明材料（{document}）。", stage=code, field="evidence"
            )


@rule(
    "DSCOPE-1",
    category=Category.SCOPE,
    field="project_type",
    title="房屋建筑工程或市政工程的设计",
    on_save=False,
    kinds=DESIGN,
)
def design_type_in_scope(ctx):
    if ctx.project.project_type not in DESIGN_PROJECT_TYPES:
        yield "设计项目只补录重庆市行政区域内的房屋建筑工程和市政工程设计项目，请选择“房屋建筑工程”或“市政工程”。"


@rule(
    "DSCOPE-2",
    category=Category.SCOPE,
    stage=StageCode.DRAWING_REVIEW,
    field="completed_on",
    title="施工图在截止日期前通过审查",
    kinds=DESIGN,
)
def drawings_reviewed_before_cutoff(ctx):
    """The cut-off is data (BackfillWindow.drawings_reviewed_by), set and moved by the city like the window."""
    review = ctx.stage(StageCode.DRAWING_REVIEW)
    if review is None or review.completed_on is None:
        return
    cutoff = ctx.window.drawings_reviewed_by if ctx.window else None
    if cutoff is None:
        yield "尚未设置设计项目的施工图审查完成日期截止，暂不能补录，请联系市城乡建委。"
    elif review.completed_on > cutoff:
        yield (
            f"施工图审查完成日期（{review.completed_on:%Y-%m-%d}）晚于{cutoff:%Y年%m月%d日}："
            f"本次只补录此前已通过施工图审查的设计项目。"
        )


@rule(
    "DSCOPE-3",
    category=Category.SCOPE,
    stage=StageCode.CONTRACT,
    field="contract_type",
    title="勘察或设计合同、勘察或设计招标",
    involves=(StageCode.CONTRACT, StageCode.TENDERING),
    kinds=DESIGN,
)
def design_contract_and_tender(ctx):
    contract, tendering = ctx.stage(StageCode.CONTRACT), ctx.stage(StageCode.TENDERING)
    if (
        contract
        and contract.contract_type
        and contract.contract_type not in (ContractType.SURVEY, ContractType.DESIGN)
    ):
        yield Problem(
            f"设计项目的合同类别应为“勘察”或“设计”，而不是“{contract.get_contract_type_display()}”。",
            involves=(StageCode.CONTRACT,),
        )
    if (
        tendering
        and tendering.tender_class
        and tendering.tender_class not in (TenderClass.SURVEY, TenderClass.DESIGN)
    ):
        yield Problem(
            f"设计项目的招标类型应为“勘察”或“设计”，而不是“{tendering.get_tender_class_display()}”。",
            stage=StageCode.TENDERING,
            field="tender_class",
            involves=(StageCode.TENDERING,),
        )


@rule(
    "DLINK-1",
    category=Category.LINKAGE,
    stage=StageCode.CONTRACT,
    field="contractor_credit_code",
    title="补录企业为合同承包方或审查合格书所列勘察、设计单位",
    on_save=False,
    kinds=DESIGN,
)
def enterprise_is_a_party(ctx):
    contract, review = ctx.stage(StageCode.CONTRACT), ctx.stage(StageCode.DRAWING_REVIEW)
    own = ctx.project.enterprise.credit_code
    named = [contract.contractor_credit_code] if contract else []
    if review:
        named += [review.survey_enterprise_credit_code, review.design_enterprise_credit_code]
    named = [code for code in named if code]
    if named and own not in named:
        yield (
            f"本企业（{own}）既不是合同的承包单位，也不是施工图审查合格书所列的勘察或设计单位："
            f"只能补录本企业承担勘察或设计的项目。"
        )


@rule(
    "DLOGIC-1",
    category=Category.LOGIC,
    stage=StageCode.DRAWING_REVIEW,
    field="first_review_violations",
    title="一次审查违反强条数与所列条文一致",
    kinds=DESIGN,
)
def violations_agree(ctx):
    review = ctx.stage(StageCode.DRAWING_REVIEW)
    if review is None or review.first_review_violation_count is None:
        return
    listed = (review.first_review_violations or "").strip()
    if review.first_review_violation_count > 0 and not listed:
        yield f"一次审查违反强制性条文{review.first_review_violation_count}条，请列出违反的强制性条文。"
    elif review.first_review_violation_count == 0 and listed:
        yield "一次审查违反强制性条文数为0，但列出了违反的条文：请核对条文数。"
    if review.passed_first_review and review.first_review_violation_count > 0:
        yield Problem(
            "一次审查通过的施工图不应违反强制性条文：请核对“是否一次审查通过”和违反条文数。",
            field="passed_first_review",
        )


@rule(
    "DLEGAL-1",
    category=Category.LEGALITY,
    stage=StageCode.DRAWING_REVIEW,
    field="review_agency_credit_code",
    title="审查机构统一社会信用代码校验（GB 32100-2015）",
    kinds=DESIGN,
)
def agency_credit_code_valid(ctx):
    review = ctx.stage(StageCode.DRAWING_REVIEW)
    if review and review.review_agency_credit_code:
        problem = identifiers.credit_code_problem(review.review_agency_credit_code)
        if problem:
            yield f"审查机构统一社会信用代码：{problem}"


@rule(
    "DLEGAL-2",
    category=Category.LEGALITY,
    stage=StageCode.DRAWING_REVIEW,
    field="designers",
    title="勘察设计人员的证件号码（GB 11643）、注册类型和角色",
    kinds=DESIGN,
)
def designers_valid(ctx):
    review = ctx.stage(StageCode.DRAWING_REVIEW)
    if review is not None:
        yield from identifiers.designer_problems(review.designers)


def rules_by_code() -> dict[str, Rule]:
    return {r.code: r for r in RULES}


def summarise(findings: list[Finding]) -> dict:
    errors = sum(1 for f in findings if f.is_error)
    return {"errors": errors, "warnings": len(findings) - errors, "can_submit": errors == 0}

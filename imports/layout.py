"""The import template's layout, built from the models: one wide sheet, one row per project (docs/import.md).

Every column is derived from a model field (the Project's editable fields, then each stage model's fields in
stage order), so a field added to a stage model appears in the template, the import and the export without a
change here. What is required comes from the rule engine (projects.rules.REQUIRED_FIELDS) and the models.

Each project kind has its own layout (`kind`: a construction record's six stages, or a design record's basic
information, tender, contract and drawing review with its designers): the fields its forms show
(projects.forms), in a sheet of its own name, so a workbook of the other kind is recognised and refused.
"""

from dataclasses import dataclass

from django.db import models

from projects import forms, identifiers, rules
from projects.models import (
    CONSTRUCTION_PROJECT_TYPES,
    DESIGN_PROJECT_TYPES,
    STAGE_MODELS,
    STAGES_OF_KIND,
    Authority,
    Project,
    ProjectKind,
    ProjectType,
)
from projects.services import PROJECT_EDITABLE_FIELDS
from projects.validators import validate_optional_credit_code, validate_optional_id_number

CONSTRUCTION = ProjectKind.CONSTRUCTION
DESIGN = ProjectKind.DESIGN
SHEET = "补录项目"  # a construction record's sheet
SHEETS = {CONSTRUCTION: SHEET, DESIGN: "设计项目"}
HELP_SHEET = "说明"
CHOICES_SHEET = "选项"
KEY_HEADER = "序号"
NOTES_MARK = "格式说明"
EXAMPLE_MARK = "示例"
REQUIRED_MARK = "（必填）"
KEY_NOTE = "每行一个项目；第1列“序号”由您编写，用于定位和证明材料压缩包的目录名"
TITLES = {
    CONSTRUCTION: f"建设工程项目信息补录 · 批量导入（{KEY_NOTE}）",
    DESIGN: f"勘察设计项目信息补录 · 批量导入（{KEY_NOTE}）",
}
TITLE = TITLES[CONSTRUCTION]
# Rows of the template above the first data row: title, section, header, format notes, example.
TITLE_ROW, SECTION_ROW, HEADER_ROW, NOTES_ROW, EXAMPLE_ROW = 1, 2, 3, 4, 5
FIRST_DATA_ROW = 6

TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "有"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "无"}
EXCLUDED_STAGE_FIELDS = {"id", "project", "updated_at", "updated_by"}


@dataclass(frozen=True)
class Column:
    stage: str  # rules.PROJECT or a stage code
    field: str
    header: str  # without the required mark
    kind: str  # text, code, date, decimal, integer, bool, choice, authority
    required: bool
    note: str
    choices: tuple[tuple[str, str], ...] = ()  # (stored value, label)
    nullable: bool = True
    max_length: int | None = None
    upper: bool = False  # credit codes and ID numbers: a lower-case x is the X check character

    @property
    def labels(self) -> list[str]:
        return [label for _value, label in self.choices]


def kind_of(field) -> str:
    if field.name == "authority":
        return "authority"
    if field.name == "joint_venture_members":
        return "members"
    if field.name == "designers":
        return "designers"
    if field.choices:
        return "choice"
    internal = field.get_internal_type()
    if internal == "DateField":
        return "date"
    if internal == "DecimalField":
        return "decimal"
    if internal in ("PositiveIntegerField", "IntegerField", "PositiveSmallIntegerField", "SmallIntegerField"):
        return "integer"
    if internal == "BooleanField":
        return "bool"
    if field.name.endswith(("_number", "_code")):
        return "code"  # identifiers: full-width digits and letters are read as half-width
    return "text"


def note_of(field, kind) -> str:
    if kind == "date":
        return "日期，如2018-03-05（也可2018/3/5、2018年3月5日或Excel日期）"
    if kind == "decimal":
        return "数字，可带千分位逗号，如1,234,567.89"
    if kind == "integer":
        return "整数"
    if kind == "bool":
        return "下拉选择：是／否"
    if kind == "members":
        return "每行一个（单元格内换行）：单位名称 统一社会信用代码"
    if kind == "designers":
        return f"每行一人（单元格内换行）：{identifiers.DESIGNER_FORMAT}"
    if kind in ("choice", "authority"):
        return "下拉选择"
    # By name as well: the national standard's fields check codes in the rule engine, not with a validator.
    if validate_optional_credit_code in field.validators or field.name.endswith("credit_code"):
        return "18位统一社会信用代码，如91500103MA5U000000"
    if validate_optional_id_number in field.validators or field.name.endswith("id_number"):
        return "18位身份证号码，末位可为X（证件类型为身份证时）"
    if field.name == "permit_number":
        return "18位施工许可证编号（区县代码+日期+流水号+类别）"
    if field.name == "project_number":
        return "16位项目编号；留空由系统生成"
    if getattr(field, "max_length", None):
        return f"文本，不超过{field.max_length}字"
    return "文本"


def column_of(stage, field, *, required, header_prefix="", allowed=None) -> Column:
    """`allowed`: the stored values a choice column offers, where a kind of record offers only some."""
    kind = kind_of(field)
    if kind == "authority":
        choices = tuple((a.code, a.name) for a in Authority.objects.order_by("code"))
    elif kind == "bool":
        choices = (("1", "是"), ("0", "否"))
    else:
        choices = tuple(
            (str(value), str(label))
            for value, label in field.choices or ()
            if allowed is None or value in allowed
        )
    nullable = field.null or (kind not in ("bool", "date", "decimal", "integer") and field.blank)
    return Column(
        stage=stage,
        field=field.name,
        header=f"{header_prefix}{field.verbose_name}",
        kind=kind,
        required=required,
        note=note_of(field, kind),
        choices=choices,
        nullable=nullable,
        max_length=getattr(field, "max_length", None),
        upper=any(
            v in field.validators for v in (validate_optional_credit_code, validate_optional_id_number)
        ),
    )


def project_fields(kind=CONSTRUCTION) -> list[str]:
    """The Project's fields the kind's basic-information form asks (projects.forms.ProjectForm)."""
    skipped = forms.CONSTRUCTION_ONLY_PROJECT_FIELDS if kind == DESIGN else ()
    return [name for name in PROJECT_EDITABLE_FIELDS if name not in skipped]


def project_columns(kind=CONSTRUCTION) -> list[Column]:
    columns = [
        column_of(rules.PROJECT, Project._meta.get_field("project_number"), required=False),
    ]
    types = DESIGN_PROJECT_TYPES if kind == DESIGN else CONSTRUCTION_PROJECT_TYPES
    for name in project_fields(kind):
        field = Project._meta.get_field(name)
        # The county is filled from the authority when blank (projects.services); a yes/no is a required choice.
        required = name != "county_code" and (not field.blank or field.get_internal_type() == "BooleanField")
        if field.null and field.blank:
            required = False
        allowed = {ProjectType(t).value for t in types} if name == "project_type" else None
        columns.append(column_of(rules.PROJECT, field, required=required, allowed=allowed))
    return columns


def stage_codes(kind=CONSTRUCTION) -> list[str]:
    return list(STAGES_OF_KIND[kind])


def stage_fields(code, kind=CONSTRUCTION):
    """The stage's fields the kind's form shows (projects.forms: a construction record's drawing review leaves out
    the design record's units and designers; a design record's tender the project manager and the area)."""
    model = STAGE_MODELS[code]
    excluded_by_kind = forms.DESIGN_EXCLUDED_FIELDS if kind == DESIGN else forms.CONSTRUCTION_EXCLUDED_FIELDS
    excluded = EXCLUDED_STAGE_FIELDS | set(excluded_by_kind.get(code, ()))
    return [f for f in model._meta.concrete_fields if f.name not in excluded and f.editable]


def stage_columns(code, kind=CONSTRUCTION) -> list[Column]:
    label = rules.STAGE_LABELS[code]
    required_by_kind = rules.DESIGN_REQUIRED_FIELDS if kind == DESIGN else rules.REQUIRED_FIELDS
    required = set(required_by_kind.get(code, ()))
    return [
        column_of(code, field, required=field.name in required, header_prefix=f"{label}·")
        for field in stage_fields(code, kind)
    ]


def columns(kind=CONSTRUCTION) -> list[Column]:
    """Every column after the key column, in the kind's template's order."""
    result = project_columns(kind)
    for code in stage_codes(kind):
        result.extend(stage_columns(code, kind))
    return result


def other_kind(kind) -> str:
    return CONSTRUCTION if kind == DESIGN else DESIGN


def kind_label(kind) -> str:
    return ProjectKind(kind).label


def header_text(column: Column) -> str:
    return column.header + (REQUIRED_MARK if column.required else "")


def plain_header(text) -> str:
    """A header cell as written by anyone: the required mark, asterisks and spaces do not matter."""
    text = str(text or "").replace(REQUIRED_MARK, "").replace("(必填)", "").replace("*", "")
    return "".join(text.split()).replace("\u3000", "")


def is_stage_column(column: Column) -> bool:
    return column.stage != rules.PROJECT


def display_value(column: Column, value) -> object:
    """A stored value as the template writes it (the export): labels for choices, 是/否, dates as dates."""
    if value is None or value == "":
        return None
    if column.kind == "bool":
        return "是" if value else "否"
    if column.kind == "authority":
        return value.name if isinstance(value, models.Model) else value
    if column.kind == "choice":
        return dict(column.choices).get(str(value), value)
    if column.kind == "members":
        return identifiers.format_joint_venture_members(value)
    if column.kind == "designers":
        return identifiers.format_designers(value)
    return value

"""What may be corrected and how a typed value is read: the fields of a record a correction may change, and
their values parsed as the stage form parses them (docs/corrections.md)."""

import copy
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

from projects import identifiers, rules
from projects.forms import ProjectForm, stage_form_class
from projects.models import STAGE_MODELS, STAGE_ORDER, Project, ProjectKind
from publicity import snapshots
from review.selectors import display_value

# ---------------------------------------------------------------- what may be corrected (the one place)

PROJECT_SECTION = ""  # CorrectionItem.stage of the project's own fields ("项目基本信息")

# Fields of the published snapshot's "project" part that a correction never changes, and why.
NOT_CORRECTABLE_PROJECT_FIELDS = {
    "project_number": "项目编号是全国平台记录的标识（PrjNum），不能更正",
    "county_code": "项目所在区县决定项目编号和审核部门，不能通过更正改变",
    "is_classified": "涉密项目不属于补录范围，不是更正事项",
    "is_completed": "未竣工项目不属于补录范围，不是更正事项",
}


# section ("" = the project's own fields, else a stage code) → the correctable fields, in the snapshot's order.
# The enterprise and the authority of a record (who filed it, who reviewed it) are not in any section.
CORRECTABLE_FIELDS: dict[str, tuple[str, ...]] = {
    PROJECT_SECTION: tuple(n for n in snapshots.PROJECT_FIELDS if n not in NOT_CORRECTABLE_PROJECT_FIELDS),
    **{
        code: tuple(f.name for f in snapshots.stage_content_fields(STAGE_MODELS[code]))
        for code in STAGE_ORDER
    },
}

MAX_ITEMS = 30
MAX_EVIDENCE_FILES = 10  # settings.DATA_UPLOAD_MAX_NUMBER_FILES caps one upload at 10 files too
DEFAULT_ORDER_DAYS = 30  # the answer period an order's form proposes


def section_model(stage: str) -> type[models.Model]:
    return Project if stage == PROJECT_SECTION else STAGE_MODELS[stage]


def section_label(stage: str) -> str:
    return rules.STAGE_LABELS[stage or rules.PROJECT]


def field_label(stage: str, name: str) -> str:
    try:
        verbose = section_model(stage)._meta.get_field(name).verbose_name
    except Exception:  # an unknown section or field: named as given
        verbose = name
    return f"{section_label(stage) if stage in CORRECTABLE_FIELDS else stage}·{verbose}"


def target_key(stage: str, name: str) -> str:
    """How a form names a field: "permit.permit_number", "project.name"."""
    return f"{stage or rules.PROJECT}.{name}"


def split_target(key: str) -> tuple[str, str]:
    stage, _, name = (key or "").partition(".")
    return ("" if stage == rules.PROJECT else stage), name


def section_of(content: dict, stage: str):
    return content["project"] if stage == PROJECT_SECTION else content["stages"].get(stage)


def correctable_targets(content: dict) -> list[dict]:
    """Every field a correction of this snapshot may name, with its current value as shown: the fields of the
    sections the snapshot holds (a stage never filled, e.g. the permit of a project started on another
    approval, has nothing to correct)."""
    targets = []
    for stage, names in CORRECTABLE_FIELDS.items():
        section = section_of(content, stage)
        if section is None:
            continue
        model = section_model(stage)
        for name in names:
            targets.append(
                {
                    "key": target_key(stage, name),
                    "stage": stage,
                    "field": name,
                    "section_label": section_label(stage),
                    "label": str(model._meta.get_field(name).verbose_name),
                    "current": display_value(model._meta.get_field(name), section.get(name)),
                }
            )
    return targets


# ---------------------------------------------------------------- values: parsed as the stage form parses them

TRUE_WORDS = {"是", "true", "1", "yes"}
FALSE_WORDS = {"否", "false", "0", "no"}


def _normalise(model_field, value):
    """A field's value as the snapshot stores it (publicity.snapshots.plain): Decimals to their places."""
    if value is not None and isinstance(model_field, models.DecimalField):
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return snapshots.plain(value)


def form_field(model_field):
    """The field the record's own form uses for `model_field` (the stage form's, or the project form's): its date
    bounds, its joint-venture members as name + credit-code pairs, its designers as typed lines, its choices. A
    field only a design record's form has (the drawing review's survey and design units and designers) is that
    form's (docs/design-projects.md)."""
    if model_field.model is Project:
        form_classes = [ProjectForm]
    else:
        code = model_field.model.code
        form_classes = [stage_form_class(code), stage_form_class(code, ProjectKind.DESIGN)]
    for form_class in form_classes:
        if model_field.name in form_class.base_fields:
            return form_class.base_fields[model_field.name]
    return model_field.formfield()


def parse_value(model_field, text: str):
    """The proposed text as the field's stored value, checked as the stage form checks it (the form's own field:
    format of dates, amounts and whole numbers, the date bounds, choices by code or label, length, joint-venture
    members as "单位名称 统一社会信用代码" lines) and by the model field's validators (credit codes, ID numbers, no
    markup). Returns the snapshot's plain value; raises ValidationError."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("请填写更正后的内容。")
    if isinstance(model_field, models.BooleanField):
        word = text.lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise ValidationError("请填写“是”或“否”。")
        value = word in TRUE_WORDS
    else:
        if model_field.choices:
            by_label = {str(label): code for code, label in model_field.flatchoices}
            text = by_label.get(text, text)
        field = copy.deepcopy(form_field(model_field))
        field.required = False  # an empty value has its own message above; a cleared one below
        value = field.clean(text)
        if value in (None, "", []):
            raise ValidationError("请填写更正后的内容。")
    value = model_field.clean(value, None)
    return _normalise(model_field, value)


def value_text(model_field, plain_value) -> str:
    """A plain value as CorrectionItem keeps it (and parse_value reads it back): 是/否, ISO dates, codes,
    joint-venture members one "单位名称 统一社会信用代码" a line."""
    if plain_value is None:
        return ""
    if isinstance(model_field, models.BooleanField):
        return "是" if plain_value else "否"
    if isinstance(plain_value, list):
        return identifiers.format_records(model_field.name, plain_value)
    return str(plain_value)


def same_value(model_field, a, b) -> bool:
    if a in (None, "") or b in (None, ""):
        return a in (None, "") and b in (None, "")
    if isinstance(model_field, models.DecimalField):
        return Decimal(str(a)) == Decimal(str(b))
    return a == b


def apply_changes(base: dict, changes: list[tuple[str, str, object]]) -> dict:
    """A copy of a snapshot's content with (stage, field, plain value) changes applied."""
    content = copy.deepcopy(base)
    for stage, name, value in changes:
        section_of(content, stage)[name] = value
    return content

"""What is published and delivered: the snapshot's content, and its public (redacted) rendering."""

import functools

from projects import rules
from projects.models import DESIGN_STAGES, STAGE_MODELS, STAGE_ORDER, Project, StageCode

# Personal data: stored, checked, delivered to the national platform (its tables hold them), never shown publicly.
PERSONAL_FIELDS = {"project_manager_id_number", "chief_supervisor_id_number"}
# What a design record's public page leaves out: the construction record's questions it was never asked.
NOT_OF_A_DESIGN_RECORD = {
    "is_completed",
    "start_basis",
    "area",
    "project_manager_name",
    "project_manager_id_type",
    "project_manager_id_number",
}
# Kept as structured data in the content (what the national tables are built from), not as text.
STRUCTURED_FIELDS = {"designers"}
# Not part of a stage's content.
INTERNAL_FIELDS = {"id", "project", "updated_at", "updated_by"}

PROJECT_FIELDS = [
    "project_number",
    "name",
    "address",
    "county_code",
    "project_type",
    "is_classified",
    "is_completed",
    "start_basis",
    "total_investment",
    "total_area",
]

DATA_SOURCE_BACKFILL = 3  # 历史业绩补录
DATA_LEVEL_DISTRICT = "C"  # reviewed by a district/county-level authority


def plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, list):
        # Joint-venture members, [{"name", "credit_code"}]: kept as pairs (national_standard's UnionCorpName and
        # UnionCorpCode read them), never as their Python repr.
        return [{key: plain(item) for key, item in member.items()} for member in value]
    return str(value)  # dates as ISO text, Decimals exactly


def build_content(project: Project) -> dict:
    """The record as it is frozen, linked by project number (PrjNum); publicity/national_standard.py turns it into
    the national standard's tables for delivery."""
    loaded = rules.load_project(project.pk)
    return content_of(loaded, rules.stages_of(loaded))


@functools.cache
def stage_content_fields(model) -> tuple:
    """A stage's fields as the snapshot holds them, in the order content_of() writes them (its model's field order,
    the internal ones left out)."""
    return tuple(f for f in model._meta.concrete_fields if f.name not in INTERNAL_FIELDS)


def content_of(loaded: Project, stages: dict) -> dict:
    """The content of a project (loaded with its enterprise and authority) and its stage rows as given."""
    return {
        "project_number": loaded.project_number,
        "kind": loaded.kind,
        "data_source": DATA_SOURCE_BACKFILL,
        "data_level": DATA_LEVEL_DISTRICT,
        "enterprise": {"name": loaded.enterprise.name, "credit_code": loaded.enterprise.credit_code},
        "authority": {"code": loaded.authority.code, "name": loaded.authority.name},
        "project": {name: plain(getattr(loaded, name)) for name in PROJECT_FIELDS},
        "stages": {
            code: None
            if stage is None
            else {
                f.name: getattr(stage, f.attname)
                if f.name in STRUCTURED_FIELDS
                else plain(getattr(stage, f.attname))
                for f in stage_content_fields(type(stage))
            }
            for code, stage in stages.items()
        },
    }


def document_numbers(content: dict) -> str:
    numbers = []
    for code in STAGE_ORDER:
        stage = content["stages"].get(code)
        if stage:
            numbers.append(stage.get(STAGE_MODELS[code].document_field) or "")
    return " ".join(n for n in numbers if n)[:400]


def mask(value: str) -> str:
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if value and len(value) > 8 else "****"


def _display(model, name, value):
    field = model._meta.get_field(name)
    if name in PERSONAL_FIELDS:
        return mask(value) if value else ""
    if name == "designers":  # names, registrations and roles; never their document numbers
        return "；".join(
            f"{p.get('name', '')}（{p.get('registration_level', '')}{p.get('registration_type', '')}，{p.get('role', '')}）"
            for p in value or []
            if isinstance(p, dict)
        )
    if field.choices and value is not None:
        return dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else value


def model_design_only(model) -> tuple:
    """A stage's fields only a design record fills (a construction record's public page leaves them out)."""
    return getattr(model, "DESIGN_ONLY_FIELDS", ())


def _in_order(values: dict, names: list) -> list[tuple]:
    """`values`' items in the order of `names` (the order the content was built in), then any other key as it
    comes: PostgreSQL's jsonb keeps its keys in its own order (shortest first), not the order they were written in,
    so a snapshot read back from it would list a section's fields in that order."""
    ordered = [(name, values[name]) for name in names if name in values]
    known = set(names)
    return ordered + [(name, value) for name, value in values.items() if name not in known]


def public_sections(content: dict) -> list[dict]:
    """The snapshot as the public reads it: labelled, choices spelled out, ID numbers masked."""
    design = content.get("kind") == "design"
    sections = [
        {
            "label": "项目基本信息",
            "rows": [("补录企业", content["enterprise"]["name"]), ("审核部门", content["authority"]["name"])]
            + [
                (Project._meta.get_field(name).verbose_name, _display(Project, name, value))
                for name, value in _in_order(content["project"], PROJECT_FIELDS)
                if not (design and name in NOT_OF_A_DESIGN_RECORD)
            ],
        }
    ]
    for code in DESIGN_STAGES if design else STAGE_ORDER:
        stage = content["stages"].get(code)
        model = STAGE_MODELS[code]
        rows = (
            [
                (model._meta.get_field(name).verbose_name, _display(model, name, value))
                for name, value in _in_order(stage, [f.name for f in stage_content_fields(model)])
                if not (design and name in NOT_OF_A_DESIGN_RECORD)
                and not (not design and name in model_design_only(model))
            ]
            if stage
            else []
        )
        sections.append({"label": StageCode(code).label, "rows": rows})
    return sections

"""Workbooks for the import tests and the benchmark: the real template, filled in with openpyxl as a clerk would."""

import io

from openpyxl import load_workbook

from imports import layout, services
from projects import identifiers, rules
from projects.models import ProjectKind
from tests.builders import design_stage_data, valid_stage_data


def project_row(enterprise, *, seq=None, authority="渝中区", **project) -> dict:
    """{(stage, field): value} of a clean record of `enterprise`: project fields as a clerk types them."""
    basic = {
        "name": "批量导入测试项目",
        "address": "重庆市渝中区民族路1号",
        "project_type": "建筑工程施工总承包",
        "is_completed": "是",
        "start_basis": "施工许可证",
    }
    return _row(basic | project, valid_stage_data(enterprise, seq=seq), authority)


def design_row(enterprise, *, seq=None, authority="渝中区", **project) -> dict:
    """{(stage, field): value} of a clean design record of `enterprise` (survey/design), its designers typed one
    per line in their cell."""
    basic = {
        "name": "批量导入设计项目",
        "address": "重庆市渝中区民族路2号",
        "project_type": "房屋建筑工程（设计项目）",
    }
    return _row(basic | project, design_stage_data(enterprise, seq=seq), authority)


def _row(project, stage_data, authority) -> dict:
    values = {
        (rules.PROJECT, "authority"): authority,
        (rules.PROJECT, "county_code"): "500103",
        (rules.PROJECT, "is_classified"): "否",
        (rules.PROJECT, "already_in_national_library"): "否",
        (rules.PROJECT, "total_area"): "8,888.00",
    }
    values.update({(rules.PROJECT, name): value for name, value in project.items()})
    for code, fields in stage_data.items():
        for name, value in fields.items():
            values[(code, name)] = identifiers.format_designers(value) if name == "designers" else value
    return values


def fill(rows, *, keys=None, template=None, kind=ProjectKind.CONSTRUCTION) -> bytes:
    """The template with `rows` ({(stage, field): value}) from its first data row; keys are the 序号 (1, 2, …)."""
    workbook = load_workbook(io.BytesIO(template or services.template_bytes(kind)))
    sheet = workbook[layout.SHEETS[kind]]
    columns = {(c.stage, c.field): index for index, c in enumerate(layout.columns(kind), start=2)}
    for offset, values in enumerate(rows):
        row = layout.FIRST_DATA_ROW + offset
        if not values:
            continue  # a blank row
        sheet.cell(row, 1, (keys or {}).get(offset, offset + 1))
        for key, value in values.items():
            sheet.cell(row, columns[key], value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def column_letter(stage, field, kind=ProjectKind.CONSTRUCTION) -> str:
    from openpyxl.utils import get_column_letter

    for index, c in enumerate(layout.columns(kind), start=2):
        if (c.stage, c.field) == (stage, field):
            return get_column_letter(index)
    raise KeyError((stage, field))

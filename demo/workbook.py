"""The example import workbook: static/import/backfill-import-example.xlsx, in the layout docs/import-workbook.md
describes (one sheet of records, one row each; a second sheet says what each column holds).

The import itself does not exist yet: this file fixes the layout it will read, so enterprises with many records can
prepare them. Regenerate it after changing the layout: `python -m demo.workbook` (openpyxl only, no Django).
"""

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

PATH = Path(__file__).resolve().parent.parent / "static" / "import" / "backfill-import-example.xlsx"
SHEET = "补录项目"
GUIDE_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    header: str  # what the sheet's first row says
    field: str  # where the value goes: "project.<field>" or "<stage>.<field>" (projects/models.py)
    note: str  # how to fill it in


COLUMNS = [
    Column("项目名称", "project.name", "与施工许可证一致"),
    Column("审核部门", "project.authority", "区县或开发区名称，如“渝中区”“两江新区”"),
    Column("区县代码", "project.county_code", "6位行政区划代码（5001xx或5002xx）；区县可留空，开发区必填"),
    Column("项目地址", "project.address", "写到门牌号"),
    Column("项目类型", "project.project_type", "建筑工程施工总承包、市政公用工程施工总承包或相关的专业承包"),
    Column("总投资（元）", "project.total_investment", "数字，最多两位小数"),
    Column("总面积（平方米）", "project.total_area", "数字，最多两位小数"),
    Column("中标通知书编号", "tendering.award_notice_number", "无招投标的项目留空"),
    Column("中标金额（元）", "tendering.award_amount", "数字"),
    Column("合同备案编号", "contract.filing_number", ""),
    Column("合同金额（元）", "contract.amount", "数字"),
    Column("施工许可证编号", "permit.permit_number", "2014年起为18位数字"),
    Column("施工许可发证日期", "permit.issued_on", "日期（yyyy-mm-dd）"),
    Column("竣工验收备案编号", "completion.filing_number", ""),
    Column("实际竣工日期", "completion.actual_completion_on", "日期（yyyy-mm-dd）"),
]

# Fictitious records in the demo's style (demo/records.py); the permit numbers are valid 18-digit numbers.
EXAMPLE_ROWS = [
    [
        "渝中区七星岗社区服务中心工程", "渝中区", "", "重庆市渝中区七星岗街道中山一路18号", "建筑工程施工总承包",
        Decimal("9800000.00"), Decimal("5200.00"), "ZB-2016-DR001", Decimal("8650000.00"), "HTBA-2016-DR001",
        Decimal("8650000.00"), "500103201607150101", datetime.date(2016, 7, 15), "JGBA-2017-DR001",
        datetime.date(2017, 9, 30),
    ],
    [
        "两江新区金渝大道配套道路工程", "两江新区", "500112", "重庆市渝北区金渝大道88号", "市政公用工程施工总承包",
        Decimal("32000000.00"), Decimal("41000.00"), "ZB-2016-DR002", Decimal("29800000.00"), "HTBA-2016-DR002",
        Decimal("29800000.00"), "500112201608020201", datetime.date(2016, 8, 2), "JGBA-2017-DR002",
        datetime.date(2017, 12, 20),
    ],
    [
        "江北区港城工业园厂房消防工程", "江北区", "", "重庆市江北区港城工业园C区6号", "与上述施工总承包相关的专业承包",
        Decimal("2600000.00"), Decimal("12000.00"), "ZB-2015-DR003", Decimal("2380000.00"), "HTBA-2015-DR003",
        Decimal("2380000.00"), "500105201511200301", datetime.date(2015, 11, 20), "JGBA-2016-DR003",
        datetime.date(2016, 6, 18),
    ],
]  # fmt: skip

# Fixed document dates: regenerating an unchanged layout gives the same workbook properties.
DOCUMENT_DATE = datetime.datetime(2026, 1, 1)


def workbook_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.properties.creator = "backfill-portal"
    book.properties.created = DOCUMENT_DATE
    sheet = book.active
    sheet.title = SHEET
    sheet.append([column.header for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in EXAMPLE_ROWS:
        sheet.append([float(value) if isinstance(value, Decimal) else value for value in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = max(
            14, 2 * len(column.header) + 4
        )
    sheet.freeze_panes = "A2"

    guide = book.create_sheet(GUIDE_SHEET)
    guide.append(["列名", "对应字段", "填写要求"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        guide.append([column.header, column.field, column.note])
    guide.append([])
    guide.append(
        [
            "说明",
            "",
            "批量导入功能尚未上线；本表为导入格式示例，一行一个补录项目，证明材料仍须在平台逐个上传。",
        ]
    )
    for letter, width in zip("ABC", (20, 34, 70), strict=True):
        guide.column_dimensions[letter].width = width

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


if __name__ == "__main__":
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_bytes(workbook_bytes())
    print(PATH)

"""Writing workbooks in the template's layout: the empty template, the enterprise's export, the annotated copy."""

import io

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from projects import identifiers, rules
from projects.models import EvidencePart

from . import layout

REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="FF9999")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
EXAMPLE_FONT = Font(italic=True, color="808080")
AUTHOR = "补录系统"


def _save(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def build(rows=(), *, example=None, kind=layout.CONSTRUCTION) -> bytes:  # noqa: C901 (to split: sheets, validations)
    """A workbook in the layout of `kind`'s template: `rows` are lists of cell values after the key (the export),
    `example` one such list shown as the example row."""
    columns = layout.columns(kind)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = layout.SHEETS[kind]
    choices_sheet = workbook.create_sheet(layout.CHOICES_SHEET)
    choices_sheet.sheet_state = "hidden"

    last = len(columns) + 1
    sheet.cell(layout.TITLE_ROW, 1, layout.TITLES[kind]).font = Font(bold=True, size=13)
    sheet.merge_cells(
        start_row=layout.TITLE_ROW, start_column=1, end_row=layout.TITLE_ROW, end_column=min(last, 12)
    )
    sheet.cell(layout.HEADER_ROW, 1, layout.KEY_HEADER)
    sheet.cell(layout.NOTES_ROW, 1, layout.NOTES_MARK)
    sheet.cell(layout.EXAMPLE_ROW, 1, layout.EXAMPLE_MARK)
    sheet.cell(layout.SECTION_ROW, 1, "")

    section_start = {}
    choice_ranges = {}
    for index, column in enumerate(columns, start=2):
        letter = get_column_letter(index)
        section_start.setdefault(column.stage, index)
        header = sheet.cell(layout.HEADER_ROW, index, layout.header_text(column))
        header.font = Font(bold=True)
        header.fill = REQUIRED_FILL if column.required else HEADER_FILL
        header.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(layout.NOTES_ROW, index, column.note).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[letter].width = 18
        if column.choices:
            key = (column.kind, tuple(column.labels))
            if key not in choice_ranges:
                list_column = get_column_letter(len(choice_ranges) + 1)
                for n, label in enumerate(column.labels, start=1):
                    choices_sheet[f"{list_column}{n}"] = label
                choice_ranges[key] = (
                    f"{quote_sheetname(layout.CHOICES_SHEET)}!${list_column}$1:${list_column}${len(column.labels)}"
                )
            validation = DataValidation(
                type="list",
                formula1=choice_ranges[key],
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="请从下拉列表选择",
                error=f"“{column.header}”只能从下拉列表中选择。",
            )
            validation.add(f"{letter}{layout.EXAMPLE_ROW}:{letter}{layout.FIRST_DATA_ROW + 5000}")
            sheet.add_data_validation(validation)
        if column.kind == "date":
            for row in range(layout.EXAMPLE_ROW, layout.FIRST_DATA_ROW + max(len(rows), 1)):
                sheet.cell(row, index).number_format = "yyyy-mm-dd"

    starts = sorted(section_start.items(), key=lambda item: item[1])
    for n, (stage, start) in enumerate(starts):
        end = starts[n + 1][1] - 1 if n + 1 < len(starts) else last
        cell = sheet.cell(layout.SECTION_ROW, start, rules.STAGE_LABELS[stage])
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
        if end > start:
            sheet.merge_cells(
                start_row=layout.SECTION_ROW, start_column=start, end_row=layout.SECTION_ROW, end_column=end
            )
    sheet.freeze_panes = sheet.cell(layout.FIRST_DATA_ROW, 2)
    sheet.column_dimensions["A"].width = 10

    if example:
        for index, value in enumerate(example, start=2):
            sheet.cell(layout.EXAMPLE_ROW, index, value).font = EXAMPLE_FONT
    for offset, (key, values) in enumerate(rows):
        row = layout.FIRST_DATA_ROW + offset
        sheet.cell(row, 1, key)
        for index, value in enumerate(values, start=2):
            cell = sheet.cell(row, index, value)
            if columns[index - 2].kind == "decimal" and value is not None:
                cell.number_format = "#,##0.00"
            elif columns[index - 2].kind in ("members", "designers") and value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")

    help_sheet = workbook.create_sheet(layout.HELP_SHEET, 0)
    for n, line in enumerate(help_lines(columns, kind), start=1):
        help_sheet.cell(n, 1, line)
    help_sheet.column_dimensions["A"].width = 120
    workbook.active = 1
    return _save(workbook)


def help_lines(columns, kind=layout.CONSTRUCTION) -> list[str]:
    required = sum(1 for c in columns if c.required)
    sheet = layout.SHEETS[kind]
    design = kind == layout.DESIGN
    lines = [
        layout.TITLES[kind].split("（")[0].replace("批量导入", "批量导入说明"),
        "",
        f"1. 在工作表“{sheet}”中每行填写一个项目，从第{layout.FIRST_DATA_ROW}行开始；第{layout.EXAMPLE_ROW}行为示例（第1列为“示例”的行不导入）。",
        f"2. 第1列“{layout.KEY_HEADER}”由您编写（如1、2、3），用于在结果中定位，也是证明材料压缩包中的目录名。",
        f"3. 标有“{layout.REQUIRED_MARK}”（底色为红）的列共{required}列：项目基本信息必须填写；各环节的必填项可先留空，提交前在自查中补全。",
        "4. 日期可写成2018-03-05、2018/3/5、2018年3月5日，或使用Excel日期；金额、面积只填数字，可带千分位逗号。",
        "5. 有下拉列表的列请从列表中选择；“是否…”的列必须选择“是”或“否”。",
        "6. 已有16位项目编号的请填写“项目编号”；没有的留空，由系统生成。重新导入同一工作簿时，系统按项目编号或各环节的文件编号找到已导入的草稿并更新，不会重复创建；已提交或已入库的项目不会被修改。",
        "7. 每个项目单独检查：有错误的项目整行不导入，其余项目保存为草稿。导入完成后可下载“标注版”工作簿，错误的单元格标红并附批注。",
        "8. 证明材料可打包为一个.zip压缩包一并上传，目录为：序号（或项目编号）/环节名称/文件，"
        + ("如“1/合同备案/设计合同.pdf”。" if design else "如“1/项目报建/立项批文.pdf”。"),
        "   环节名称："
        + "、".join(rules.STAGE_LABELS[code] for code in layout.stage_codes(kind))
        + "；文件须为PDF、JPEG或PNG。",
        "9. 导入只保存草稿，不会提交。请在“我的补录项目”中勾选项目，先自查，再提交审核。",
    ]
    if design:
        lines += [
            "10. 施工图审查的证明材料分两类，目录名写材料类别而不是环节名称："
            + "、".join(f"“1/{label}/文件”" for label in EvidencePart.labels)
            + "。",
            f"11. “施工图审查·勘察设计人员”一格填写全部人员，每行一人（单元格内按Alt+Enter换行）：{identifiers.DESIGNER_FORMAT}，"
            "用空格分隔，缺项写“无”，如“王设计 身份证 500222198508153213 注册建筑师 一级 项目负责人”。",
        ]
    return lines


def annotate(data: bytes, problems: list, outcomes: dict, kind=layout.CONSTRUCTION) -> bytes:
    """The uploaded workbook with each problem's cell coloured and commented, and an 导入结果 column: `problems`
    are reading.Problem, `outcomes` {row number: text}."""
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook[layout.SHEETS[kind]]
    by_cell = {}
    for problem in problems:
        by_cell.setdefault((problem.row, problem.column or 1), []).append(problem)
    for (row, column), found in by_cell.items():
        cell = sheet.cell(row, column)
        if type(cell).__name__ == "MergedCell":
            continue
        is_error = any(p.severity == "error" for p in found)
        cell.fill = ERROR_FILL if is_error else WARNING_FILL
        text = "\n".join(("错误：" if p.severity == "error" else "提示：") + p.message for p in found)
        cell.comment = Comment(text[:2000], AUTHOR, width=320, height=160)
    if outcomes:
        result_column = sheet.max_column + 1
        header_row = min(outcomes) - 1
        for row in range(1, min(outcomes)):
            if str(sheet.cell(row, 1).value or "").strip() == layout.KEY_HEADER:
                header_row = row
        sheet.cell(header_row, result_column, "导入结果").font = Font(bold=True)
        for row, text in outcomes.items():
            sheet.cell(row, result_column, text)
    return _save(workbook)

"""Reading an uploaded workbook: refused early when it is not what it says or too big, then read tolerantly.

Bounds (docs/import.md): the upload's bytes, the sum of the zip members' uncompressed sizes (a decompression
bomb is refused before openpyxl inflates anything), the sheet's declared dimensions, and the rows and columns
iterated. Values are read as Excel shows them: a formula's cached value (data_only), dates as Excel serial
numbers or as text in the usual Chinese ways, amounts with thousands separators or stored as text, full-width
digits and spaces.
"""

import datetime
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from python_calamine import CalamineWorkbook

from projects import identifiers
from projects.forms import EARLIEST_DATE, LATEST_DATE

from . import layout

XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
# A zip member inflating more than this many times its stored size is a bomb, not a spreadsheet (real sheets
# compress 5-20 times; shared strings a little more).
MAX_RATIO = 200
# Full-width ASCII (！ to ～) and the ideographic space, as half-width: for identifiers, numbers and dates.
FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# For identifiers only the digits, letters and the space: a document number's full-width brackets are its own.
FULL_WIDTH_ALNUM = {
    code: code - 0xFEE0 for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]
} | {0x3000: 0x20}


class WorkbookRefused(Exception):
    """The file as a whole cannot be read: a Chinese message for the clerk."""


class OtherKindWorkbook(WorkbookRefused):
    """A workbook in the other project kind's layout (a construction enterprise's upload of a design workbook, or
    the reverse): each enterprise imports only its own kind of record."""


@dataclass
class Problem:
    row: int  # the sheet's row number (1-based, as Excel shows it)
    column: int | None  # 1-based; None for the whole row
    message: str
    severity: str = "error"
    sheet: str = layout.SHEET  # the kind's sheet: ReadSheet.problem names it

    @property
    def where(self) -> str:
        if self.column is None:
            return f"工作表“{self.sheet}”第{self.row}行"
        return f"工作表“{self.sheet}”第{self.row}行{get_column_letter(self.column)}列"

    def as_dict(self, headers: dict) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": get_column_letter(self.column) if self.column else "",
            "header": headers.get(self.column, ""),
            "message": self.message,
            "severity": self.severity,
            "where": self.where,
        }


@dataclass
class SheetRow:
    number: int  # the sheet's row number
    key: str  # 序号
    values: dict = field(default_factory=dict)  # Column -> raw cell value


@dataclass
class ReadSheet:
    columns: dict  # 1-based column index -> layout.Column
    key_column: int
    rows: list
    header_row: int
    sheet: str = layout.SHEET

    def problem(self, row: int, column: int | None, message: str, severity: str = "error") -> Problem:
        return Problem(row, column, message, severity, sheet=self.sheet)

    @property
    def headers(self) -> dict:
        return {self.key_column: layout.KEY_HEADER} | {i: c.header for i, c in self.columns.items()}

    def index_of(self, stage, name) -> int | None:
        for index, column in self.columns.items():
            if column.stage == stage and column.field == name:
                return index
        return None


def check_container(data: bytes, name: str) -> None:
    """Refuse what is not an .xlsx, or would inflate beyond the bounds, before anything is parsed."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise WorkbookRefused(f"文件超过{settings.IMPORT_MAX_BYTES // 1048576}MB，请分成几个工作簿导入。")
    if data.startswith(XLS_MAGIC):
        raise WorkbookRefused("这是旧版Excel（.xls）文件：请在Excel中“另存为”Excel工作簿（.xlsx）后再导入。")
    lower = name.lower()
    if not data.startswith(ZIP_MAGIC):
        if lower.endswith(".csv"):
            raise WorkbookRefused(
                "这是文本（.csv）文件，不能导入：请下载导入模板，把数据粘贴进模板（.xlsx）后再导入。"
            )
        if _looks_like_text(data) and not data.startswith(b"%PDF"):
            raise WorkbookRefused(
                "文件内容是文本（可能是改了扩展名的.csv文件），不是Excel工作簿：请把数据粘贴进导入模板（.xlsx）后再导入。"
            )
        raise WorkbookRefused("文件不是Excel工作簿（.xlsx），可能是改了扩展名的其他文件：请用导入模板填写。")
    try:
        archive = zipfile.ZipFile(_bytes_io(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise WorkbookRefused("文件已损坏或不是Excel工作簿（.xlsx）。") from None
    if "xl/workbook.xml" not in {m.filename for m in members}:
        raise WorkbookRefused(
            "文件不是Excel工作簿（.xlsx），可能是改了扩展名的压缩包或其他文档：请用导入模板填写。"
        )
    total = sum(m.file_size for m in members)
    if total > settings.IMPORT_MAX_UNCOMPRESSED_BYTES or any(
        m.file_size > 1048576 and m.file_size > MAX_RATIO * max(m.compress_size, 1) for m in members
    ):
        raise WorkbookRefused("工作簿解压后过大（可能是“压缩炸弹”），已拒绝读取。请只保留需要导入的数据。")


def _bytes_io(data):
    import io

    return io.BytesIO(data)


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            head.decode("gb18030")
        except UnicodeDecodeError:
            return False
    return b"\x00" not in head


def read_workbook(data: bytes, name: str, kind=layout.CONSTRUCTION) -> ReadSheet:
    """The import sheet's columns and rows (blank, notes and example rows left out) in the layout of `kind`;
    raises WorkbookRefused (OtherKindWorkbook for the other kind's workbook).

    openpyxl (read-only, lazy) reads the sheet names and the sheet's declared dimensions, refusing absurd ones
    before any cell is loaded; python-calamine then reads the cells, about ten times faster (docs/dependencies.md,
    bench/README.md). Both read a formula's cached value."""
    check_container(data, name)
    try:
        workbook = load_workbook(_bytes_io(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged file; the clerk needs one message
        raise WorkbookRefused(
            "工作簿无法读取（文件可能已损坏）：请在Excel中打开后重新保存为.xlsx。"
        ) from None
    sheet_name = layout.SHEETS[kind]
    try:
        if sheet_name not in workbook.sheetnames:
            other = layout.other_kind(kind)
            if layout.SHEETS[other] in workbook.sheetnames:
                raise OtherKindWorkbook(
                    f"这是{layout.kind_label(other)}的导入工作簿（工作表“{layout.SHEETS[other]}”）："
                    f"本企业补录的是{layout.kind_label(kind)}，"
                    f"请下载本企业的导入模板（工作表“{sheet_name}”）填写。"
                )
            raise WorkbookRefused(
                f"工作簿中没有名为“{sheet_name}”的工作表（现有：{'、'.join(workbook.sheetnames[:10])}）：请用导入模板填写。"
            )
        sheet = workbook[sheet_name]
        expected = layout.columns(kind)
        max_rows = settings.IMPORT_MAX_ROWS
        max_columns = len(expected) + 1 + 20
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > max_rows + layout.FIRST_DATA_ROW + 1000 or declared_columns > max_columns + 1000:
            raise WorkbookRefused(
                f"工作表“{sheet_name}”声明了{declared_rows}行×{declared_columns}列，超出可导入范围"
                f"（最多{max_rows}个项目）：请删除多余的行列或分成几个工作簿。"
            )
    finally:
        workbook.close()
    return _read_sheet(_cell_rows(data, max_columns, sheet_name), expected, max_rows, sheet_name)


def _cell_rows(data: bytes, max_columns: int, sheet_name: str):
    """The import sheet's rows from row 1 as Excel numbers them, each a tuple of at most `max_columns` values
    (None for an empty cell, as openpyxl gives it)."""
    try:
        sheet = CalamineWorkbook.from_filelike(_bytes_io(data)).get_sheet_by_name(sheet_name)
    except Exception:  # calamine's errors for a damaged part: the clerk needs one message
        raise WorkbookRefused(
            "工作簿无法读取（文件可能已损坏）：请在Excel中打开后重新保存为.xlsx。"
        ) from None
    first_row, first_column = sheet.start or (0, 0)  # the first cell that holds anything (0-based)
    for _ in range(first_row):
        yield ()
    pad = (None,) * first_column
    for values in sheet.iter_rows():
        yield (pad + tuple(None if value == "" else value for value in values))[:max_columns]


def _read_sheet(rows, expected, max_rows, sheet_name) -> ReadSheet:  # noqa: C901 (to split: header, rows)
    by_header = {layout.plain_header(c.header): c for c in expected}
    header_row = None
    for number, values in enumerate(rows, start=1):
        if number > 10:
            break
        if any(layout.plain_header(v) == layout.KEY_HEADER for v in values):
            header_row = (number, values)
            break
    if header_row is None:
        raise WorkbookRefused(
            f"工作表“{sheet_name}”前10行中找不到表头（第1列应为“{layout.KEY_HEADER}”）：请用导入模板填写。"
        )
    header_number, header_values = header_row
    columns, key_column, unknown, seen = {}, None, [], set()
    for index, value in enumerate(header_values, start=1):
        text = layout.plain_header(value)
        if not text:
            continue
        if text == layout.KEY_HEADER:
            key_column = index
        elif text in by_header:
            columns[index] = by_header[text]
            seen.add(text)
        else:
            unknown.append(f"{get_column_letter(index)}列“{value}”")
    missing = [c.header for c in expected if layout.plain_header(c.header) not in seen]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(f"缺少列：{'、'.join(missing[:8])}{'等' if len(missing) > 8 else ''}")
        if unknown:
            parts.append(f"无法识别的列：{'、'.join(unknown[:8])}{'等' if len(unknown) > 8 else ''}")
        raise WorkbookRefused(
            f"工作表“{sheet_name}”第{header_number}行的表头与模板不符（{'；'.join(parts)}）：请下载最新模板填写。"
        )

    read_rows = []
    for number, values in enumerate(rows, start=header_number + 1):
        if not any(_present(v) for v in values):
            continue  # blank rows (and rows of empty strings) are skipped
        key = text_of(values[key_column - 1]) if key_column - 1 < len(values) else ""
        if key in (layout.NOTES_MARK, layout.EXAMPLE_MARK):
            continue
        if len(read_rows) >= max_rows:
            raise WorkbookRefused(f"一个工作簿最多导入{max_rows}个项目：请分成几个工作簿。")
        read_rows.append(
            SheetRow(
                number=number,
                key=key,
                values={i: values[i - 1] if i - 1 < len(values) else None for i in columns},
            )
        )
    return ReadSheet(
        columns=columns, key_column=key_column, rows=read_rows, header_row=header_number, sheet=sheet_name
    )


def _present(value) -> bool:
    return value is not None and str(value).strip().replace("\u3000", "") != ""


# ---------------------------------------------------------------- cell values


class BadValue(ValueError):
    """A cell that cannot be read as its column's kind: the Chinese message says what was expected."""


def half_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def text_of(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a number typed into a text column: 2018001 rather than 2018001.0
    return str(value).replace("\u3000", " ").strip()


DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        day = _serial_date(value)
    else:
        text = half_width(text_of(value))
        if not text:
            return None
        match = DATE_TEXT.match(text)
        if match:
            try:
                day = datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                raise BadValue(f"“{text}”不是存在的日期。") from None
        elif re.fullmatch(r"\d{5}(\.\d+)?", text):
            day = _serial_date(float(text))
        else:
            raise BadValue(f"“{text}”不是日期：请写成2018-03-05、2018/3/5或2018年3月5日。")
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise BadValue(f"日期{day:%Y-%m-%d}须在{EARLIEST_DATE:%Y-%m-%d}至{LATEST_DATE:%Y-%m-%d}之间。")
    return day


def _serial_date(number) -> datetime.date:
    if not 1 <= number < 2958466:
        raise BadValue(f"“{number}”不是日期：请写成2018-03-05。")
    return from_excel(number).date()


def parse_decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        raise BadValue("请填写数字。")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.01"))
    text = half_width(text_of(value))
    for separator in (",", "，", " ", "_", "'"):
        text = text.replace(separator, "")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BadValue(f"“{text_of(value)}”不是数字：金额、面积只填数字，如1,234,567.89。") from None
    if not number.is_finite():
        raise BadValue(f"“{text_of(value)}”不是数字。")
    return number


def parse_integer(value) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise BadValue(f"“{text_of(value)}”不是整数。")
    return int(number)


def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    text = half_width(text_of(value)).lower()
    if not text:
        return None
    if text in layout.TRUE_WORDS:
        return True
    if text in layout.FALSE_WORDS:
        return False
    raise BadValue(f"“{text_of(value)}”：请填写“是”或“否”。")


def parse_choice(column, value) -> str:
    text = text_of(value)
    if not text:
        return ""
    for stored, label in column.choices:
        if text in (label, stored) or half_width(text) == stored:
            return stored
    allowed = "、".join(column.labels[:12])
    raise BadValue(
        f"“{text}”不是可选的值：请从下拉列表选择（{allowed}{'等' if len(column.labels) > 12 else ''}）。"
    )


def parse(column, value):
    """A cell's value as the model field takes it; BadValue when it cannot be read."""
    kind = column.kind
    if kind == "date":
        return parse_date(value)
    if kind == "decimal":
        return parse_decimal(value)
    if kind == "integer":
        return parse_integer(value)
    if kind == "bool":
        parsed = parse_bool(value)
        if parsed is None and not column.nullable:
            raise BadValue("请填写“是”或“否”。")
        return parsed
    if kind in ("choice", "authority"):
        return parse_choice(column, value)
    if kind == "members":
        return identifiers.parse_joint_venture_members(text_of(value))
    if kind == "designers":
        return identifiers.parse_designers(text_of(value))
    if kind == "code":
        text = text_of(value).translate(FULL_WIDTH_ALNUM).strip()
        return text.upper() if column.upper else text
    return text_of(value)

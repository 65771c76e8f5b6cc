"""Notices on paper: the 公示表 as authorities post it (项目编号、项目名称、补录企业、审核部门、公示起止、异议渠道), as a PDF
and as an Excel workbook, for the notices the list shows (with its search and filters) or for one notice.

PDF: reportlab with its built-in CID font STSong-Light, so Chinese renders with no font file on the machine (the
viewer supplies the glyphs). Excel: openpyxl, every cell written as text (a name typed as "=..." is not a formula).
Bounded: at most EXPORT_MAX_ROWS notices, read in one query with the list's columns; the form says when more matched.
"""

import io
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .forms import PublicSearchForm
from .models import NoticeState
from .timing import BEIJING

EXPORT_MAX_ROWS = 1000
TITLE = "建设工程项目补录信息公示表"
HEADERS = ["序号", "项目编号", "项目名称", "补录企业", "审核部门", "公示起止（北京时间）", "异议渠道"]


@dataclass
class NoticeLine:
    project_number: str
    project_name: str
    enterprise_name: str
    authority_name: str
    period: str
    objection_channel: str

    def cells(self) -> list[str]:
        return [
            self.project_number,
            self.project_name,
            self.enterprise_name,
            self.authority_name,
            self.period,
            self.objection_channel,
        ]


def period_text(notice) -> str:
    start = f"{notice.starts_at.astimezone(BEIJING):%Y-%m-%d %H:%M}"
    if notice.state == NoticeState.PAUSED:
        return f"{start} 起；收到异议，暂停计时，剩余{notice.days_left()}天"
    return f"{start} 至 {notice.end_text}"


def lines(request, notices, authority_names) -> list[NoticeLine]:
    return [
        NoticeLine(
            project_number=n.project_number,
            project_name=n.project_name,
            enterprise_name=n.enterprise_name,
            authority_name=authority_names.get(n.authority_id, ""),
            period=period_text(n),
            objection_channel=(
                "公示期内在本平台该项目公示页面在线提出："
                + request.build_absolute_uri(reverse("publicity:notice_detail", args=[n.pk]))
            ),
        )
        for n in notices
    ]


def listed_notices(request):
    """The notices of the list page for the same query string: (lines, more_than_shown). Two queries."""
    authorities = selectors.authorities()
    form = PublicSearchForm(request.GET or None, authorities=authorities)
    if form.is_bound and not form.is_valid():
        return [], False
    queryset = selectors.search(selectors.public_notices(), date_field="starts_at", **form.filters())
    notices = list(
        queryset.only(*selectors.NOTICE_LIST_FIELDS).order_by("-starts_at", "-id")[: EXPORT_MAX_ROWS + 1]
    )
    names = {a.id: a.name for a in authorities}
    return lines(request, notices[:EXPORT_MAX_ROWS], names), len(notices) > EXPORT_MAX_ROWS


def one_notice(request, notice_id):
    notice = selectors.public_notice_or_404(notice_id)
    names = {a.id: a.name for a in selectors.authorities()}
    return lines(request, [notice], names)


# ---------------------------------------------------------------- PDF


def pdf_bytes(rows: list[NoticeLine], *, truncated: bool = False) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    # wordWrap="CJK" breaks between any two characters: long names and URLs wrap inside their cell.
    cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11, wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, fontSize=9)
    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1)
    note = ParagraphStyle("note", fontName=font, fontSize=8.5, leading=12)

    def para(text, style=cell):
        return Paragraph(escape(text), style)

    now = timezone.now().astimezone(BEIJING)
    story = [
        para(TITLE, title),
        para(
            f"制表时间：{now:%Y-%m-%d %H:%M}（北京时间）。共{len(rows)}项"
            + ("（仅列出前1000项，请缩小查询范围）" if truncated else "")
            + "。依据渝建〔2018〕213号，审核通过的补录项目公示10日，公示期满无异议的进入全国建筑市场监管公共服务平台项目库。",
            note,
        ),
        Spacer(1, 4 * mm),
    ]
    data = [[para(h, head) for h in HEADERS]]
    for number, row in enumerate(rows, start=1):
        data.append([para(str(number))] + [para(value) for value in row.cells()])
    if not rows:
        data.append([para("")] + [para("当前没有符合条件的公示项目。")] + [para("")] * 5)
    widths = [12 * mm, 31 * mm, 52 * mm, 48 * mm, 26 * mm, 42 * mm, 59 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(
        para(
            "对公示内容有异议的，请在公示期内通过该项目公示页面实名提出，并提供联系方式和相关证明材料；"
            "异议提交后公示暂停计时，由项目所在地审核部门核实处理。身份证号码等个人信息不予公示。",
            note,
        )
    )
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=10 * mm,
        rightMargin=10 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=TITLE,
        author="重庆市建设工程项目信息补录系统",
    ).build(story)
    return buffer.getvalue()


# ---------------------------------------------------------------- Excel


def xlsx_bytes(rows: list[NoticeLine]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("公示表")

    def text(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell

    sheet.append([text(h) for h in HEADERS])
    for number, row in enumerate(rows, start=1):
        sheet.append([text(str(number))] + [text(value) for value in row.cells()])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- views


def _download(content: bytes, content_type: str, ascii_name: str, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename={ascii_name}; filename*=UTF-8''{quote(name)}"
    return response


PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _stamp() -> str:
    return f"{timezone.now().astimezone(BEIJING):%Y%m%d}"


@require_GET
def notice_list_pdf(request):
    rows, truncated = listed_notices(request)
    return _download(pdf_bytes(rows, truncated=truncated), PDF, "notices.pdf", f"{TITLE}-{_stamp()}.pdf")


@require_GET
def notice_list_xlsx(request):
    rows, _truncated = listed_notices(request)
    return _download(xlsx_bytes(rows), XLSX, "notices.xlsx", f"{TITLE}-{_stamp()}.xlsx")


@require_GET
def notice_pdf(request, notice_id):
    rows = one_notice(request, notice_id)
    number = rows[0].project_number
    return _download(pdf_bytes(rows), PDF, f"notice-{number}.pdf", f"{TITLE}-{number}.pdf")

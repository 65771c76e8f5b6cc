"""受理回执: issued on each submission (projects.services.submit_project), printable as a PDF, verifiable in public.

The receipt's content is fixed when it is issued and hashed (SHA-256 of its canonical JSON); the PDF is drawn from
it on demand with reportlab's built-in CID font STSong-Light (Chinese renders with no font file on the machine)
and carries a QR code (segno) of the public verification page, which shows the receipt's number, hash, date,
authority and the record's public status — nothing private (docs/receipts.md).
"""

import datetime
import hashlib
import io
import json
import secrets
from xml.sax.saxutils import escape

from django.utils import timezone

from . import working_days
from .models import STAGE_MODELS, STAGE_ORDER, Receipt, StageCode

BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def canonical(content: dict) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def issue(*, project, version, actor_user) -> Receipt:
    """The receipt of `version` (called inside the submission's transaction)."""
    stages = []
    for code in STAGE_ORDER:
        stage = STAGE_MODELS[code].objects.filter(project=project).first()
        if stage is None:
            continue
        label = stage._meta.get_field(stage.document_field).verbose_name
        stages.append(
            {"stage": StageCode(code).label, "document": str(label), "number": stage.document_number}
        )
    submitted_at = version.submitted_at.astimezone(BEIJING)
    number = f"SL{project.authority.code}{submitted_at:%Y%m%d}{version.pk:06d}"
    content = {
        "number": number,
        "project_number": project.project_number,
        "project_name": project.name,
        "enterprise": project.enterprise.name,
        "enterprise_credit_code": project.enterprise.credit_code,
        "authority": project.authority.name,
        "time_limit_working_days": working_days.review_time_limit(),
        "submitted_at": submitted_at.isoformat(timespec="seconds"),
        "submitted_by": actor_user.get_full_name() or actor_user.username,
        "version": version.number,
        "stages": stages,
        "evidence": [
            {"stage": StageCode(item["stage"]).label, "name": item["name"], "sha256": item["sha256"]}
            for item in version.evidence
        ],
    }
    return Receipt.objects.create(
        version=version,
        project=project,
        number=number,
        token=secrets.token_hex(16),
        content=content,
        sha256=hashlib.sha256(canonical(content)).hexdigest(),
        issued_at=version.submitted_at,
    )


def is_intact(receipt: Receipt) -> bool:
    return hashlib.sha256(canonical(receipt.content)).hexdigest() == receipt.sha256


def due_on(receipt: Receipt) -> datetime.date:
    """The last day of the review time limit: working days after the day of submission. A receipt issued before
    the limit was counted in working days keeps the calendar days it printed (its content is hashed)."""
    submitted = datetime.datetime.fromisoformat(receipt.content["submitted_at"]).date()
    if "time_limit_working_days" in receipt.content:
        return working_days.add_working_days(submitted, receipt.content["time_limit_working_days"])
    return submitted + datetime.timedelta(days=receipt.content["time_limit_days"])


def time_limit_text(receipt: Receipt) -> str:
    content = receipt.content
    if "time_limit_working_days" in content:
        return f"{content['time_limit_working_days']}个工作日"
    return f"{content['time_limit_days']}日"


def qr_png(url: str) -> bytes:
    import segno

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=4, border=0)
    return out.getvalue()


def pdf_bytes(receipt: Receipt, verification_url: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = "STSong-Light"
    pdfmetrics.registerFont(UnicodeCIDFont(font))
    cell = ParagraphStyle("cell", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24, alignment=1)

    def para(text, style=cell):
        return Paragraph(escape(str(text)), style)

    c = receipt.content
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    facts = Table(
        [
            [para("受理编号"), para(c["number"])],
            [para("项目编号"), para(c["project_number"])],
            [para("项目名称"), para(c["project_name"])],
            [para("补录企业"), para(f"{c['enterprise']}（{c['enterprise_credit_code']}）")],
            [para("提交时间"), para(c["submitted_at"].replace("T", " ") + "（北京时间）")],
            [para("提交人"), para(c["submitted_by"])],
            [para("第几次提交"), para(c["version"])],
            [para("审核部门"), para(c["authority"])],
            [
                para("审核时限"),
                para(f"{time_limit_text(receipt)}，应于{due_on(receipt):%Y年%m月%d日}前审核完毕"),
            ],
            [para("回执SHA-256"), para(receipt.sha256)],
        ],
        colWidths=[32 * mm, 140 * mm],
    )
    facts.setStyle(grid)
    stages = Table(
        [[para("环节"), para("文件"), para("编号")]]
        + [[para(s["stage"]), para(s["document"]), para(s["number"])] for s in c["stages"]],
        colWidths=[32 * mm, 50 * mm, 90 * mm],
    )
    stages.setStyle(grid)
    evidence = Table(
        [[para("环节"), para("证明材料"), para("SHA-256")]]
        + [[para(e["stage"]), para(e["name"]), para(e["sha256"])] for e in c["evidence"]],
        colWidths=[32 * mm, 50 * mm, 90 * mm],
    )
    evidence.setStyle(grid)
    qr = Image(io.BytesIO(qr_png(verification_url)), width=35 * mm, height=35 * mm)
    story = [
        para("建设工程项目信息补录 受理回执", title),
        Spacer(1, 5 * mm),
        facts,
        Spacer(1, 4 * mm),
        para("提交的各环节文件编号："),
        stages,
        Spacer(1, 4 * mm),
        para("提交的证明材料："),
        evidence,
        Spacer(1, 5 * mm),
        Table(
            [[qr, para(f"扫描二维码或访问以下地址核验本回执（无需登录）：\n{verification_url}")]],
            colWidths=[40 * mm, 132 * mm],
        ),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, title=f"受理回执 {c['number']}", leftMargin=18 * mm, rightMargin=18 * mm
    )
    document.build(story)
    return out.getvalue()


def issued_on_day(receipt: Receipt) -> str:
    return f"{timezone.localtime(receipt.issued_at):%Y-%m-%d}"

"""Audit retention (GB/T 22239 安全审计; docs/security.md, "Audit retention").

- Events are never deleted or changed (projects.models.AuditEvent, and on PostgreSQL a trigger): the trail is kept
  for good, beyond the law's floor of 180 days.
- The audit administrator exports a date range, CSV or Excel, for an archive outside the portal: every event with
  its chain, its hash, the previous event's hash on that chain and the exact bytes that were hashed (`payload`), so
  the archive can check each hash (SHA-256 of the payload) and the links between them without the portal.
- The chain is checked every day (beat: projects.tasks.verify_audit_chain) and whenever the audit administrator
  asks; each check is an AuditCheck row. A broken chain raises the alarm: an ERROR log line, an e-mail to
  OPERATIONS_EMAIL and the audit administrators, and a banner in the console while the latest check is broken.
"""

import csv
import datetime
import logging
import tempfile

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone

from . import history
from .audit import anchor, verify_chain
from .models import AuditCheck, AuditEvent, Duty

log = logging.getLogger(__name__)

COLUMNS = [
    ("id", "序号"),
    ("occurred_at", "时间（北京时间）"),
    ("actor_username", "操作人"),
    ("organisation", "所属单位"),
    ("ip_address", "IP地址"),
    ("action", "操作代码"),
    ("label", "操作"),
    ("object_type", "对象类型"),
    ("object_id", "对象ID"),
    ("project_id", "项目ID"),
    ("message", "说明"),
    ("chain", "所在审计链"),  # 0 the global chain, a project's id, a negative shard (docs/security.md)
    ("previous_hash", "前一条记录的哈希"),
    ("hash", "哈希（SHA-256）"),
    ("payload", "被哈希的内容（UTF-8 JSON）"),
]
CHUNK = 2000


# ---------------------------------------------------------------- export


def events_between(start: datetime.date | None, end: datetime.date | None):
    """Events from the start of `start` to the end of `end`, Beijing days, both inclusive; either may be open."""
    events = AuditEvent.objects.order_by("id")
    if start is not None:
        events = events.filter(occurred_at__gte=_midnight(start))
    if end is not None:
        events = events.filter(occurred_at__lt=_midnight(end + datetime.timedelta(days=1)))
    return events


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def label_of(action: str) -> str:
    refused = action.endswith(".refused")
    label = history.ACTIONS.get(action.removesuffix(".refused"), action)
    return f"{label}（被拒绝）" if refused else label


def row_of(event: AuditEvent) -> list:
    values = {
        "occurred_at": timezone.localtime(event.occurred_at).isoformat(),
        "label": label_of(event.action),
        "project_id": event.project_id or "",
        "ip_address": event.ip_address or "",
        "payload": event.canonical_payload().decode(),
    }
    return [values[name] if name in values else getattr(event, name) for name, _ in COLUMNS]


def rows(events):
    """The header, then one row per event, read in chunks (an export of years stays in bounded memory)."""
    yield [title for _, title in COLUMNS]
    for event in events.iterator(chunk_size=CHUNK):
        yield row_of(event)


class _Echo:
    def write(self, value):
        return value


def csv_lines(events):
    """CSV text, line by line, for a StreamingHttpResponse; a BOM first so that Excel reads it as UTF-8."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    for row in rows(events):
        yield writer.writerow(row)


def xlsx_file(events):
    """The workbook, written row by row (openpyxl's write-only mode) into a temporary file, which the response
    streams out. Long texts are kept whole: a cell holds up to 32,767 characters, more than an event's payload."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("审计记录")
    for row in rows(events):
        sheet.append(row)
    out = tempfile.TemporaryFile()
    workbook.save(out)
    out.seek(0)
    return out


# ---------------------------------------------------------------- the chain check and its alarm


def check_chain(*, checked_by: str) -> AuditCheck:
    """Anchor the chains' heads, verify the chains and keep the result; a break raises the alarm."""
    anchor()
    report = verify_chain()
    check = AuditCheck.objects.create(
        intact=report.intact,
        events_checked=report.checked,
        report=report.describe()[:1000],
        checked_by=checked_by,
    )
    if not report.intact:
        raise_alarm(check)
    return check


def raise_alarm(check: AuditCheck):
    log.error("audit chain broken (check %s by %s): %s", check.pk, check.checked_by, check.report)
    recipients = [settings.OPERATIONS_EMAIL, *audit_administrator_emails()]
    send_mail(
        "[建设工程项目信息补录] 审计链断裂：审计记录可能被篡改",
        f"{timezone.localtime(check.checked_at):%Y-%m-%d %H:%M} 核验审计链（{check.checked_by}）：\n{check.report}\n\n"
        "请审计管理员用外部归档的导出文件比对，并报告安全管理员。",
        settings.DEFAULT_FROM_EMAIL,
        [address for address in recipients if address],
        fail_silently=True,  # the log line and the banner stand even if the mail server is down
    )


def audit_administrator_emails() -> list[str]:
    return list(
        get_user_model()
        .objects.filter(is_active=True, administrator_duty__duty=Duty.AUDIT)
        .exclude(email="")
        .values_list("email", flat=True)
    )


def latest_check() -> AuditCheck | None:
    return AuditCheck.objects.order_by("-id").first()

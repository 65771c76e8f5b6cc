"""Audit retention (projects/retention.py): events are never changed or deleted, the audit administrator exports a
date range as CSV or Excel with the chain's hashes, and the daily check from beat raises the alarm on a break (an
ERROR log line, an e-mail, the console's banner) — called directly, and through a real worker and beat."""

import csv
import datetime
import hashlib
import io
import logging

import pytest
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook

from backfill_portal import settings as production_settings
from projects import audit, tasks
from projects.models import AppendOnlyError, AuditCheck, AuditEvent
from tests.builders import make_city_user, make_enterprise_user
from tests.processes import needs_postgresql_and_redis, wait_for
from tests.test_admin_duties import make_administrator
from tests.test_audit import TABLE, behind_the_back

BEIJING = datetime.timezone(datetime.timedelta(hours=8))


def beijing(*args) -> datetime.datetime:
    """A Beijing wall-clock time, as the aware UTC datetime timezone.now() gives (and the hash is made of)."""
    return datetime.datetime(*args, tzinfo=BEIJING).astimezone(datetime.UTC)


def record_at(monkeypatch, when, actor, message):
    """An event as record() writes it, at a time of the test's choosing (its default clock, for this one call)."""
    # Field.get_default() calls the cached _get_default, not `default`.
    monkeypatch.setattr(AuditEvent._meta.get_field("occurred_at"), "_get_default", lambda: when)
    event = audit.record(actor, "project.note", None, message=message)
    monkeypatch.undo()
    return event


@pytest.fixture
def trail(db, monkeypatch):
    clerk = audit.Actor(make_enterprise_user(username="clerk"), "192.0.2.7")
    return [
        record_at(monkeypatch, beijing(2026, 11, 9, 23, 59), clerk, "十一月九日深夜"),
        record_at(monkeypatch, beijing(2026, 11, 10, 0, 1), clerk, "十一月十日凌晨"),
        record_at(monkeypatch, beijing(2026, 11, 30, 23, 30), clerk, "十一月三十日夜"),
        record_at(monkeypatch, beijing(2026, 12, 1, 0, 10), clerk, "十二月一日凌晨"),
    ]


@pytest.fixture
def auditor(db):
    return make_administrator("aud", "audit")


# ---------------------------------------------------------------- never changed or deleted


def test_the_model_refuses_to_change_or_delete_an_event_on_any_database(trail):
    event = trail[0]
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(message="改过")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.bulk_update([event], ["message"])
    event.message = "改过"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()

    assert AuditEvent.objects.get(pk=event.pk).message == "十一月九日深夜"
    assert AuditEvent.objects.count() == 4


# ---------------------------------------------------------------- the export


def export(client, **params):
    response = client.get("/admin/projects/auditevent/export/", params)
    return response, b"".join(response.streaming_content) if response.streaming else response.content


def test_the_csv_export_holds_the_range_with_hashes_an_archive_can_check_alone(client, trail, auditor):
    client.force_login(auditor)

    response, body = export(client, start="2026-11-10", end="2026-11-30", format="csv")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="audit-2026-11-10-2026-11-30.csv"'
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    header, *rows = list(csv.reader(io.StringIO(text[1:])))
    assert header[-3:] == ["前一条记录的哈希", "哈希（SHA-256）", "被哈希的内容（UTF-8 JSON）"]
    assert [row[header.index("说明")] for row in rows] == [
        "十一月十日凌晨",
        "十一月三十日夜",
    ]  # Beijing days, inclusive
    for row, event in zip(rows, trail[1:3], strict=True):
        previous_hash, hash_, payload = row[-3:]
        assert hashlib.sha256(payload.encode()).hexdigest() == hash_ == event.hash
        assert previous_hash == event.previous_hash
        assert row[header.index("时间（北京时间）")] == timezone.localtime(event.occurred_at).isoformat()
        assert row[header.index("IP地址")] == "192.0.2.7" and row[header.index("操作人")] == "clerk"
    assert rows[1][-3] == rows[0][-2]  # the chain: each row names the hash of the one before


def test_the_excel_export_holds_the_same_rows_and_hashes(client, trail, auditor):
    client.force_login(auditor)

    response, body = export(client, start="2026-11-01", format="xlsx")

    assert response.status_code == 200 and response["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(body), read_only=True)["审计记录"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[0] == "序号" and header[-2] == "哈希（SHA-256）"
    # From 2026-11-01 with no end: the four events, then the export's own event (today).
    assert [row[0] for row in rows[:4]] == [event.pk for event in trail]
    assert [row[-2] for row in rows[:4]] == [event.hash for event in trail]
    assert all(hashlib.sha256(row[-1].encode()).hexdigest() == row[-2] for row in rows)
    assert rows[-1][5] == "audit.export"


def test_each_export_is_itself_audited(client, trail, auditor):
    client.force_login(auditor)

    export(client, start="2026-11-10", end="2026-11-30", format="csv")

    event = AuditEvent.objects.get(action="audit.export")
    assert event.actor == auditor and event.changes == {
        "start": "2026-11-10",
        "end": "2026-11-30",
        "format": "csv",
    }


@pytest.mark.parametrize(
    "params,message",
    [
        ({"start": "2026-13-01", "format": "csv"}, "输入一个有效的日期。"),
        ({"start": "2026-12-01", "end": "2026-11-01", "format": "csv"}, "起始日期不能晚于截止日期。"),
        ({"format": "pdf"}, "选择一个有效的选项"),
    ],
)
def test_a_bad_range_or_format_is_refused_in_chinese_and_exports_nothing(
    client, trail, auditor, params, message
):
    client.force_login(auditor)

    response, body = export(client, **params)

    assert response.status_code == 400 and message in body.decode()
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_the_export_page_and_file_are_the_audit_administrators_only(client, trail):
    for user in (
        make_administrator("sys", "system"),
        make_administrator("sec", "security"),
        make_city_user(),
    ):
        client.force_login(user)
        assert export(client, format="csv")[0].status_code == 403
    assert AuditEvent.objects.filter(action="audit.export.refused").count() == 3


# ---------------------------------------------------------------- the daily check and its alarm


def tamper(event):
    behind_the_back(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["事后改过", event.pk])


def test_the_daily_check_is_scheduled_every_night_from_beat():
    entry = production_settings.CELERY_BEAT_SCHEDULE["verify-audit-chain"]
    assert entry["task"] == tasks.verify_audit_chain.name
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {15})


def test_an_intact_chain_raises_no_alarm(client, trail, auditor, caplog):
    # The check anchors the chains' heads first: the 4 events and the anchor.
    assert tasks.verify_audit_chain() == {"intact": True, "events": 5}
    assert AuditEvent.objects.filter(action=audit.ANCHOR_ACTION).count() == 1
    client.force_login(auditor)
    assert "audit-chain-alarm" not in client.get("/admin/").content.decode()
    assert mail.outbox == [] and not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_the_daily_check_finds_a_tampered_event_and_alarms_by_log_mail_and_banner(
    client, trail, auditor, caplog, settings
):
    settings.OPERATIONS_EMAIL = "ops@example.gov.cn"
    auditor.email = "aud@example.gov.cn"
    auditor.save()
    tamper(trail[1])

    with caplog.at_level(logging.ERROR, logger="projects.retention"):
        result = tasks.verify_audit_chain()

    assert result == {"intact": False, "events": 1}
    check = AuditCheck.objects.get()
    assert not check.intact and check.checked_by == "每日定时核验" and f"#{trail[1].pk}" in check.report
    assert [r.levelname for r in caplog.records] == ["ERROR"] and f"#{trail[1].pk}" in caplog.records[
        0
    ].getMessage()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@example.gov.cn", "aud@example.gov.cn"]
    assert "审计链断裂" in mail.outbox[0].subject and f"#{trail[1].pk}" in mail.outbox[0].body
    for user in (auditor, make_city_user(username="city")):
        client.force_login(user)
        banner = client.get("/admin/").content.decode()
        assert 'id="audit-chain-alarm"' in banner and f"#{trail[1].pk}" in banner, user


def test_the_audit_administrator_runs_the_check_from_the_console(client, trail, auditor):
    client.force_login(auditor)

    response = client.post("/admin/projects/auditevent/verify/", follow=True)

    assert "审计链完整：共5条记录" in response.content.decode()  # the 4 events and the check's anchor
    assert AuditCheck.objects.get().checked_by == "aud"
    assert AuditEvent.objects.filter(action="audit.verify", actor=auditor).exists()


@needs_postgresql_and_redis
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_real_worker_run_the_check_and_alarm_on_a_break(
    celery_stack, client, tmp_path, monkeypatch
):
    clerk = audit.Actor(make_enterprise_user(username="clerk"), "192.0.2.7")
    events = [audit.record(clerk, "project.note", None, message=f"第{n}条") for n in range(3)]
    auditor = make_administrator("aud", "audit")
    tamper(events[1])
    outbox = tmp_path / "mail"
    env = {
        "AUDIT_VERIFY_SECONDS": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(outbox),
        "OPERATIONS_EMAIL": "ops@example.gov.cn",
    }
    worker = celery_stack.worker(concurrency=1, **env)
    celery_stack.beat(**env)

    wait_for(
        lambda: AuditCheck.objects.exists(), timeout=60, what="the check from beat", logs=celery_stack.logs()
    )

    check = AuditCheck.objects.order_by("id").first()
    assert not check.intact and f"#{events[1].pk}" in check.report
    wait_for(lambda: "audit chain broken" in worker.log(), timeout=10, what="the ERROR line", logs=[worker])
    assert "ERROR" in worker.log()

    # The file backend creates the file before it writes the message: wait for the message, not the file.
    def sent_mail():
        return "\n".join(path.read_text() for path in outbox.iterdir()) if outbox.exists() else ""

    wait_for(lambda: "Subject:" in sent_mail(), timeout=10, what="the e-mail", logs=[worker])
    sent = sent_mail()
    assert "ops@example.gov.cn" in sent and "Subject:" in sent
    client.force_login(auditor)
    assert 'id="audit-chain-alarm"' in client.get("/admin/").content.decode()

"""The audit trail (谁录入，谁负责): `manage.py verify_audit` proves the hash chain intact or names the first event
that breaks it; on PostgreSQL the database itself refuses to update or delete an event; the history page shows
who did what, when, from where, field by field, to the record's enterprise and its reviewers only.

Tampering is done as an attacker with database access would: raw SQL, on PostgreSQL after disabling the
append-only trigger as the table's owner/superuser (which the trigger cannot prevent — the chain is what catches
it). The command is run as `manage.py` runs it, so its exit status is the one a cron job or CI sees.
"""

import io
import ipaddress
import re
import threading
import time

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import DatabaseError, connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from projects import audit
from projects import services as project_services
from projects.audit import Actor
from projects.models import AuditChainHead, AuditEvent, Status
from review import services as review_services
from tests.builders import make_enterprise_user, make_project, make_reviewer
from tests.needs import needs_service

pytestmark = pytest.mark.django_db

POSTGRES = connection.vendor == "postgresql"
TABLE = AuditEvent._meta.db_table
TRIGGER = "projects_auditevent_append_only"  # projects/migrations/0002_audit_chain_head.py


@pytest.fixture
def world(authorities, open_windows):
    yuzhong = authorities["500103"]
    clerk = make_enterprise_user(username="clerk-audit")
    reviewer = make_reviewer(yuzhong, username="reviewer-audit")
    return {"authority": yuzhong, "clerk": clerk, "reviewer": reviewer}


@pytest.fixture
def events(world):
    """A record's life through the services: created, a stage changed, submitted, approved — 4+ events."""
    clerk, reviewer = Actor(world["clerk"], "192.0.2.10"), Actor(world["reviewer"], "192.0.2.20")
    project = make_project(world["clerk"].membership.enterprise, world["clerk"], world["authority"])
    project_services.save_stage(
        actor=clerk, project=project, stage_code="registration", data={"scale": "地上20层，地下2层"}
    )
    project_services.submit_project(actor=clerk, project=project)
    review_services.approve(actor=reviewer, project=project, comment="同意公示")
    audit.record(clerk, "project.note", project, project=project, message="补充说明")
    audit.record(clerk, "project.note", project, project=project, message="再次补充")
    found = list(AuditEvent.objects.order_by("id"))
    assert len(found) >= 5
    return found


def verify_audit(capsys):
    """`verify_audit` as call_command runs it: (exit status manage.py would give, stdout, stderr's message)."""
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue().strip(), str(error)
    return 0, out.getvalue().strip(), ""


def behind_the_back(sql, params=()):
    """Raw SQL on the audit table, as someone with database access would run it. On PostgreSQL the append-only
    trigger is disabled around it (superuser or table owner) and enabled again."""
    with connection.cursor() as cursor:
        if POSTGRES:
            disable_append_only(cursor)
        cursor.execute(sql, params)
        if POSTGRES:
            enable_append_only(cursor)


def disable_append_only(cursor):
    # The test's own transaction still holds deferred foreign-key checks of the events it wrote, and PostgreSQL
    # will not ALTER a table with pending trigger events: run those checks now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TRIGGER}")


def enable_append_only(cursor):
    cursor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TRIGGER}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def broken_event_id(err):
    found = re.search(r"第一条有问题的记录：#(\d+)（", err)
    assert found, err
    return int(found.group(1))


# ---------------------------------------------------------------- verify_audit


def test_it_says_an_intact_chain_is_intact_and_exits_0(events, capsys):
    status, out, err = verify_audit(capsys)

    assert status == 0 and err == ""
    assert out == f"审计链完整：共{len(events)}条记录"


@pytest.mark.django_db(
    transaction=True
)  # manage.py closes the connection when done: no test transaction to lose
def test_manage_py_verify_audit_exits_0_when_intact_and_1_naming_the_event_when_not(world, capsys):
    actor = Actor(world["clerk"], "192.0.2.10")
    written = [audit.record(actor, "project.note", None, message=f"第{n}条") for n in range(3)]

    def manage_py():
        try:
            execute_from_command_line(["manage.py", "verify_audit"])
        except SystemExit as exit_:
            return exit_.code, *capsys.readouterr()
        return 0, *capsys.readouterr()

    assert manage_py() == (0, "审计链完整：共3条记录\n", "")

    behind_the_back(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["改过", written[1].pk])
    status, out, err = manage_py()

    assert (status, out) == (1, "")
    assert err.startswith(f"CommandError: 审计链断裂，第一条有问题的记录：#{written[1].pk}（")


def test_an_empty_trail_is_intact(capsys):
    assert AuditEvent.objects.count() == 0

    assert verify_audit(capsys) == (0, "审计链完整：共0条记录", "")


def test_it_names_an_event_altered_behind_the_applications_back_and_exits_non_zero(events, capsys):
    target = events[2]
    behind_the_back(f"UPDATE {TABLE} SET message = %s WHERE id = %s", ["审核通过（已改）", target.pk])
    assert AuditEvent.objects.get(pk=target.pk).message == "审核通过（已改）"

    status, out, err = verify_audit(capsys)

    assert status != 0 and out == ""
    assert broken_event_id(err) == target.pk
    when = timezone.localtime(target.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    assert f"#{target.pk}（时间 {when}，操作人 {target.actor_username}，操作 {target.action}）" in err
    assert "其内容与哈希值不符：该记录在写入后被修改。" in err


@pytest.mark.parametrize(
    "column, value",
    [("actor_username", "someone-else"), ("ip_address", "198.51.100.1"), ("changes", '{"status": [1, 2]}')],
)
def test_it_catches_a_change_to_any_column_the_hash_covers(events, capsys, column, value):
    target = events[1]
    behind_the_back(f"UPDATE {TABLE} SET {column} = %s WHERE id = %s", [value, target.pk])

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == target.pk


def test_it_catches_an_event_altered_with_its_hash_recomputed_at_the_next_event(events, capsys):
    """Rewriting an event and its own hash hides nothing: the next event still names the old hash."""
    target, following = events[1], events[2]
    event = AuditEvent.objects.get(pk=target.pk)
    event.message = "改写后的说明"
    behind_the_back(
        f"UPDATE {TABLE} SET message = %s, hash = %s WHERE id = %s",
        [event.message, event.compute_hash(), target.pk],
    )

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == following.pk
    assert f"上一条记录 #{target.pk} 的哈希不符" in err and f"#{target.pk} 被修改后重算了哈希" in err


def test_it_names_the_event_after_a_deleted_one_in_the_middle(events, capsys):
    before, gone, after = events[1], events[2], events[3]
    behind_the_back(f"DELETE FROM {TABLE} WHERE id = %s", [gone.pk])

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == after.pk
    assert f"它记录的前一哈希与上一条记录 #{before.pk} 的哈希不符：两者之间的记录被删除" in err


def test_it_notices_the_first_event_deleted(events, capsys):
    behind_the_back(f"DELETE FROM {TABLE} WHERE id = %s", [events[0].pk])

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == events[1].pk
    assert "更早的记录被删除" in err


def test_it_notices_the_newest_events_deleted_and_names_the_last_one_kept(events, capsys):
    kept = events[-3]
    behind_the_back(f"DELETE FROM {TABLE} WHERE id > %s", [kept.pk])

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == kept.pk
    assert "这是现存的最后一条记录，但链头记录的最后哈希不是它的：其后的最新记录被删除" in err


def test_it_notices_every_event_deleted_even_by_a_truncate_no_trigger_sees(events, capsys):
    if POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute(
                "SET CONSTRAINTS ALL IMMEDIATE"
            )  # PostgreSQL will not truncate under pending checks
            cursor.execute(f"TRUNCATE {TABLE}")  # the append-only trigger is a row trigger: it is not asked
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        behind_the_back(f"DELETE FROM {TABLE}")
    assert not AuditEvent.objects.exists()

    status, _out, err = verify_audit(capsys)

    assert status != 0 and "审计记录为空，但链头记录着最后一条记录的哈希：全部记录被删除。" in err


def test_it_notices_the_head_erased_under_a_chain(events, capsys):
    AuditChainHead.objects.filter(chain=events[-1].chain).update(last_hash="")

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == events[-1].pk and "链头被篡改" in err


def test_it_keeps_verifying_after_new_events_are_appended(events, capsys):
    """The chain goes on growing after a check: the next check still passes."""
    assert verify_audit(capsys)[0] == 0
    audit.record(Actor(events[0].actor, "192.0.2.10"), "project.note", None, message="之后的记录")

    assert verify_audit(capsys) == (0, f"审计链完整：共{len(events) + 1}条记录", "")


@pytest.mark.parametrize(
    "address",
    [
        "192.0.2.1",
        "2001:db8::1",
        "2001:0DB8:0000:0000:0000:0000:0000:0001",  # uncompressed, upper case: inet gives it back compressed
        "::ffff:192.0.2.1",
        "::ffff:c000:201",  # the same, hex tail: inet prints it dotted
        "::c000:201",  # IPv4-compatible (deprecated): inet prints it dotted too
        "fe80::1%eth0",  # a zone id: inet has none
        "::1",
    ],
)
def test_an_event_from_any_form_of_ip_address_still_verifies_after_a_reload(world, capsys, address):
    """The hash is made before the insert: the address must be stored in the form the database gives back,
    or an honest event would read as tampered with on PostgreSQL."""
    event = audit.record(Actor(world["clerk"], address), "project.note", None, message="来自某地址")

    reloaded = AuditEvent.objects.get(pk=event.pk)
    assert ipaddress.ip_address(reloaded.ip_address) == ipaddress.ip_address(address.split("%")[0])
    assert reloaded.compute_hash() == reloaded.hash
    assert verify_audit(capsys)[0] == 0


def test_an_address_that_is_not_one_is_not_stored(world):
    event = audit.record(Actor(world["clerk"], "unknown"), "project.note", None)

    assert AuditEvent.objects.get(pk=event.pk).ip_address is None


# ---------------------------------------------------------------- PostgreSQL: the table is append-only

postgres_only = needs_service(
    POSTGRES, reason="the append-only trigger is PostgreSQL's (SQLite has no triggers in this project)"
)


@postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET message = 'x'",
        f"DELETE FROM {TABLE}",
    ],
    ids=["update", "delete"],
)
def test_postgres_refuses_a_plain_update_or_delete_of_an_event(events, statement):
    with pytest.raises(DatabaseError, match="audit events are append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)

    assert list(AuditEvent.objects.order_by("id")) == events
    assert [e.message for e in AuditEvent.objects.order_by("id")] == [e.message for e in events]


@postgres_only
def test_postgres_refuses_orm_updates_and_deletes_of_events_too(events):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).update(message="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=events[0].pk).delete()

    assert AuditEvent.objects.get(pk=events[0].pk).message == events[0].message


@postgres_only
def test_postgres_tampering_needs_the_trigger_disabled_and_the_chain_still_names_it(events, capsys):
    target = events[3]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass", [TRIGGER, TABLE]
        )
        assert cursor.fetchone() == ("O",)  # enabled
        disable_append_only(cursor)
        cursor.execute(f"UPDATE {TABLE} SET actor_username = 'nobody' WHERE id = %s", [target.pk])
        enable_append_only(cursor)
        cursor.execute(
            "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass", [TRIGGER, TABLE]
        )
        assert cursor.fetchone() == ("O",)  # on again: the next plain UPDATE is refused as before
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=target.pk).update(actor_username="again")

    status, _out, err = verify_audit(capsys)

    assert status != 0 and broken_event_id(err) == target.pk and "操作人 nobody" in err


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "held", [AuditChainHead._meta.db_table, TABLE], ids=["before reading the head", "before the walk"]
)
def test_events_appended_while_it_verifies_are_not_taken_for_a_deleted_tail(world, held):
    """The portal stays open while verify_audit runs. Another session holds a table the check reads (the head,
    or the events) while two more events are appended and committed: whenever they land, the check must not
    take them for a deleted tail (reading the head after the walk would: it then names a hash the walk never
    saw)."""
    actor = Actor(world["clerk"], "192.0.2.10")
    for n in range(3):
        audit.record(actor, "project.note", None, message=f"第{n}条")
    locked, appended = threading.Event(), threading.Event()
    release = threading.Event()

    def writer():
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"LOCK TABLE {held} IN ACCESS EXCLUSIVE MODE")  # even readers wait
                locked.set()
                release.wait(timeout=10)
                for n in range(2):
                    audit.record(actor, "project.note", None, message=f"核验期间第{n}条")
            appended.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    assert locked.wait(timeout=10)
    result = {}

    def verifier():
        try:
            result["report"] = audit.verify_chain()
        finally:
            connections.close_all()

    checker = threading.Thread(target=verifier)
    checker.start()
    waiting_for_lock(minimum=1)  # the check waits for the held table
    release.set()
    thread.join(timeout=20)
    checker.join(timeout=20)

    assert appended.is_set()
    report = result["report"]
    assert report.intact, report.describe()
    assert report.checked == 5


def waiting_for_lock(minimum):
    deadline = time.monotonic() + 10
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= minimum:
                return
        assert time.monotonic() < deadline, "the check never waited for the table"
        time.sleep(0.01)


# ---------------------------------------------------------------- the history page


def test_the_history_page_shows_who_when_where_and_the_field_diff_to_the_enterprise(client, world, events):
    client.force_login(world["clerk"])
    project = events[0].project

    body = client.get(reverse("projects:project_history", args=[project.pk])).content.decode()

    stage_change = next(e for e in events if e.action == "stage.update")
    when = timezone.localtime(stage_change.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    row = re.search(rf"<tr>\s*<td>{when}</td>.*?</tr>", body, re.S)
    assert row, body
    cells = re.sub(r"\s+", " ", row.group(0))
    assert "<td>clerk-audit</td>" in cells
    assert f"<td>{world['clerk'].membership.enterprise.name}</td>" in cells
    assert "<td>192.0.2.10</td>" in cells
    assert "<strong>建设规模</strong>：<del>地上18层，地下2层</del> → <ins>地上20层，地下2层</ins>" in cells
    # the reviewer's decision is there too, in plain words (never its code), with the status change in Chinese
    assert "<td>reviewer-audit</td>" in body and "<td>渝中区</td>" in body and "审核通过" in body
    assert "review.approve" not in body
    assert "<strong>状态</strong>：<del>已提交待审核</del> → <ins>公示中</ins>" in body


def test_the_history_page_shows_the_same_to_a_reviewer_of_the_records_authority(client, world, events):
    client.force_login(world["reviewer"])
    project = events[0].project
    assert project.status == Status.IN_NOTICE

    response = client.get(reverse("projects:project_history", args=[project.pk]))

    assert response.status_code == 200
    assert [row.event.pk for row in response.context["events"]] == [
        e.pk for e in events if e.project_id == project.pk
    ]
    assert "<ins>地上20层，地下2层</ins>" in response.content.decode()


def test_the_history_page_is_refused_to_another_enterprise_and_another_authority(
    client, world, authorities, events
):
    project = events[0].project
    outsiders = [make_enterprise_user(username="clerk-other"), make_reviewer(authorities["500104"])]

    for outsider in outsiders:
        client.force_login(outsider)
        response = client.get(reverse("projects:project_history", args=[project.pk]))
        assert response.status_code == 404
        assert "clerk-audit" not in response.content.decode() and "地上20层" not in response.content.decode()


# ---------------------------------------------------------------- refusals_recorded / audits_refusals


@pytest.mark.django_db
def test_a_refusal_is_recorded_after_the_refused_work_rolls_back_and_the_chain_holds(authorities):
    from django.core.exceptions import PermissionDenied

    from projects.models import BackfillWindow

    user = make_enterprise_user(username="refused-clerk")
    actor = Actor(user=user, ip_address="10.0.0.9")

    with pytest.raises(PermissionDenied, match="不可以"):
        with audit.refusals_recorded(actor, "window.change", project=None):
            with transaction.atomic():
                BackfillWindow.objects.create(
                    enterprise_kind="construction", opens_on="2018-01-01", closes_on="2018-12-31", basis="x"
                )
                raise PermissionDenied("不可以")

    assert not BackfillWindow.objects.exists()  # the refused work rolled back
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.message) == (user, "window.change.refused", "不可以")
    assert (event.organisation, event.ip_address) == (user.membership.enterprise.name, "10.0.0.9")
    assert audit.verify_chain().intact


@pytest.mark.django_db
def test_a_404_stays_a_404_and_an_exception_not_listed_is_not_recorded():
    from django.http import Http404

    with pytest.raises(Http404):
        with audit.refusals_recorded(None, "project.view", refusals=(Http404,), message_of=lambda _e: "没有"):
            raise Http404("no")
    with pytest.raises(ValueError):
        with audit.refusals_recorded(None, "project.view", refusals=(Http404,)):
            raise ValueError("a bug, not a refusal")

    assert list(AuditEvent.objects.values_list("action", "message")) == [("project.view.refused", "没有")]


def test_the_decorator_keeps_the_services_name_and_docstring():
    from publicity import services as publicity_services

    for service in (
        project_services.add_evidence,
        project_services.submit_project,
        publicity_services.dismiss_objection,
        publicity_services.uphold_objection,
    ):
        assert service.__wrapped__ is not None
        assert service.__name__ == service.__wrapped__.__name__
    assert "notice resumes" in publicity_services.dismiss_objection.__doc__

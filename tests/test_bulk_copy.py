"""backfill_portal/bulk_copy.py: new rows written with PostgreSQL's COPY are the rows bulk_create writes, value for
value, with ids from the sequence in the list's order, Django's errors, and the COPY counted as a query."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Value
from django.db.models.functions import Upper
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backfill_portal.bulk_copy import copy_new_rows, take_ids
from projects.models import STAGE_MODELS, AccountSecurity, AuditEvent, Project
from tests.builders import make_project
from tests.needs import needs_service

pytestmark = [
    pytest.mark.django_db,
    needs_service(connection.vendor == "postgresql", reason="COPY is PostgreSQL's (elsewhere: bulk_create)"),
]

# Texts COPY's own format escapes or could mistake: its NULL marker, tabs, line breaks, backslashes, quotes.
TRICKY = [
    "\\N",
    "tab\there",
    "line\nbreak\r\nend",
    "back\\slash\\",
    'a "quoted" word, {braces}',
    "重庆市渝中区 全角\u3000空格\u2028",
    "NULL",
    "",
]


def unique_names(model) -> set:
    names = {f.attname for f in model._meta.concrete_fields if f.unique}
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint):
            names |= {model._meta.get_field(name).attname for name in constraint.fields}
    return names


def copy_of(instance, tag: str, **values):
    """An unsaved copy of `instance`: every concrete value but the primary key, the texts made tricky, each unique
    text marked with `tag` (two copies must not collide), then `values`."""
    model = type(instance)
    unique = unique_names(model)
    fields, texts = {}, 0
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(instance, field.attname)
        if field.attname in unique and isinstance(value, str) and value:
            value = (tag + value)[: field.max_length]
        elif isinstance(field, models.CharField | models.TextField) and not field.choices and value:
            value = TRICKY[texts % len(TRICKY)][: field.max_length]
            texts += 1
        fields[field.attname] = value
    return model(**(fields | values))


def stored(instance) -> dict:
    """The row as read back, without what differs on purpose: the id, the project it hangs on, the unique texts,
    and the times pre_save gives (auto_now: each copy's own moment, checked to be set now)."""
    model = type(instance)
    row = model.objects.filter(pk=instance.pk).values().get()
    stamped = {
        f.attname
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    for name in stamped:
        assert timezone.now() - row[name] < datetime.timedelta(minutes=1), name
    leave_out = unique_names(model) | stamped | {"id", "project_id"}
    return {name: value for name, value in row.items() if name not in leave_out}


def test_a_project_and_its_six_stages_are_stored_as_bulk_create_stores_them(clerk, yuzhong, open_windows):
    source = make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False)
    by_bulk_create = copy_of(source, "A", total_investment=Decimal("12345678.90"))
    by_copy = copy_of(source, "B", total_investment=Decimal("12345678.90"))
    Project.objects.bulk_create([by_bulk_create])
    copy_new_rows(Project, [by_copy])
    assert stored(by_copy) == stored(by_bulk_create)
    texts = {value for value in stored(by_copy).values() if isinstance(value, str)}
    for code, model in STAGE_MODELS.items():
        stage = getattr(source, code)
        first, second = (
            copy_of(stage, "A", project_id=by_bulk_create.pk),
            copy_of(stage, "B", project_id=by_copy.pk),
        )
        model.objects.bulk_create([first])
        copy_new_rows(model, [second])
        assert stored(second) == stored(first), code
        assert second.project_id == by_copy.pk
        texts |= {value for value in stored(second).values() if isinstance(value, str)}
    assert set(TRICKY) <= texts  # every tricky text went through COPY somewhere


def test_audit_events_are_stored_as_bulk_create_stores_them(clerk):
    changes = {
        "name": [None, '渝中区\t示范\n综合楼 \\N "工程"'],
        "amount": [None, "12345678.90"],
        "members": [None, [{"name": "某公司", "code": "91500103MA5U000001"}]],
        "flag": [True, False],
        "nothing": [None, None],
    }
    made = []
    for tag in ("A", "B"):
        made.append(
            AuditEvent(
                occurred_at=timezone.now().replace(microsecond=123456),
                actor=clerk,
                actor_username=clerk.username,
                organisation="某\t建设\\公司",
                ip_address="2001:0DB8::0001",  # stored as 2001:db8::1 by either
                action="stage.create",
                object_type="registrationstage",
                object_id="42",
                changes=changes,
                message=TRICKY[2],
                chain=-3,
                previous_hash="",
                hash=tag * 64,
            )
        )
    AuditEvent.objects.bulk_create([made[0]])
    copy_new_rows(AuditEvent, [made[1]])
    first, second = stored(made[0]), stored(made[1])
    assert second == first
    assert second["ip_address"] == "2001:db8::1" and second["changes"] == changes


def test_ids_come_from_the_sequence_in_the_lists_order_and_the_instances_are_saved(clerk):
    events = [
        AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash=f"{n:064d}")
        for n in range(5)
    ]
    assert copy_new_rows(AuditEvent, events) is events
    ids = [event.pk for event in events]
    assert None not in ids and ids == sorted(ids) and len(set(ids)) == 5
    assert all(not event._state.adding and event._state.db == "default" for event in events)
    assert list(AuditEvent.objects.filter(pk__in=ids).values_list("hash", flat=True).order_by("id")) == [
        e.hash for e in events
    ]
    # The sequence goes on after the copied ids: the next row inserted the usual way comes after them.
    later = AuditEvent.objects.create(
        actor_username="x", action="a", object_type="t", chain=-1, hash="f" * 64
    )
    assert later.pk > ids[-1]


def test_a_unique_value_taken_raises_djangos_integrity_error_and_writes_nothing():
    AuditEvent.objects.create(actor_username="x", action="a", object_type="t", chain=-1, hash="e" * 64)
    before = AuditEvent.objects.count()
    events = [
        AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash=h * 64) for h in "de"
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_new_rows(AuditEvent, events)
    assert AuditEvent.objects.count() == before


def test_an_unsaved_related_instance_is_refused_as_bulk_create_refuses_it(clerk):
    unsaved = Project(name="未保存")
    event = AuditEvent(actor_username="x", action="a", object_type="t", project=unsaved, hash="c" * 64)
    with pytest.raises(ValueError, match="unsaved related object"):
        copy_new_rows(AuditEvent, [event])


def test_the_copy_is_counted_and_logged_as_a_query():
    events = [AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash="b" * 64)]
    with CaptureQueriesContext(connection) as captured:
        copy_new_rows(AuditEvent, events)
    statements = [q["sql"] for q in captured.captured_queries]
    assert len(statements) == 2, statements  # the ids, then the rows
    assert statements[1].startswith('COPY "projects_auditevent"') and statements[1].endswith("-- 1 rows")


def test_a_naive_datetime_goes_through_the_fields_own_preparation(clerk):
    """A value not of the field's own type is prepared by Django, as bulk_create would (here, made aware)."""
    naive = datetime.datetime(2020, 5, 6, 7, 8, 9)
    with pytest.warns(RuntimeWarning):
        AuditEvent.objects.bulk_create(
            [AuditEvent(occurred_at=naive, action="a", object_type="t", chain=-1, hash="9" * 64)]
        )
    with pytest.warns(RuntimeWarning):
        copy_new_rows(
            AuditEvent, [AuditEvent(occurred_at=naive, action="a", object_type="t", chain=-1, hash="8" * 64)]
        )
    times = set(
        AuditEvent.objects.filter(hash__in=["9" * 64, "8" * 64]).values_list("occurred_at", flat=True)
    )
    assert len(times) == 1


def test_the_ids_of_several_tables_are_taken_in_one_query_and_given_ids_are_kept(
    clerk, yuzhong, open_windows
):
    project = make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False)
    kept = AuditEvent(pk=10**9, actor_username="x", action="a", object_type="t", chain=-1, hash="7" * 64)
    events = [
        AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash=f"{n:064d}")
        for n in range(3)
    ]
    others = [Project(name=str(n)) for n in range(2)]
    with CaptureQueriesContext(connection) as captured:
        take_ids({AuditEvent: [events[0], kept, *events[1:]], Project: others})
    assert len(captured.captured_queries) == 1
    assert kept.pk == 10**9
    assert [e.pk for e in events] == sorted(e.pk for e in events) and len({e.pk for e in events}) == 3
    assert all(p.pk > project.pk for p in others) and others[0].pk < others[1].pk
    copy_new_rows(AuditEvent, [*events, kept])  # no second query for the ids
    assert AuditEvent.objects.filter(pk__in=[10**9, *(e.pk for e in events)]).count() == 4


def test_a_table_without_a_sequence_is_refused():
    from django.contrib.sessions.models import Session  # its key is a text, not an id from a sequence

    with pytest.raises(TypeError, match="no sequence"):
        take_ids({Session: [Session(session_data="")]})


def test_an_error_marks_the_callers_block_for_rollback_as_bulk_create_does_and_leaves_the_ids_unset():
    """Inside a block that catches the error, an inner atomic block rolls back to its savepoint and the outer one
    goes on, as after bulk_create's IntegrityError; the instances are left unsaved, without the ids given them."""
    AuditEvent.objects.create(actor_username="x", action="a", object_type="t", chain=-1, hash="6" * 64)
    events = [
        AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash=h * 64) for h in "56"
    ]
    with transaction.atomic():
        try:
            with transaction.atomic():
                copy_new_rows(AuditEvent, events)
        except IntegrityError:
            pass
        assert (
            AuditEvent.objects.filter(hash="5" * 64).count() == 0
        )  # the outer transaction still runs queries
    assert [e.pk for e in events] == [None, None] and all(e._state.adding for e in events)


def test_a_broken_transaction_is_refused_before_anything_is_sent():
    event = AuditEvent(pk=2 * 10**9, actor_username="x", action="a", object_type="t", chain=-1, hash="4" * 64)
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            copy_new_rows(AuditEvent, [event])


def test_an_expression_is_refused_and_nothing_is_written():
    events = [
        AuditEvent(actor_username="x", action="a", object_type="t", chain=-1, hash="3" * 64),
        AuditEvent(actor_username=Upper(Value("x")), action="a", object_type="t", chain=-1, hash="2" * 64),
    ]
    with pytest.raises(TypeError, match="expression"), transaction.atomic():
        copy_new_rows(AuditEvent, events)
    assert not AuditEvent.objects.filter(hash__in=["3" * 64, "2" * 64]).exists()
    assert [e.pk for e in events] == [None, None]


def test_an_amount_that_is_not_a_number_is_refused_as_bulk_create_refuses_it(clerk, yuzhong, open_windows):
    source = make_project(clerk.membership.enterprise, clerk, yuzhong, evidence=False, stages=False)
    refusals = []
    for write in (Project.objects.bulk_create, lambda objs: copy_new_rows(Project, objs)):
        project = copy_of(source, "N" if not refusals else "M", total_area=Decimal("NaN"))
        with pytest.raises(Exception) as refused, transaction.atomic():
            write([project])
        refusals.append(type(refused.value))
    assert refusals[0] is refusals[1]


def test_a_proxy_models_rows_are_copied_as_its_concrete_models():
    proxy = AccountSecurity(username="copied-through-a-proxy", password="!")
    copy_new_rows(AccountSecurity, [proxy])
    assert User.objects.get(pk=proxy.pk).username == "copied-through-a-proxy"

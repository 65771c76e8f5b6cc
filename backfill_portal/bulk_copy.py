"""New rows of one model written at once with PostgreSQL's COPY, as bulk_create would write them (docs/import.md,
"Batches written by COPY").

bulk_create sends a batch as one INSERT: Django prepares each value through its field (two to five calls a value),
psycopg writes every value into the statement's text (Django binds on the client side), and PostgreSQL parses that
text whole before it writes a row. For the bulk import's batches (213,000 values for 1,000 projects) that was about
half of the writes' time. `COPY … FROM STDIN` streams the rows instead: psycopg's C code writes each value as
PostgreSQL reads it, and the server writes rows while the rest are still being sent (on its own core). Every trigger,
constraint and index applies to a copied row as to an inserted one; foreign keys are checked at commit, as Django's
deferred constraints are for bulk_create.

`copy_new_rows(model, objs)` does what bulk_create does for new instances of a model with no parents (a proxy is
fine) and a key from a sequence: each instance's related fields made ready for its save (an unsaved related instance
refused), each field's pre_save (auto_now and the like), then the rows written, all or nothing (an atomic block
without a savepoint, as bulk_create's); the instances are left saved, with the primary keys the table's sequence
gave them, in the list's order (ids taken first, in one query); on an error they are left unsaved, without the ids
this call gave them. A value already of the type its field stores (a str in a text field, an int, a bool, a finite
Decimal, a date, an aware datetime, a JSON field's dict, list or str) goes to psycopg as it is (the JSON as
json.dumps with the field's encoder writes it), which is what the field's get_db_prep_save gives for it on
PostgreSQL; any other value goes through get_db_prep_save. What bulk_create writes as SQL rather than as a value —
an expression, a database default with no Python default (DatabaseDefault), a generated column — is not for this:
an expression is refused with a TypeError, generated columns are left to the database. Elsewhere than on PostgreSQL
(the embedded SQLite) it is bulk_create.

Errors are Django's (an IntegrityError for a unique number taken), so callers handle them as bulk_create's. The COPY
is logged and counted as a query where Django keeps its queries (connection.queries, CaptureQueriesContext); the
`django.db.backends` logger and the connection's execute_wrappers (which only benches use) do not see it.
"""

import datetime
import json
import time
from decimal import Decimal

from django.db import connections, transaction
from django.db.models import Field, JSONField
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

# Per internal type, the Python type a value is passed on as it is (exact type: a bool is not taken as an int, nor a
# datetime as a date).
_AS_IS = {
    "AutoField": int,
    "BigAutoField": int,
    "BigIntegerField": int,
    "BooleanField": bool,
    "CharField": str,
    "DateField": datetime.date,
    "DateTimeField": datetime.datetime,
    "DecimalField": Decimal,
    "EmailField": str,
    "IntegerField": int,
    "PositiveBigIntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "SlugField": str,
    "SmallIntegerField": int,
    "TextField": str,
}


class _Column:
    """How one concrete field's value is read from an instance and given to COPY."""

    __slots__ = ("field", "attname", "pre_save", "as_is", "is_json", "connection")

    def __init__(self, field, connection):
        self.field = field
        self.attname = field.attname
        # Field.pre_save is the attribute's value; a field overriding it (auto_now, …) is asked.
        self.pre_save = type(field).pre_save is not Field.pre_save
        stored = field.target_field if field.is_relation else field
        self.as_is = _AS_IS.get(stored.get_internal_type())
        # A JSONField whose values Django writes as json.dumps with its encoder (a subclass preparing them its own
        # way goes through get_db_prep_save).
        self.is_json = isinstance(field, JSONField) and type(field).get_prep_value is JSONField.get_prep_value
        self.connection = connection

    def value(self, obj):
        value = self.field.pre_save(obj, True) if self.pre_save else getattr(obj, self.attname)
        if value is None:
            return None
        kind = type(value)
        if kind is self.as_is:
            if kind is datetime.datetime:
                if timezone.is_aware(value):
                    return value
            elif kind is not Decimal or value.is_finite():
                return value
        elif self.is_json and kind in (dict, list, str):
            # What JSONField.get_db_prep_save gives (Jsonb of json.dumps with the field's encoder), as its text.
            return json.dumps(value, cls=self.field.encoder)
        if hasattr(value, "resolve_expression"):
            raise TypeError(
                f"copy_new_rows: {self.field.name} holds an expression ({value!r}); use bulk_create"
            )
        return self.field.get_db_prep_save(value, self.connection)


def take_ids(objs_by_model: dict, *, using: str = "default") -> None:
    """Give the instances without a primary key, {model: [instances]}, ids from their tables' sequences, in each
    list's order, in one query (before copy_new_rows, when a batch's rows of several tables need their ids first: a
    stage its project's, an audit event its stage's). Only on PostgreSQL; elsewhere bulk_create gives the ids."""
    connection = connections[using]
    for model in objs_by_model:
        if not isinstance(model._meta.pk, AutoFieldMixin):
            raise TypeError(f"take_ids: {model.__name__}'s primary key has no sequence")
    wanted = [(model, [obj for obj in objs if obj.pk is None]) for model, objs in objs_by_model.items()]
    wanted = [(model, objs) for model, objs in wanted if objs]
    if connection.vendor != "postgresql" or not wanted:
        return
    # One array of ids a table, each taken in ascending order.
    columns = ", ".join(
        "ARRAY(SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1)"
        for _model in wanted
    )
    # The table's name quoted (pg_get_serial_sequence reads it as SQL would), the column's as it is.
    params = [
        value
        for model, objs in wanted
        for value in (connection.ops.quote_name(model._meta.db_table), model._meta.pk.column, len(objs))
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}", params)
        arrays = cursor.fetchone()
    for (model, _objs), ids in zip(wanted, arrays, strict=True):
        if None in ids:  # pg_get_serial_sequence found no sequence owned by the column
            raise TypeError(f"take_ids: {model._meta.db_table}.{model._meta.pk.column} has no sequence")
    for (_model, objs), ids in zip(wanted, arrays, strict=True):
        for obj, pk in zip(objs, ids, strict=True):
            obj.pk = pk


def copy_new_rows(model, objs: list, *, using: str = "default") -> list:
    """Insert the new instances `objs` of `model` as bulk_create(objs) would, with COPY on PostgreSQL; returns them.
    Instances without a primary key are given one first (take_ids)."""
    connection = connections[using]
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return model._default_manager.using(using).bulk_create(objs)
    meta = model._meta
    for parent in meta.all_parents:  # bulk_create's refusal (a proxy's parent is its own concrete model)
        if parent._meta.concrete_model is not meta.concrete_model:
            raise ValueError("Can't bulk create a multi-table inherited model")
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    columns = [_Column(field, connection) for field in meta.concrete_fields if not field.generated]
    names = ", ".join(connection.ops.quote_name(column.field.column) for column in columns)
    sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
    given = [obj for obj in objs if obj.pk is None]
    try:
        # As bulk_create's: an error marks the caller's atomic block for rollback, and a broken transaction is
        # refused before anything is sent.
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            connection.validate_no_broken_transaction()
            take_ids({model: objs}, using=using)
            started = time.monotonic()
            with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
                for obj in objs:
                    copy.write_row([column.value(obj) for column in columns])
            if connection.queries_logged:
                connection.queries_log.append(
                    {"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - started:.3f}"}
                )
    except BaseException:
        for obj in given:
            obj.pk = None
        raise
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs

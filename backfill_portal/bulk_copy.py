"""New rows of one model written at once with PostgreSQL's COPY, as bulk_create would write them (docs/import.md,
"Batches written by COPY").

bulk_create sends a batch as one INSERT: Django prepares each value through its field (two to five calls a value),
psycopg writes every value into the statement's text (Django binds on the client side), and PostgreSQL parses that
text whole before it writes a row. For the bulk import's batches (213,000 values for 1,000 projects) that was about
half of the writes' time. `COPY … FROM STDIN` streams the rows instead: psycopg's C code writes each value as
PostgreSQL reads it, and the server writes rows while the rest are still being sent (on its own core). Every trigger,
constraint and index applies to a copied row as to an inserted one; foreign keys are checked at commit, as Django's
deferred constraints are for bulk_create.

`copy_new_rows(model, objs)` does what bulk_create does for new instances of a model with no parents: each instance's
related fields made ready for its save (an unsaved related instance refused), each field's pre_save (auto_now and
the like), then the rows written; the instances are left saved, with the primary keys the table's sequence gave them,
in the list's order (ids taken first, in one query). A value already of the type its field stores (a str in a text
field, an int, a bool, a Decimal, a date, an aware datetime) goes to psycopg as it is, which is what the field's
get_db_prep_save returns for it on PostgreSQL; any other value goes through get_db_prep_save. Elsewhere than on
PostgreSQL (the embedded SQLite) it is bulk_create.

Errors are Django's (an IntegrityError for a unique number taken), so callers handle them as bulk_create's, and the
COPY is logged and counted as a query where Django logs queries (the connection's execute_wrappers, which only
benches use, do not see it).
"""

import datetime
import json
import time
from decimal import Decimal

from django.db import connections
from django.db.models import Field
from django.db.models.fields import AutoFieldMixin

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
        self.is_json = field.get_internal_type() == "JSONField"
        self.connection = connection

    def value(self, obj):
        value = self.field.pre_save(obj, True) if self.pre_save else getattr(obj, self.attname)
        if value is None:
            return None
        kind = type(value)
        if kind is self.as_is and (kind is not datetime.datetime or value.tzinfo is not None):
            return value
        if self.is_json:
            # What JSONField.get_db_prep_save gives (Jsonb of json.dumps with the field's encoder), as its text.
            return json.dumps(value, cls=self.field.encoder)
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
    if meta.parents:
        raise ValueError("Can't bulk create a multi-table inherited model")  # bulk_create's refusal
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")
    take_ids({model: objs}, using=using)
    with connection.cursor() as cursor:
        columns = [_Column(field, connection) for field in meta.concrete_fields]
        names = ", ".join(connection.ops.quote_name(column.field.column) for column in columns)
        sql = f"COPY {connection.ops.quote_name(meta.db_table)} ({names}) FROM STDIN"
        started = time.monotonic()
        with connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for obj in objs:
                copy.write_row([column.value(obj) for column in columns])
        if connection.queries_logged:
            connection.queries_log.append(
                {"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - started:.3f}"}
            )
    for obj in objs:
        obj._state.adding = False
        obj._state.db = using
    return objs

"""A page's query compiled to SQL once per process and run again as it is (bench/README.md: Django building the
queryset and compiling the same SQL on every request was a fifth of an uncached /notices/, three times the time
PostgreSQL took to answer it).

`named_rows(key, make)` is `list(make())` for a queryset of `values_list(..., named=True)`: the first call for a key
builds the queryset and compiles it; later calls run the kept SQL with the kept parameters through the connection's
cursor (so the query is counted, logged and wrapped as any other) and make the same named tuples. The key must say
everything the SQL depends on (the caller's filters and page), as the arguments of a pure function: a query whose SQL
depends on anything else (the clock, a setting read while building it) is not for this. A query whose rows need
Django's converters (SQLite's dates), or that Django finds can match nothing, goes through the ORM every time.
The kept SQL is dropped when a setting changes (tests) and when more than KEPT_LIMIT keys were kept.

On PostgreSQL the kept SQL is the statement as Django's client-side binding sends it, its parameters written in
(Django's `compose_sql`, psycopg's own quoting), and it runs on a cursor whose statements psycopg prepares
(backfill_portal/database.py): a key's statement that ran DATABASE_PREPARE_THRESHOLD times on a connection is
planned once for it, not at each request (planning /notices/' page took three times its execution; a search's UNION
of trigram matches, 0.6–1.0 ms against its 0.1–4 ms: bench/README.md). With the parameters written in, a prepared
statement holds no parameter: its plan is the plan of those values, never a generic plan guessed for any search
word (a word in every name and a word in ten would want opposite plans). Its rows come in binary, read by psycopg's
loaders written in C, when every column is of a type whose value is the same read either way (BINARY_SAFE: a
timestamptz comes in UTC as Django reads it, as another tzinfo object of the same offset); otherwise in text, as
Django's own cursors read them.
"""

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.query import NamedValuesListIterable
from django.db.models.utils import create_namedtuple_class

from .database import preparing_cursor
from .kept import Kept

KEPT_LIMIT = 1024
# The columns' types whose values psycopg's binary loaders give as Django's text loaders do (not json, whose text
# Django keeps as it is, nor inet, which it keeps as text).
BINARY_SAFE = {
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "SmallIntegerField",
    "PositiveSmallIntegerField",
    "CharField",
    "TextField",
    "BooleanField",
    "DateField",
    "DateTimeField",
}

_kept = Kept(KEPT_LIMIT)
forget = _kept.forget


def named_rows(key, make) -> list:
    kept = _kept.get(key)
    if kept is None:
        queryset = make()
        kept = _compiled(queryset)
        if kept is None:
            return list(queryset)
        _kept.keep(key, kept)
    alias, sql, params, tuple_class, binary = kept
    cursor = connections[alias].cursor() if binary is None else preparing_cursor(alias, binary=binary)
    with cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    new = tuple.__new__
    return [new(tuple_class, row) for row in rows]


def _compiled(queryset):
    """(database alias, SQL, parameters, the rows' named tuple class, whether the rows come in binary: None on a
    database other than PostgreSQL), or None where the rows are not the database's own values (see the module's
    docstring)."""
    if queryset._iterable_class is not NamedValuesListIterable or not queryset._fields:
        raise TypeError("named_rows takes a values_list(..., named=True) queryset of named fields")
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    fields = [column[0] for column in compiler.select[: compiler.col_count]]
    if compiler.has_extra_select or compiler.get_converters(fields) or compiler.has_composite_fields(fields):
        return None
    tuple_class = create_namedtuple_class(*queryset._fields)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return queryset.db, sql, tuple(params), tuple_class, None
    binary = all(column.output_field.get_internal_type() in BINARY_SAFE for column in fields)
    # The parameters written in: the statement then runs without any (params None: its "%" are its own).
    return queryset.db, connection.ops.compose_sql(sql, params), None, tuple_class, binary

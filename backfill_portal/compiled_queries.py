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
"""

from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db import connections
from django.db.models.query import NamedValuesListIterable
from django.db.models.utils import create_namedtuple_class

KEPT_LIMIT = 1024

_kept: dict = {}


def forget(**kwargs):
    _kept.clear()


setting_changed.connect(forget, dispatch_uid="backfill_portal.compiled_queries.setting_changed")


def named_rows(key, make) -> list:
    kept = _kept.get(key)
    if kept is None:
        queryset = make()
        kept = _compiled(queryset)
        if kept is None:
            return list(queryset)
        if len(_kept) >= KEPT_LIMIT:
            _kept.clear()
        _kept[key] = kept
    alias, sql, params, tuple_class = kept
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    new = tuple.__new__
    return [new(tuple_class, row) for row in rows]


def _compiled(queryset):
    """(database alias, SQL, parameters, the rows' named tuple class), or None where the rows are not the
    database's own values (see the module's docstring)."""
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
    return queryset.db, sql, tuple(params), create_namedtuple_class(*queryset._fields)

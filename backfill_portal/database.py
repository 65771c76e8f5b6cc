"""A cursor for a hot query worth a prepared statement (publicity.performance.EntryRows): psycopg 3 binds its
parameters on the server, and prepares a statement that ran `prepare_threshold` times on the same connection
(settings.DATABASES' OPTIONS, DATABASE_PREPARE_THRESHOLD), so PostgreSQL then plans it once, not at every call.
Django's own cursors bind on the client (its default; OPTIONS "server_side_binding"), and psycopg never prepares
their statements: every other query is unchanged.

Its results come in PostgreSQL's binary format, read by psycopg's own loaders (written in C) rather than the text
ones Django puts on its connections: a timestamptz comes as an aware datetime in the connection's time zone (UTC, as
Django sets it), and a json or jsonb value decoded by json.loads, where Django's cursors give its text.

The cursor is wrapped as Django wraps its own: the query is logged under DEBUG and in tests (CaptureQueriesContext),
connection.execute_wrapper() sees it, and its errors are django.db.utils' errors. A prepared statement lives as long
as its connection: psycopg keeps the list per connection, so a new connection runs the query unprepared again until
the threshold, and with DATABASE_CONN_MAX_AGE=0 (a connection per request) nothing is ever prepared, which costs
nothing either. Without a threshold (DATABASE_PREPARE_THRESHOLD empty, as Django's default) nothing is prepared:
what a connection pooler in transaction mode that cannot pass prepared statements on needs (docs/architecture.md).
"""

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections


@cache
def _psycopg():
    """Django's psycopg cursor that binds on the server, and the binary format, imported once: psycopg is there
    only where the database is PostgreSQL."""
    from django.db.backends.postgresql.base import ServerBindingCursor
    from psycopg.pq import Format

    return ServerBindingCursor, Format.BINARY


def preparing_cursor():
    """A Django cursor whose statements psycopg prepares once they ran prepare_threshold times, its results in
    binary (PostgreSQL only)."""
    cursor_class, binary = _psycopg()
    connection = connections[DEFAULT_DB_ALIAS]
    # What connection.cursor() does (DatabaseWrapper._cursor()), with this cursor instead of the connection's
    # default one, which binds on the client.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = cursor_class(connection.connection)
        cursor.format = binary
        return connection._prepare_cursor(cursor)

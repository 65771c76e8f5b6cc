"""A cursor for a hot query worth a prepared statement (publicity.performance.EntryRows): psycopg 3 binds its
parameters on the server, and prepares a statement that ran `prepare_threshold` times on the same connection
(settings.DATABASES' OPTIONS, DATABASE_PREPARE_THRESHOLD), so PostgreSQL then plans it once, not at every call.
Django's own cursors bind on the client (its default; OPTIONS "server_side_binding"), and psycopg never prepares
their statements: every other query is unchanged.

Its results come in PostgreSQL's binary format, read by psycopg's own loaders (written in C) rather than the text
ones Django puts on its connections: a timestamptz comes as an aware datetime in the connection's time zone (UTC, as
Django sets it), and a json or jsonb value decoded by json.loads, where Django's cursors give its text.

The cursor is wrapped as Django wraps its own: the query is logged under DEBUG and in tests (CaptureQueriesContext;
its text once prepared too, see _psycopg), connection.execute_wrapper() sees it, and its errors are django.db.utils' errors. A prepared statement lives as long
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

    class PreparingCursor(ServerBindingCursor):
        """Django logs a query's text from the psycopg cursor's `_query` (DatabaseOperations.last_executed_query),
        which psycopg 3.3 sets when it sends a statement unprepared but not when it runs a prepared one: a prepared
        statement's text would be logged as None. Set here as psycopg sets it for the other."""

        def _send_query_prepared(self, name, pgq, *, binary=None):
            self._query = pgq
            super()._send_query_prepared(name, pgq, binary=binary)

    return PreparingCursor, Format.BINARY


def preparing_cursor(alias: str = DEFAULT_DB_ALIAS, *, binary: bool = True):
    """A Django cursor whose statements psycopg prepares once they ran prepare_threshold times, its results in
    binary, or with `binary=False` in text read by the loaders Django puts on its connections, as its own cursors
    read them (PostgreSQL only)."""
    cursor_class, binary_format = _psycopg()
    connection = connections[alias]
    # What connection.cursor() does (DatabaseWrapper._cursor()), with this cursor instead of the connection's
    # default one, which binds on the client.
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = cursor_class(connection.connection)
        if binary:
            cursor.format = binary_format
        return connection._prepare_cursor(cursor)

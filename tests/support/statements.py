"""Every SQL statement the database driver is sent, SQLAlchemy's and the prepared ones alike
(``binding.prepared`` runs on the DB-API cursor, below SQLAlchemy's cursor-execute events):
sqlite3's trace callback, or a psycopg cursor class that records ``execute``."""
from __future__ import annotations

from contextlib import contextmanager, suppress

from sqlalchemy import event


def _recording_cursor(base, statements: list):
    class Recording(base):
        recording = True

        def execute(self, query, *args, **kwargs):
            statements.append(query.as_string(self) if hasattr(query, "as_string") else str(query))
            return super().execute(query, *args, **kwargs)
    return Recording


@contextmanager
def driver_statements(engine):
    """Record, into the yielded list, the statements of every connection checked out of
    ``engine``'s pool while the block runs."""
    statements: list[str] = []
    traced_connections: list = []

    def traced(dbapi_connection, _record, _proxy):
        traced_connections.append(dbapi_connection)
        if hasattr(dbapi_connection, "set_trace_callback"):          # sqlite3
            dbapi_connection.set_trace_callback(statements.append)
        else:                                                         # psycopg 3
            dbapi_connection.cursor_factory = _recording_cursor(dbapi_connection.cursor_factory, statements)

    def untraced(dbapi_connection, _record=None):
        if hasattr(dbapi_connection, "set_trace_callback"):
            dbapi_connection.set_trace_callback(None)
        elif getattr(dbapi_connection.cursor_factory, "recording", False):
            dbapi_connection.cursor_factory = dbapi_connection.cursor_factory.__mro__[1]

    event.listen(engine, "checkout", traced)
    event.listen(engine, "checkin", untraced)
    try:
        yield statements
    finally:
        event.remove(engine, "checkout", traced)
        event.remove(engine, "checkin", untraced)
        for dbapi_connection in traced_connections:   # also those still checked out
            with suppress(Exception):                  # or closed since (a disposed pool)
                untraced(dbapi_connection)

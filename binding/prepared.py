"""Hot statements run straight on the DB-API cursor of the request's connection: the token
endpoint's (binding.oauth.statements) and a password login's (binding.account_lookup,
binding.login_sessions, binding.audit: every audit row).

SQLAlchemy's Core costs ~35 µs of Python per executed statement (execution context, parameter
and result processing objects, the result proxy), the ORM several times that: a quarter of a
token request's own time (issue 5, README "Performance"). A ``Prepared`` statement is compiled
once per dialect by SQLAlchemy itself, with the bind and result processors of the columns' types (public
``TypeEngine.bind_processor`` / ``result_processor``: the SQLite datetime text format, the
``UTCDateTime`` checks), so what reaches the database is exactly what SQLAlchemy would send. It
runs inside the Session's transaction (same DB-API connection), and driver errors are handled
by SQLAlchemy's own handler, as they would be for ``Connection.execute``. SQLAlchemy's
cursor-execute events (``echo``, SQL tracers) do not see these statements."""
from __future__ import annotations

import threading
import weakref
from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, NoReturn

from sqlalchemy.engine import Connection, Dialect


@dataclass(frozen=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[tuple[str, Callable | None], ...]   # (name, processor), in placeholder order when positional
    row: type | None                                 # a namedtuple of the result columns
    results: tuple[Callable | None, ...] | None      # per result column; None when no column needs one


class Prepared:
    """One statement, compiled on first use per dialect. ``keys``: the columns an INSERT sets
    (every one is then a required parameter)."""

    def __init__(self, statement, keys: tuple[str, ...] | None = None):
        self.statement = statement
        self.keys = keys
        self._compiled: weakref.WeakKeyDictionary[Dialect, _Compiled] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect)
        if compiled is None:
            with self._lock:
                compiled = self._compiled.setdefault(dialect, self._compile(dialect))
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=list(self.keys) if self.keys else None)
        for name, bind in compiled.binds.items():   # every value comes from ``run``'s params
            if not bind.required or bind.callable is not None or bind.expanding or bind.literal_execute:
                raise ValueError(f"a Prepared statement takes every value from run()'s params "
                                 f"(no literal, no expanding IN, no literal_execute): {name!r}")
        names = compiled.positiontup if compiled.positional else compiled.binds
        binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in names)
        columns = list(self.statement.exported_columns)   # a SELECT's columns, an INSERT/UPDATE's RETURNING
        row = namedtuple("Row", [c.key for c in columns]) if columns else None
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        return _Compiled(compiled.string, compiled.positional, binds, row, results if any(results) else None)

    def run(self, connection: Connection, params: dict) -> list:
        """Execute with ``params`` (by bind name) in ``connection``'s transaction; the result
        rows (attribute access by column key), [] for statements without any."""
        c = self._for(connection.dialect)
        values = [params[name] if process is None else process(params[name]) for name, process in c.binds]
        args = tuple(values) if c.positional else dict(zip((name for name, _ in c.binds), values))
        driver = connection.connection.driver_connection
        cursor = None
        try:
            cursor = driver.cursor()
            cursor.execute(c.sql, args)
            raw = cursor.fetchall() if c.row is not None else []
        except connection.dialect.loaded_dbapi.Error as error:
            _raise_as_execute_would(connection, c.sql, args, error, cursor)
        finally:
            if cursor is not None:
                cursor.close()
        if c.results is None:
            return [c.row._make(record) for record in raw]
        return [c.row._make([value if process is None else process(value)
                             for value, process in zip(record, c.results)]) for record in raw]

    def first(self, connection: Connection, params: dict):
        rows = self.run(connection, params)
        return rows[0] if rows else None


def insert_all(table, returning=()) -> Prepared:
    """An INSERT of every column of ``table`` but the primary key (each a required parameter),
    returning ``returning``."""
    keys = tuple(c.key for c in table.columns if not c.primary_key)
    # inline(): without it PostgreSQL's INSERT would return the new key, which nobody reads.
    return Prepared(table.insert().returning(*returning) if returning else table.insert().inline(), keys)


def _raise_as_execute_would(connection: Connection, sql: str, args, error: Exception, cursor) -> NoReturn:
    """The driver's error handled by SQLAlchemy's own handler for ``Connection.execute``:
    wrapped in its DBAPIError subclass with the parameters hidden as the engine says (hashes,
    phone numbers never reach a log), ``handle_error`` hooks run, and on a lost connection the
    connection and the pool's older ones invalidated. (A private method, stable since 1.4; the
    tests in tests/unit/binding/test_prepared.py notice if it changes.)"""
    connection._handle_dbapi_exception(error, sql, args, cursor, None)


__all__ = ["Prepared", "insert_all"]

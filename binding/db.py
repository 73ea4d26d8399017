"""Engine and session factory. SQLite in the instance folder by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

import functools
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import ContextManager, Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker


def database_url(configured: str, instance_path: str) -> str:
    """The configured URL, with ``postgresql://`` pinned to psycopg 3; else a SQLite file."""
    if configured:
        if configured.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + configured.split("://", 1)[1]
        return configured
    return "sqlite:///" + os.path.join(instance_path, "broker.sqlite3")


BUSY_TIMEOUT_SECONDS = 30
MIN_SQLITE = (3, 35)   # RETURNING (binding.oauth.statements)


def make_engine(url: str, *, sqlite_synchronous: str = "normal", read_only: bool = False) -> Engine:
    """An engine whose errors never carry the statement's parameters (phones, emails, hashes):
    ``hide_parameters`` keeps them out of exception texts and so out of the logs.

    SQLite runs in WAL mode; ``sqlite_synchronous`` ("normal" or "full": the setting of that name,
    whose "auto" means full in production, normal otherwise) chooses between a commit durable against a power cut
    (FULL: an fsync per commit, under the write lock) and one durable against a crash of the
    broker only (NORMAL, the SQLite documentation's advice for WAL; never corrupts). README
    "Performance" has what each costs.

    ``read_only`` (SQLite; see ``make_read_engine``): connections with ``query_only`` set for
    good, whose transactions begin DEFERRED and never wait for the write lock."""
    if url.startswith("sqlite"):
        if sqlite3.sqlite_version_info < MIN_SQLITE:
            raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old: the broker needs 3.35 or newer "
                               "(UPDATE ... RETURNING); set DATABASE_URL to PostgreSQL or use a newer Python")
        path = url.split(":///", 1)[1] if ":///" in url else ""
        engine = create_engine(url, hide_parameters=True, connect_args={
            "timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False,
            "factory": _gated_connection_class(path, read_only)})
        event.listen(engine, "connect", functools.partial(_sqlite_pragmas, synchronous=sqlite_synchronous,
                                                          read_only=read_only))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it cost a ``SELECT 1`` round trip on every checkout (every request).
    # pool_recycle replaces connections older than 5 minutes instead, before a server or proxy
    # idle timeout can cut them; a connection dropped anyway fails one request, and the pool
    # then discards it (SQLAlchemy invalidates connections on disconnect errors).
    return create_engine(url, pool_recycle=300, pool_size=10, max_overflow=20, hide_parameters=True)


class _WriteGate:
    """One SQLite writer at a time in this process, handed over at once.

    Every write transaction takes the database write lock at BEGIN (``BEGIN IMMEDIATE``, so
    read-then-write transactions serialise instead of failing on upgrade). Threads that find
    the lock taken would sleep in SQLite's busy handler, which backs off up to 100 ms and so
    leaves the CPU idle after the lock is free again (README "Performance"); waiting on this
    lock instead wakes the next writer when the last one commits. Other processes still meet
    SQLite's own lock and busy timeout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: int | None = None

    def acquire(self) -> None:
        me = threading.get_ident()
        if self.owner == me:   # a second write transaction in one thread could never start
            raise _locked("database is locked: this thread already has a write transaction open")
        if not self._lock.acquire(timeout=BUSY_TIMEOUT_SECONDS):
            raise _locked("database is locked")
        self.owner = me

    def release(self) -> None:
        self.owner = None
        self._lock.release()


def _locked(message: str) -> OperationalError:
    """SQLAlchemy's error for what SQLite itself would have answered after its busy timeout."""
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError(message))


_GATES: dict[str, _WriteGate] = {}
_GATES_LOCK = threading.Lock()


def _fresh_gates_after_fork() -> None:
    """A child process starts with no writer (a gate held by the parent's thread at fork time
    would otherwise stay locked forever in the child, e.g. under ``gunicorn --preload``)."""
    global _GATES_LOCK
    _GATES_LOCK = threading.Lock()
    for gate in _GATES.values():
        gate.__init__()


os.register_at_fork(after_in_child=_fresh_gates_after_fork)


class _GatedConnection(sqlite3.Connection):
    """A sqlite3 connection that holds its file's ``_WriteGate`` from BEGIN IMMEDIATE until
    COMMIT or ROLLBACK (or close). A read-only engine's connections begin DEFERRED, outside
    the gate: in WAL mode readers never wait for the writer."""

    gate: _WriteGate
    read_only = False
    holds_gate = False

    def begin(self) -> None:
        if self.read_only:
            self.execute("BEGIN")
            return
        self.gate.acquire()
        self.holds_gate = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.holds_gate:
            self.holds_gate = False
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()


def _gated_connection_class(path: str, read_only: bool) -> type[_GatedConnection]:
    """A connection class sharing one gate per database file (engines of one file in one process)."""
    key = os.path.abspath(path) if path else ""
    with _GATES_LOCK:
        gate = _GATES.setdefault(key, _WriteGate())
    return type("GatedConnection", (_GatedConnection,), {"gate": gate, "read_only": read_only})


def _sqlite_begin(conn) -> None:
    conn.connection.dbapi_connection.begin()


def _sqlite_pragmas(dbapi_conn, _record, *, synchronous: str, read_only: bool) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=" + {"normal": "NORMAL", "full": "FULL"}[synchronous])
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    if read_only:   # set once per connection: changing it expires every prepared statement
        cur.execute("PRAGMA query_only=ON")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def make_read_engine(engine: Engine) -> Engine:
    """The engine for requests that only read (userinfo, introspection, JWKS, the read step of
    a password login): on SQLite a second engine on the same file whose connections neither take
    nor wait for the write lock (dispose it too); elsewhere ``engine`` with READ ONLY
    transactions. A write in one fails instead of silently serialising (``query_only``)."""
    if engine.dialect.name == "sqlite":
        return make_engine(engine.url.render_as_string(hide_password=False), read_only=True)
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    return engine


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, except a refusal marked
    ``keeps_changes`` (binding.errors.DomainError), whose records are committed before it propagates."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException as exc:
        if getattr(exc, "keeps_changes", False):
            try:
                session.commit()
            except BaseException:
                session.rollback()   # a failed COMMIT must not leave the transaction open
                raise
        else:
            session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def connection_transaction(engine: Engine) -> Iterator[Session]:
    """``transaction`` on a Core connection, with a Session bound to it for the paths that need
    the ORM. Statements that need no ORM run on ``session_connection(session)`` without the
    Session's per-call bookkeeping: ~30 µs less per request on the token endpoint (issue 5,
    README "Performance"). The transaction begins at the first statement, whichever side runs
    it (a refused request never takes SQLite's write lock). Same outcomes as ``transaction``:
    commit on success or a ``keeps_changes`` refusal, roll back otherwise; the Session's
    ``after_commit`` listeners run after the database commit."""
    with engine.connect() as connection:
        session = Session(bind=connection, expire_on_commit=False)
        session.info["connection"] = connection
        try:
            yield session
            _commit(session, connection)
        except BaseException as exc:
            if getattr(exc, "keeps_changes", False):
                try:
                    _commit(session, connection)
                except BaseException:
                    _rollback(session, connection)   # a failed COMMIT must not leave the lock held
                    raise
            else:
                _rollback(session, connection)
            raise
        finally:
            session.close()


def unit_of_work(source: Engine | sessionmaker[Session]) -> ContextManager[Session]:
    """``connection_transaction`` on an Engine (leaner: no Session transaction to keep), else
    ``transaction`` on the sessionmaker."""
    return connection_transaction(source) if isinstance(source, Engine) else transaction(source)


def _rollback(session: Session, connection: Connection) -> None:
    session.rollback()      # joined or its own: the connection's transaction too
    connection.rollback()   # begun by session_connection alone


def _commit(session: Session, connection: Connection) -> None:
    if session.info.get("began_on_connection"):
        session.flush()           # the ORM's changes into the connection's transaction
        connection.commit()
    if session.in_transaction():
        session.commit()          # its own transaction, or (joined) only its after_commit, now
    connection.commit()           # no effect once committed


def session_connection(session: Session) -> Connection:
    """The Core connection of ``session``'s transaction, begun now if nothing began it yet:
    the connection ``connection_transaction`` opened, else the Session's own."""
    connection = session.info.get("connection")
    if connection is None:
        return session.connection()
    if not connection.in_transaction():
        connection.begin()
        session.info["began_on_connection"] = True
    return connection

"""Engine and session factory. SQLite in the instance folder by default, PostgreSQL via DATABASE_URL."""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def database_url(configured: str, instance_path: str) -> str:
    """The configured URL, with ``postgresql://`` pinned to psycopg 3; else a SQLite file."""
    if configured:
        if configured.startswith(("postgres://", "postgresql://")):
            return "postgresql+psycopg://" + configured.split("://", 1)[1]
        return configured
    return "sqlite:///" + os.path.join(instance_path, "broker.sqlite3")


def make_engine(url: str) -> Engine:
    """An engine whose errors never carry the statement's parameters (phones, emails, hashes):
    ``hide_parameters`` keeps them out of exception texts and so out of the logs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite: take the write lock at BEGIN so read-then-write transactions serialise
        # instead of failing with "database is locked" on upgrade.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    # No pool_pre_ping: it cost a ``SELECT 1`` round trip on every checkout (every request).
    # pool_recycle replaces connections older than 5 minutes instead, before a server or proxy
    # idle timeout can cut them; a connection dropped anyway fails one request, and the pool
    # then discards it (SQLAlchemy invalidates connections on disconnect errors).
    return create_engine(url, pool_recycle=300, pool_size=10, max_overflow=20, hide_parameters=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


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
            session.commit()
        else:
            session.rollback()
        raise
    finally:
        session.close()

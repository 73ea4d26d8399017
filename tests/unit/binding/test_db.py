"""binding.db: one SQLite writer at a time handed over at once, read-only sessions that never
wait for it (and refuse writes on both databases), and the SQLite durability setting."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from binding.db import (connection_transaction, make_engine, make_read_engine, make_session_factory, session_connection,
                        transaction)
from binding.models import AuditEvent
from binding.oauth.models import OAuthToken
from tests.support.clock import FrozenClock



def _is_sqlite(engine) -> bool:
    return engine.dialect.name == "sqlite"


def _event(name: str) -> AuditEvent:
    return AuditEvent(at=FrozenClock()(), event=name, account_id=None, detail={})


def _count(db, name: str) -> int:
    with db() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.event == name))


def test_a_second_writer_waits_for_the_first_and_then_proceeds(engine, db):
    """Two concurrent write transactions both succeed, one after the other (no "database is
    locked", no lost write), whichever database."""
    first_holds, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction(db) as session:
                session.add(_event("first"))
                session.flush()
                first_holds.set()
                release.wait(5)
        except BaseException as exc:   # surfaced below
            errors.append(exc)

    holder = threading.Thread(target=first)
    holder.start()
    assert first_holds.wait(5)
    second_done = threading.Event()

    def second():
        with transaction(db) as session:
            session.add(_event("second"))
        second_done.set()

    waiter = threading.Thread(target=second)
    waiter.start()
    if _is_sqlite(engine):   # SQLite: one writer; the second waits for the first's commit
        assert not second_done.wait(0.3)
    release.set()
    holder.join(5)
    waiter.join(5)
    assert not errors and second_done.is_set()
    assert _count(db, "first") == 1 and _count(db, "second") == 1


def test_a_nested_write_transaction_in_one_thread_fails_at_once_on_sqlite(engine, db):
    """It could never start (the outer one holds the lock): an immediate error instead of a
    30-second wait."""
    if not _is_sqlite(engine):
        pytest.skip("SQLite's single writer")
    with transaction(db) as outer:
        outer.add(_event("outer"))
        outer.flush()
        started = time.monotonic()
        with pytest.raises(DBAPIError, match="already has a write transaction open"):
            with transaction(db) as inner:
                inner.add(_event("inner"))
                inner.flush()
        assert time.monotonic() - started < 1
    assert _count(db, "outer") == 1 and _count(db, "inner") == 0


@pytest.fixture
def reader(engine):
    read_engine = make_read_engine(engine)
    yield make_session_factory(read_engine)
    if read_engine is not engine:
        read_engine.dispose()


def test_read_only_sessions_read_while_a_writer_holds_the_lock(reader, db):
    with transaction(db) as session:
        session.add(_event("committed"))
    with transaction(db) as writer:
        writer.add(_event("uncommitted"))
        writer.flush()
        result: list[int] = []
        thread = threading.Thread(target=lambda: result.append(_count(reader, "committed")))
        thread.start()
        thread.join(5)
        assert result == [1]   # answered while the write transaction is still open


def test_read_only_sessions_refuse_writes(reader, db):
    with pytest.raises(DBAPIError):
        with transaction(reader) as session:
            session.add(_event("sneaked"))
    assert _count(db, "sneaked") == 0
    with transaction(db) as session:   # writers are not affected
        session.add(_event("after"))
    assert _count(db, "after") == 1


@pytest.mark.parametrize("setting, pragma", [("normal", 1), ("full", 2)])
def test_sqlite_synchronous_setting(tmp_path, setting, pragma):
    engine = make_engine(f"sqlite:///{tmp_path}/s.sqlite3", sqlite_synchronous=setting)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA synchronous")).scalar() == pragma
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    finally:
        engine.dispose()


def test_a_forked_child_starts_with_no_writer(engine, db):
    """A gate held at fork time (gunicorn --preload while the parent writes) is free in the child."""
    import os

    if not _is_sqlite(engine):
        pytest.skip("SQLite's single writer")
    with transaction(db) as session:
        session.add(_event("parent"))
        session.flush()   # the parent holds the write gate now
        pid = os.fork()
        if pid == 0:   # the child: a fresh engine on the same file must be able to write
            code = 1
            try:
                child = make_engine(str(engine.url))
                with child.connect() as conn:
                    conn.connection.dbapi_connection.gate.acquire()
                    conn.connection.dbapi_connection.gate.release()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


# --- connection_transaction: the token endpoint's unit of work ------------------------------
class _Refusal(Exception):
    keeps_changes = True


def _core_insert(session, name: str) -> None:
    session_connection(session).execute(
        AuditEvent.__table__.insert(), {"at": FrozenClock()(), "event": name, "account_id": None, "detail": {}})


def test_connection_transaction_commits_core_and_orm_writes_together(engine, db):
    with connection_transaction(engine) as session:
        _core_insert(session, "core.ok")
        session.add(_event("orm.ok"))
    assert (_count(db, "core.ok"), _count(db, "orm.ok")) == (1, 1)
    with transaction(db) as session:   # the connection and, on SQLite, the write gate were let go
        session.add(_event("after"))
    assert _count(db, "after") == 1


def test_connection_transaction_rolls_both_back_on_error(engine, db):
    with pytest.raises(RuntimeError):
        with connection_transaction(engine) as session:
            _core_insert(session, "core.lost")
            session.add(_event("orm.lost"))
            session.flush()
            raise RuntimeError("the request failed")
    assert (_count(db, "core.lost"), _count(db, "orm.lost")) == (0, 0)


def test_connection_transaction_keeps_a_refusals_records(engine, db):
    with pytest.raises(_Refusal):
        with connection_transaction(engine) as session:
            _core_insert(session, "core.kept")
            session.add(_event("orm.kept"))
            raise _Refusal()
    assert (_count(db, "core.kept"), _count(db, "orm.kept")) == (1, 1)


def test_connection_transaction_takes_no_lock_until_its_first_statement(engine, db):
    """A /token request refused before any statement (bad grant type, bad client) never holds
    SQLite's write lock: another writer goes ahead meanwhile."""
    done = threading.Event()

    def other_writer():
        with transaction(db) as session:
            session.add(_event("other.writer"))
        done.set()

    with connection_transaction(engine):
        writer = threading.Thread(target=other_writer)
        writer.start()
        assert done.wait(5), "a writer waited for a unit of work that ran nothing"
    writer.join()


@pytest.mark.parametrize("orm_first", [True, False])
def test_after_commit_listeners_see_the_commit_whichever_side_began(engine, db, orm_first):
    """The session's after_commit (back-channel logout deliveries) runs after the database
    commit, not at the Session's commit of a transaction it merely joined."""
    seen = []

    def listener(session):
        seen.append(_count(db, "core.visible"))   # read from another connection

    with connection_transaction(engine) as session:
        event.listen(session, "after_commit", listener)
        if orm_first:
            session.add(_event("orm.visible"))
            session.flush()
        _core_insert(session, "core.visible")
        session.add(_event("orm.visible.too"))
    assert seen == [1]


def test_a_refusal_whose_commit_fails_leaves_no_lock_behind(engine, db):
    """keeps_changes asks for a commit; when that COMMIT itself fails (a foreign key checked at
    commit), the transaction is rolled back, not left holding SQLite's write lock."""
    if not _is_sqlite(engine):
        pytest.skip("SQLite's deferred foreign keys make COMMIT fail on demand")
    with pytest.raises(DBAPIError):
        with connection_transaction(engine) as session:
            connection = session_connection(session)
            connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            _core_insert(session, "kept.by.the.refusal")
            now = FrozenClock()()
            connection.execute(OAuthToken.__table__.insert(), {   # its grant does not exist
                "grant_id": 999999, "client_id": "smebj", "access_token_hash": "orphan", "jti": "j", "scope": "",
                "issued_at": now, "access_expires_at": now})
            raise _Refusal()
    with transaction(db) as session:   # would wait out the busy timeout, then fail, if the lock were held
        session.add(_event("after.failed.commit"))
    assert (_count(db, "kept.by.the.refusal"), _count(db, "after.failed.commit")) == (0, 1)

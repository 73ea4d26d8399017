"""The clients a broker session signed into (told at its end: Back-Channel Logout §2.7), one
row per session and client, also when two /authorize of one session for one client run at
once: the second INSERT waits for the first to commit and gives way, instead of failing on
the unique (sid, client_id) (PostgreSQL; SQLite serialises writers anyway). Real threads, each
with its own transaction on the real database."""
import threading

from sqlalchemy import func, select

from binding.db import transaction
from binding.oauth import GrantStore, OidcSettings
from binding.oauth.models import SessionClient


def test_two_authorizations_at_once_record_the_client_once(db, clock):
    errors = []

    def second():
        try:
            with transaction(db) as s:
                GrantStore(s, OidcSettings(), clock).record_session_client("sid-1", "smebj", "pub-1")
        except Exception as exc:  # collected and checked below
            errors.append(exc)

    with transaction(db) as s:
        GrantStore(s, OidcSettings(), clock).record_session_client("sid-1", "smebj", "pub-1")
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=0.5)      # PostgreSQL: blocked on the uncommitted row; SQLite: on the write lock
    other.join(timeout=30)
    assert not other.is_alive() and errors == []
    with transaction(db) as s:
        GrantStore(s, OidcSettings(), clock).record_session_client("sid-1", "gjj-fund", "pub-1")
        rows = s.execute(select(SessionClient.client_id, func.count()).where(SessionClient.sid == "sid-1")
                         .group_by(SessionClient.client_id).order_by(SessionClient.client_id)).all()
    assert rows == [("gjj-fund", 1), ("smebj", 1)]

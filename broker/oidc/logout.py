"""Ending sessions: RP-initiated logout signs the browser out; every ended broker session
(logout, password change, disable, a new login replacing it) is told to the clients it signed
into, by back-channel logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4-2.5).

The listener is called once the transaction that ended the sessions has committed
(``broker.session``); delivery runs in a thread: a slow or dead portal must not hold up the
user's logout."""
from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from authlib.common.security import generate_token

from binding.db import transaction
from binding.oauth import ClientDirectory, GrantStore, KeyStore

from . import context as ctx

log = logging.getLogger("broker.oidc.backchannel")
EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TTL = timedelta(minutes=2)


def end_browser_session() -> str | None:
    """Sign this browser out (RP-initiated logout); listeners hear about it."""
    from ..session import sign_out

    ctx.db().commit()  # release our transaction before sign_out takes its own
    return sign_out()


def logout_token(keys: KeyStore, issuer: str, client, sub: str, sid: str, now) -> str:
    """A logout token (Back-Channel Logout 1.0 §2.4): iss, aud, iat, exp, jti, sub, sid, events;
    never a nonce; typ logout+jwt (§2.4, RFC 8725 §3.11)."""
    claims = {
        "iss": issuer, "aud": client.client_id, "iat": int(now.timestamp()),
        "exp": int((now + LOGOUT_TOKEN_TTL).timestamp()), "jti": generate_token(24),
        "sub": sub, "sid": sid, "events": {EVENT: {}},
    }
    return keys.sign(client.signing_alg, "logout+jwt", claims)


class BackchannelSender:
    """The ``on_session_end`` listener. ``wait()`` lets tests and shutdown join deliveries."""

    def __init__(self, services, provider):
        self.services = services
        self.provider = provider
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def __call__(self, sids) -> None:
        sids = list(sids)
        if not sids:
            return
        thread = threading.Thread(target=self._run, args=(sids,), name="backchannel-logout", daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float = 10.0) -> None:
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _run(self, sids: list[str]) -> None:
        try:
            messages = self._prepare(sids)
        except Exception:  # noqa: BLE001 - a thread has no caller to raise to
            log.exception("back-channel logout: preparing tokens failed")
            return
        for client_id, uri, token in messages:
            self._post(client_id, uri, token)

    def _prepare(self, sids: list[str]) -> list[tuple[str, str, str]]:
        s, p = self.services, self.provider
        out = []
        with transaction(s.sessions) as db:
            rows = GrantStore(db, p.oidc, s.clock).end_sessions(sids)
            directory = ClientDirectory(db, s.clock, p.config_clients, p.client_cache)
            keys = KeyStore(db, p.oidc, s.clock, p.key_cache)
            for row in rows:
                client = directory.get(row.client_id)
                if client is None or not client.backchannel_logout_uri:
                    continue
                token = logout_token(keys, p.issuer, client, row.account_public_id, row.sid, s.clock())
                out.append((client.client_id, client.backchannel_logout_uri, token))
        return out

    def _post(self, client_id: str, uri: str, token: str) -> None:
        body = urllib.parse.urlencode({"logout_token": token}).encode()
        req = urllib.request.Request(uri, data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=self.provider.oidc.backchannel_timeout_seconds) as resp:
                log.info("back-channel logout sent", extra={"client_id": client_id, "status": resp.status})
        except (urllib.error.URLError, OSError) as exc:
            log.warning("back-channel logout to %s failed: %s", client_id, exc)

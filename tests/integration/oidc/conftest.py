"""The OIDC tests act as a relying party would: real HTTP requests through the Flask test client,
users signed in through POST /login, tokens verified with Authlib/joserfc against the JWKS."""
from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from binding.db import transaction
from binding.models import Account
from binding.oauth import ClientDirectory, ClientPolicy, ClientSpec
from binding.oauth.demo import seed_demo_clients
from broker.demo.seed import seed_cast

PORTAL = "http://127.0.0.1:5002"
ISSUER = "http://127.0.0.1:5000"
PASSWORDS = {"zhangsan": "Zs@demo2026", "lisi": "Ls@demo2026", "wangwu": "Ww@demo2026"}


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@pytest.fixture
def cast(app, db, settings, clock):
    """DEMO.md's accounts, enterprises and downstream clients."""
    with transaction(db) as session:
        seed_cast(session, settings, clock)
        seed_demo_clients(session, settings, clock, portal_url=PORTAL)
    return db


def add_client(db, clock, **fields) -> str:
    """Register a client for one test; returns its secret (None for public clients)."""
    fields.setdefault("name", fields["client_id"])
    if "policy" in fields and isinstance(fields["policy"], dict):
        fields["policy"] = ClientPolicy(**fields["policy"])
    with transaction(db) as session:
        _, secret = ClientDirectory(session, clock).add(ClientSpec(**fields), source="test")
    return secret


def account(db, username) -> Account:
    with db() as session:
        return session.scalar(select(Account).where(Account.username == username))


def login(client, username, password=None):
    """Sign in through the real login page (JSON variant of POST /login)."""
    password = password or PASSWORDS[username]
    csrf = client.get("/login", headers={"Accept": "application/json"}).get_json()["csrf_token"]
    response = client.post("/login", json={"username": username, "password": password},
                           headers={"Accept": "application/json", "X-CSRF-Token": csrf})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


class RelyingParty:
    """One downstream client, driving the authorization code flow like a portal would."""

    def __init__(self, http, client_id, secret=None, redirect_uri=None, clock=None):
        self.http = http
        self.client_id = client_id
        self.secret = secret
        self.redirect_uri = redirect_uri or f"{PORTAL}/{client_id}/callback"
        self.clock = clock
        self.verifier = None

    def params(self, **overrides):
        p = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
             "scope": "openid profile phone", "state": "st-" + secrets.token_hex(4),
             "nonce": "n-" + secrets.token_hex(4)}
        p.update(overrides)
        return {k: v for k, v in p.items() if v is not None}

    def authorize(self, pkce=True, **overrides):
        params = self.params(**overrides)
        if pkce and "code_challenge" not in params:
            self.verifier = secrets.token_urlsafe(48)
            params.update(code_challenge=s256(self.verifier), code_challenge_method="S256")
        self.last_params = params
        return self.http.get("/authorize?" + urlencode(params))

    def code(self, **overrides) -> str:
        response = self.authorize(**overrides)
        assert response.status_code in (302, 303), response.get_data(as_text=True)
        q = query_of(response.headers["Location"])
        assert "code" in q, q
        assert q["iss"] == ISSUER and q["state"] == self.last_params["state"]
        return q["code"]

    def token(self, **form):
        auth = None
        if self.secret is not None:
            auth = (self.client_id, self.secret)
        else:
            form.setdefault("client_id", self.client_id)
        return self.http.post("/token", data=form, auth=auth)

    def exchange(self, code, verifier="default", **extra):
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        verifier = self.verifier if verifier == "default" else verifier
        if verifier:
            form["code_verifier"] = verifier
        form.update(extra)
        return self.token(**form)

    def tokens(self, **overrides) -> dict:
        response = self.exchange(self.code(**overrides))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def refresh(self, refresh_token):
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def verify(self, token: str, *, typ: str | None = None, aud: str | None = None) -> dict:
        """Verify as a relying party: signature against the published JWKS, iss, aud, exp."""
        keys = KeySet.import_key_set(self.http.get("/jwks.json").get_json())
        decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
        now = int(self.clock().timestamp()) if self.clock else None
        registry = jwt.JWTClaimsRegistry(now=now, iss={"essential": True, "value": ISSUER},
                                         aud={"essential": True, "value": aud or self.client_id})
        registry.validate(decoded.claims)
        if typ is not None:
            assert decoded.header.get("typ") == typ
        return {"header": decoded.header, **decoded.claims}

    def userinfo(self, access_token, method="GET"):
        headers = {"Authorization": f"Bearer {access_token}"}
        return self.http.get("/userinfo", headers=headers) if method == "GET" else \
            self.http.post("/userinfo", headers=headers)

    def introspect(self, token, **form):
        return self.http.post("/introspect", data={"token": token, **form}, auth=(self.client_id, self.secret))

    def revoke(self, token, **form):
        return self.http.post("/revoke", data={"token": token, **form}, auth=(self.client_id, self.secret))


@pytest.fixture
def rp(client, cast, clock):
    """A factory: rp("smebj") -> RelyingParty for a DEMO.md client."""
    def make(client_id, secret="default", **kw):
        if secret == "default":
            secret = None if client_id == "mobile-app" else f"{client_id}-demo-secret"
        return RelyingParty(client, client_id, secret, clock=clock, **kw)
    return make

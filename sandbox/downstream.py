"""The demo downstream portals (DEMO.md, http://127.0.0.1:5002/<client_id>/): each page signs
in through the broker with a real OpenID Connect client library (Authlib's Flask client, code
flow + PKCE S256 + nonce, ID token checked against the broker's JWKS) and shows the claims it
received. Also a back-channel logout endpoint and RP-initiated logout, as a real portal would.
"""
from __future__ import annotations

import html
import json
import secrets
import threading

from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, redirect, request, session
from joserfc import jwt
from joserfc.jwk import KeySet

from binding.oauth.demo import DEMO_CLIENTS, demo_secret   # one list of the demo clients and their secrets

DEMO_SECRETS = {cid: demo_secret(cid) for cid in DEMO_CLIENTS}
SCOPE = "openid profile phone enterprise"
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def create_portal(broker_url: str, portal_url: str | int, clients: dict[str, str] | None = None) -> Flask:
    """A WSGI app serving /<client_id>/ for each confidential client in ``clients``
    (client_id -> secret; default: the DEMO.md clients). ``portal_url`` is where this app is
    reached (an int means http://127.0.0.1:<port>)."""
    if isinstance(portal_url, int):
        portal_url = f"http://127.0.0.1:{portal_url}"
    portal_url = portal_url.rstrip("/")
    broker_url = broker_url.rstrip("/")
    clients = dict(clients or DEMO_SECRETS)
    app = Flask("sandbox.downstream")
    app.config.update(SECRET_KEY=secrets.token_hex(32), SESSION_COOKIE_NAME="demo_portal_session",
                      SESSION_COOKIE_SAMESITE="Lax")
    oauth = OAuth(app)
    for client_id, secret in clients.items():
        oauth.register(name=client_id, client_id=client_id, client_secret=secret,
                       server_metadata_url=f"{broker_url}/.well-known/openid-configuration",
                       client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"})
    ended_sids: set[str] = set()
    lock = threading.Lock()

    def remote(client_id: str):
        if client_id not in clients:
            abort(404)
        return oauth.create_client(client_id)

    def signed_in(client_id: str) -> dict | None:
        data = session.get("logins", {}).get(client_id)
        with lock:
            if data and data["claims"].get("sid") in ended_sids:
                _forget(client_id)
                return None
        return data

    @app.get("/")
    def index():
        items = "".join(f'<li><a href="/{cid}/">{cid}</a></li>' for cid in clients)
        return _page("Demo downstream portals", f"<ul>{items}</ul>")

    @app.get("/<client_id>/")
    def home(client_id):
        remote(client_id)
        data = signed_in(client_id)
        if data is None:
            body = (f'<p id="status" data-state="signed-out">Not signed in.</p>'
                    f'<p><a id="signin" class="button" href="/{client_id}/login">通过通行统一身份认证登录 / '
                    f'Sign in with Tongxing</a></p>')
            return _page(client_id, body)
        rows = "".join(f'<tr data-claim="{html.escape(k)}"><th>{html.escape(k)}</th>'
                       f'<td>{html.escape(json.dumps(v, ensure_ascii=False))}</td></tr>'
                       for k, v in sorted(data["claims"].items()))
        body = (f'<p id="status" data-state="signed-in">Signed in as '
                f'<strong id="who">{html.escape(str(data["claims"].get("name", data["claims"]["sub"])))}</strong></p>'
                f'<h2>ID token claims</h2><table id="claims">{rows}</table>'
                f'<h2>UserInfo</h2><pre id="userinfo">'
                f'{html.escape(json.dumps(data["userinfo"], ensure_ascii=False, indent=2))}</pre>'
                f'<p><a id="signout" href="/{client_id}/logout">退出 / Sign out</a></p>')
        return _page(client_id, body)

    @app.get("/<client_id>/login")
    def login(client_id):
        return remote(client_id).authorize_redirect(f"{portal_url}/{client_id}/callback")

    @app.get("/<client_id>/callback")
    def callback(client_id):
        client = remote(client_id)
        if "error" in request.args:
            # RFC 9207: check who answered before believing the error.
            if request.args.get("iss") != broker_url:
                abort(400)
            error = html.escape(request.args["error"])
            return _page(client_id, f'<p class="error" data-code="{error}">The broker refused: {error}</p>'
                                    f'<p><a href="/{client_id}/">Back</a></p>'), 403
        if request.args.get("iss") != broker_url:
            abort(400)
        token = client.authorize_access_token()
        userinfo = client.userinfo(token=token)
        logins = session.get("logins", {})
        logins[client_id] = {"claims": dict(token["userinfo"]), "userinfo": dict(userinfo),
                             "id_token": token["id_token"]}
        session["logins"] = logins
        return redirect(f"/{client_id}/", 303)

    @app.get("/<client_id>/logout")
    def logout(client_id):
        remote(client_id)
        data = session.get("logins", {}).get(client_id)
        _forget(client_id)
        if data is None:
            return redirect(f"/{client_id}/", 303)
        from urllib.parse import urlencode

        return redirect(f"{broker_url}/end_session?" + urlencode({
            "id_token_hint": data["id_token"], "client_id": client_id,
            "post_logout_redirect_uri": f"{portal_url}/{client_id}/"}))

    @app.post("/<client_id>/backchannel-logout")
    def backchannel_logout(client_id):
        """Back-Channel Logout 1.0 §2.6: validate the logout token, end the sessions of its sid."""
        client = remote(client_id)
        try:
            keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
            token = jwt.decode(request.form["logout_token"], keys, algorithms=["ES256", "RS256"])
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": broker_url},
                                  aud={"essential": True, "value": client_id}).validate(token.claims)
        except Exception:  # noqa: BLE001 - any invalid token gets 400
            return {"error": "invalid_request"}, 400
        if EVENT not in token.claims.get("events", {}) or "nonce" in token.claims:
            return {"error": "invalid_request"}, 400
        with lock:
            ended_sids.add(token.claims.get("sid"))
        return "", 200

    return app


def _forget(client_id: str) -> None:
    logins = session.get("logins", {})
    logins.pop(client_id, None)
    session["logins"] = logins


# Claims hold long unbroken values (URNs, hashes, the enterprise JSON): wrapped anywhere, so the
# page fits a phone's width.
_STYLE = ('body{font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:720px;'
          'margin:16px auto;padding:0 16px}table{width:100%;border-collapse:collapse;table-layout:fixed}'
          'th{width:34%;text-align:left;vertical-align:top}th,td{padding:4px 6px;border-bottom:1px solid #ddd;'
          'overflow-wrap:anywhere}pre{white-space:pre-wrap;overflow-wrap:anywhere}')


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)} · demo portal</title><style>{_STYLE}</style></head>'
            f'<body><h1>{html.escape(title)}</h1>{body}</body></html>')


__all__ = ["DEMO_SECRETS", "create_portal"]

"""``/sd-portal``: an OpenID Connect provider (OIDC Core 1.0 code flow) built from Authlib's
server parts: AuthorizationCodeGrant + OpenIDCode, PKCE (RFC 7636, S256), the ``iss``
authorization response parameter (RFC 9207), discovery (OIDC Discovery 1.0 §3), JWKS, userinfo
(OIDC Core §5.3). Plain Python objects stand in for Authlib's DB models. Also the portal's
account page with the "upgrade the certification level" button (DEMO.md sd_low story)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Error
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode
from flask import Blueprint, current_app, jsonify, redirect, request

from .accounts import PortalAccount
from .state import CODE_TTL, TOKEN_TTL, SandboxClient
from .web import (Portal, add_login_routes, backchannel_fault, csrf_ok, error_page, faults, page,
                  sandbox, signed_in, to_login)

PORTAL = Portal("sd-portal", "山东省统一身份认证平台", "Shandong unified identity portal", "#b5332a")
SCOPES = ("openid", "profile", "phone")
PROFILE_CLAIMS = ("preferred_username", "name", "user_type", "auth_level", "org_name", "uscc")
PHONE_CLAIMS = ("phone_number", "phone_number_verified")

bp = Blueprint(PORTAL.id, __name__, url_prefix="/" + PORTAL.id)
add_login_routes(bp, PORTAL)


def issuer() -> str:
    return sandbox().url("/" + PORTAL.id)


def claims_for(account: PortalAccount, scope: str) -> dict:
    """The claims released for ``scope`` (OIDC Core §5.4: profile and phone scopes)."""
    everything = {
        "sub": account.subject, "preferred_username": account.username, "name": account.name,
        "phone_number": account.phone, "phone_number_verified": account.phone is not None,
        "user_type": "legal" if account.kind == "legal" else "natural",
        "auth_level": account.level, "org_name": account.enterprise_name, "uscc": account.uscc,
    }
    scopes = scope_to_list(scope) or []
    names = ("sub",) + (PROFILE_CLAIMS if "profile" in scopes else ()) + (PHONE_CLAIMS if "phone" in scopes else ())
    return {k: everything[k] for k in names if everything[k] is not None}


# --- Authlib models as plain objects ---------------------------------------------------------
class Client(ClientMixin):
    def __init__(self, client: SandboxClient):
        self.client = client

    def get_client_id(self):
        return self.client.client_id

    def get_default_redirect_uri(self):
        return self.client.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope_to_list(scope) or [] if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return self.client.allows_redirect(redirect_uri)

    def check_client_secret(self, client_secret):
        return self.client.check_secret(client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class User:
    account: PortalAccount

    def get_user_id(self):
        return self.account.subject


@dataclass
class Code(AuthorizationCodeMixin):
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        sandbox().store.put("sd-code", Code(
            request.client.get_client_id(), request.payload.redirect_uri, request.scope,
            request.user.account.username, data.get("nonce"), data.get("code_challenge"),
            data.get("code_challenge_method"), int(time.time())), CODE_TTL, key=code)

    def query_authorization_code(self, code, client):
        # Taken at the first lookup: a code works once, even if this exchange then fails.
        found = sandbox().store.take("sd-code", code)
        return found if found and found.client_id == client.get_client_id() else None

    def delete_authorization_code(self, authorization_code):
        pass   # already removed by query_authorization_code

    def authenticate_user(self, authorization_code):
        account = sandbox().accounts.get(PORTAL.id, authorization_code.username)
        return User(account) if account else None


class OpenID(OpenIDCode):
    """ID token signing and claims; the test-only faults bend exactly one thing each."""

    def exists_nonce(self, nonce, request):
        return False   # the relying party checks nonce replay; this portal does not track them

    def _key(self):
        keys = current_app.extensions["sd_portal_keys"]
        return keys.stranger if faults(PORTAL.id).get("id_token_sign_with_other_key") else keys.current

    def resolve_client_private_key(self, client):
        return self._key()

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self._key().kid, "typ": "JWT"}

    def get_client_claims(self, client):
        f, now = faults(PORTAL.id), int(time.time())
        claims = {"iss": f.get("id_token_iss", issuer()), "aud": f.get("id_token_aud", client.get_client_id()),
                  "iat": now, "exp": now + 600}
        if f.get("id_token_expired"):
            claims.update(iat=now - 7200, exp=now - 3600)
        return claims

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        if "id_token_nonce" in faults(PORTAL.id):
            claims["nonce"] = faults(PORTAL.id)["id_token_nonce"]
        return claims

    def generate_user_info(self, user, scope):
        return claims_for(user.account, scope)


class S256Only(CodeChallenge):
    """RFC 7636 with S256 only, as the discovery document says (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]


class Issuer(IssuerParameter):
    def get_issuer(self):
        return faults(PORTAL.id).get("iss_param", issuer()) or None   # "" leaves iss out


def create_server(app) -> AuthorizationServer:
    def query_client(client_id):
        client = sandbox().clients.get(client_id)
        return Client(client) if client else None

    def save_token(token, request):
        sandbox().store.put("sd-token", {"username": request.user.account.username, "scope": token["scope"]},
                            TOKEN_TTL, key=token["access_token"])

    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    server.register_grant(CodeGrant, [OpenID(require_nonce=False), S256Only(required=False)])
    server.register_extension(Issuer())
    return server


def _server() -> AuthorizationServer:
    return current_app.extensions["sd_portal_server"]


# --- endpoints ---------------------------------------------------------------------------------
@bp.get("/.well-known/openid-configuration")
def discovery():
    base = issuer()
    return jsonify({
        "issuer": base, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/token",
        "userinfo_endpoint": base + "/userinfo", "jwks_uri": base + "/jwks", "end_session_endpoint": base + "/logout",
        "scopes_supported": list(SCOPES), "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"], "authorization_response_iss_parameter_supported": True,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", *PROFILE_CLAIMS, *PHONE_CLAIMS],
    })


@bp.get("/jwks")
def jwks():
    return jsonify(current_app.extensions["sd_portal_keys"].jwks())


@bp.get("/authorize")
def authorize():
    server, account = _server(), signed_in(PORTAL)
    user = User(account) if account else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        if not error.redirect_uri:   # unknown client or redirect URI: never redirect there
            return error_page(PORTAL, f"应用请求无效：{error.description or error.error}",
                              f"Invalid request from the application: {error.description or error.error}")
        response = server.handle_error_response(None, error)
        Issuer().add_issuer_parameter(server, response)
        return response
    if user is None:
        return to_login(PORTAL)
    return server.create_authorization_response(grant_user=user, grant=grant)


@bp.post("/token")
def token():
    return backchannel_fault(PORTAL.id, "token") or _server().create_token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    if (failed := backchannel_fault(PORTAL.id, "userinfo")) is not None:
        return failed
    auth = request.headers.get("Authorization", "")
    found = sandbox().store.get("sd-token", auth[7:] if auth.lower().startswith("bearer ") else None)
    account = found and sandbox().accounts.get(PORTAL.id, found["username"])
    if not account:   # RFC 6750 §3.1
        return jsonify(error="invalid_token"), 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}
    return jsonify(claims_for(account, found["scope"]))


@bp.get("/")
@bp.get("/account")
@bp.get("/account/upgrade")
def account():
    current = signed_in(PORTAL)
    if current is None:
        return to_login(PORTAL)
    return page(PORTAL, "sandbox/account.html", account=current, return_to=_return_to(),
                upgraded=request.args.get("upgraded") == "1")


@bp.post("/account/upgrade", endpoint="upgrade")
def upgrade():
    """Simulates the portal's face check: raises the signed-in user's level by one, up to 5."""
    current = signed_in(PORTAL)
    if current is None:
        return to_login(PORTAL)
    if not csrf_ok():
        return error_page(PORTAL, "页面已过期，请返回重试。", "The page expired; go back and try again.")
    sandbox().accounts.raise_level(PORTAL.id, current.username)
    query = {"upgraded": "1", **({"return_to": back} if (back := _return_to()) else {})}
    return redirect(f"/{PORTAL.id}/account?{urlencode(query)}", code=303)


def _return_to() -> str | None:
    """A link back to a registered client's site (e.g. the broker's "upgrade required" page)."""
    target = request.values.get("return_to") or ""
    origins = {_origin(u) for c in sandbox().clients.values() for u in c.redirect_uris}
    return target if target and _origin(target) in origins else None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


@bp.post("/_sandbox/rotate-key")
def rotate_key():
    """Test hook: publish a new signing key and sign with it from now on."""
    return jsonify(kid=current_app.extensions["sd_portal_keys"].rotate())

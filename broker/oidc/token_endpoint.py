"""POST /token for the authorization_code and refresh_token grants, written out step by step
(RFC 6749 §2.3.1, §3.2.1, §4.1.3-4.1.4, §5, §6; RFC 7636 §4.5-4.6; OpenID Connect Core §3.1.3;
RFC 9068 access tokens; RFC 9700 §2.1.1, §4.14.2). Client credentials stay with Authlib's grant.

These two grants are the hot path of every downstream portal (issue 5: >= 1,000 per second per
core). Authlib's grant classes cost ~3 ms a request here (its request objects and hooks, the
ORM unit of work); this does the same checks in the same order with Authlib's error classes,
so clients see the same answers, and stores with one conditional UPDATE ... RETURNING per
claim (``binding.oauth.GrantStore``). README "Performance" has the before/after figures."""
from __future__ import annotations

import base64
import hmac
import json
import re
import secrets
from urllib.parse import parse_qsl, unquote

from authlib.oauth2.rfc6749 import (InvalidClientError, InvalidGrantError, InvalidRequestError,
                                    InvalidScopeError, OAuth2Error, UnauthorizedClientError,
                                    UnsupportedGrantTypeError)
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core.util import create_half_hash
from flask import Response, request
from werkzeug.datastructures import MultiDict

from binding.oauth import OAuthClient, acr_for_level, user_claims
from binding.oauth.grants import GrantRef, GrantStore

from . import context as ctx
from .tokens import access_token_claims, login_of, sign_jwt, subject_row, ts

HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
CODE_VERIFIER = re.compile(r"^[a-zA-Z0-9\-._~]{43,128}$")    # RFC 7636 §4.1
REFRESH_TOKEN_BYTES = 36    # 48 URL-safe characters, 288 bits


def token_response() -> Response:
    """The token endpoint's answer: tokens, or an RFC 6749 §5.2 error (the transaction still
    commits, so a replayed code's or refresh token's revocation is kept)."""
    form = _form(request)
    grant_type = form.get("grant_type")
    if grant_type == "client_credentials" and not request.args:
        return ctx.provider().server.create_token_response()
    try:
        if request.args:   # RFC 6749 §3.2: token request parameters travel in the POST body
            raise InvalidRequestError("Send the token request's parameters in the POST body, not in the URL.")
        handler = _GRANTS.get(grant_type)
        if handler is None:
            raise _unsupported(grant_type)
        client, method = authenticate_client(form, request.headers.get("Authorization"))
        if not client.check_grant_type(grant_type):
            raise UnauthorizedClientError(f"The client is not authorized to use 'grant_type={grant_type}'")
        body = handler(client, method, form)
    except OAuth2Error as error:
        status, payload, headers = error()
        return Response(json.dumps(payload), status=status, headers=headers)
    return Response(json.dumps(body), status=200, headers=HEADERS)


def _form(req) -> MultiDict:
    """The POST body's parameters (RFC 6749 §3.2, Appendix B: form-urlencoded, UTF-8), parsed
    as werkzeug does for that content type (``parse_qsl``, blanks kept; a body that is not UTF-8
    has no parameters) without its general form machinery (~5% of a token request). The body is
    bounded by MAX_CONTENT_LENGTH and kept, so ``request.form`` still works afterwards."""
    if req.mimetype != "application/x-www-form-urlencoded":
        return req.form   # multipart (accepted before, as by Authlib), else nothing
    try:
        text = req.get_data(cache=True).decode()
    except UnicodeDecodeError:
        return MultiDict()
    return MultiDict(parse_qsl(text, keep_blank_values=True, errors="replace"))


def _required(form, name: str) -> str:
    value = form.get(name)
    if value is None:
        raise InvalidRequestError(f"Missing '{name}' in request.")
    return value


def _unsupported(grant_type: str | None) -> UnsupportedGrantTypeError:
    error = UnsupportedGrantTypeError(grant_type)
    # A fixed text, never the client's input (RFC 6749 §5.2 limits error_description's characters).
    error.description = "grant_type must be authorization_code, refresh_token or client_credentials"
    return error


# --- client authentication (RFC 6749 §2.3.1, Authlib's order and answers) ---------------------
def authenticate_client(form, authorization: str | None) -> tuple[OAuthClient, str]:
    """(client, method) by client_secret_basic, then client_secret_post, then none (public
    clients only). Secrets compare in constant time (``OAuthClient.check_client_secret``)."""
    directory = ctx.clients()
    client_id, secret = _basic_credentials(authorization)
    if client_id and secret:
        client = _known(directory, client_id, 401)
        if client.check_client_secret(secret) and client.check_endpoint_auth_method("client_secret_basic", "token"):
            return client, "client_secret_basic"
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if client_id and secret:
        client = _known(directory, client_id, 400)
        if client.check_client_secret(secret) and client.check_endpoint_auth_method("client_secret_post", "token"):
            return client, "client_secret_post"
    elif client_id:
        client = _known(directory, client_id, 400)
        if client.check_endpoint_auth_method("none", "token"):
            return client, "none"
    raise InvalidClientError(status_code=401, description=f"The client cannot authenticate with methods: {AUTH_METHODS}")


def _known(directory, client_id: str, status: int) -> OAuthClient:
    client = directory.get(client_id)
    if client is None:
        raise InvalidClientError(status_code=status, description="The client does not exist on this server.")
    return client


def _basic_credentials(authorization: str | None) -> tuple[str | None, str | None]:
    """RFC 6749 §2.3.1: id and secret form-urlencoded, then HTTP Basic (RFC 7617)."""
    if not authorization or " " not in authorization:
        return None, None
    scheme, encoded = authorization.split(None, 1)
    if scheme.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(encoded).decode()
    except ValueError:   # bad base64 (binascii.Error), non-ASCII input, undecodable bytes
        return None, None
    if ":" not in decoded:
        return decoded, None
    client_id, secret = decoded.split(":", 1)
    return unquote(client_id), unquote(secret)


# --- authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3.3) ------------------
def _authorization_code(client: OAuthClient, method: str, form) -> dict:
    store = ctx.grants()
    claimed = store.claim_code(_required(form, "code"), client.client_id)
    if claimed is None:
        raise InvalidGrantError("Invalid 'code' in request.")
    if claimed.redirect_uri and form.get("redirect_uri") != claimed.redirect_uri:
        raise InvalidGrantError("Invalid 'redirect_uri' in request.")
    _check_code_verifier(form.get("code_verifier"), claimed.code_challenge, public=method == "none")
    account = subject_row(claimed.account_id)
    if account is None:
        raise InvalidGrantError("There is no 'user' for this code.")
    scope = _allowed_scope(client, claimed.scope)
    login = login_of(claimed)
    grant = store.start_grant(client_id=client.client_id, grant_type="authorization_code", scope=scope,
                              account_id=claimed.account_id, login=login, code_id=claimed.id)
    body = _issue(store, client, grant, account.public_id, scope, login)
    if "openid" in scope.split():
        body["id_token"] = _id_token(client, claimed, account, scope, body["access_token"])
    return body


def _allowed_scope(client: OAuthClient, scope: str) -> str:
    """The scope as the client may have it NOW (its scopes can shrink after the code or the
    refresh token was issued): invalid_scope otherwise (RFC 6749 §3.3, as Authlib's token
    generator did)."""
    allowed = client.get_allowed_scope(scope)
    if allowed is None:
        raise InvalidScopeError()
    return allowed


def _check_code_verifier(verifier: str | None, challenge: str | None, *, public: bool) -> None:
    """RFC 7636 §4.6 with S256 only (plain is refused at the authorization request), and
    RFC 9700 §4.8: a verifier without a challenge is refused. Compared in constant time."""
    if public and not verifier:
        raise InvalidRequestError("Missing 'code_verifier'")
    if not challenge and not verifier:
        return
    if not challenge:
        raise InvalidRequestError("The authorization request had no 'code_challenge', "
                                  "but a 'code_verifier' was provided.")
    if not verifier:
        raise InvalidRequestError("Missing 'code_verifier'")
    if not CODE_VERIFIER.match(verifier):
        raise InvalidRequestError("Invalid 'code_verifier'")
    if not hmac.compare_digest(create_s256_code_challenge(verifier).encode(), challenge.encode()):
        raise InvalidGrantError(description="Code challenge failed.")


def _id_token(client: OAuthClient, code, account, scope: str, access_token: str) -> str:
    """OIDC Core §2 and §3.1.3.6 (at_hash), with ``sid`` (Back-Channel Logout §2.1) and the
    claims of the granted scopes (§5.4), as Authlib's OpenIDCode builds it."""
    now = ts(ctx.now())
    claims = {"iss": ctx.provider().issuer, "aud": client.client_id, "iat": now,
              "exp": now + ctx.provider().oidc.id_token_ttl_seconds, "auth_time": ts(code.auth_time),
              "acr": acr_for_level(code.cert_level), "sid": code.sid}
    if code.nonce:
        claims["nonce"] = code.nonce
    if code.amr:
        claims["amr"] = code.amr.split()
    claims["at_hash"] = create_half_hash(access_token, client.signing_alg).decode()
    claims.update(user_claims(ctx.db(), account, scope, code.account_kind))
    return sign_jwt(client, "JWT", claims)


# --- refresh_token (RFC 6749 §6, rotation: RFC 9700 §4.14.2) ------------------------------
def _refresh_token(client: OAuthClient, _method: str, form) -> dict:
    store = ctx.grants()
    claimed = store.claim_refresh(_required(form, "refresh_token"), client.client_id)
    if claimed is None:   # unknown, used, expired, revoked, or its account may not sign in
        raise InvalidGrantError("Invalid 'refresh_token' in request.")
    grant = claimed.grant
    scope = form.get("scope")
    if scope:
        if not claimed.scope or not set(claimed.scope.split()).issuperset(scope.split()):
            raise InvalidScopeError()
    else:
        scope = claimed.scope
    scope = _allowed_scope(client, scope)
    return _issue(store, client, GrantRef(grant.id, grant.client_id, grant.expires_at), claimed.subject, scope,
                  login_of(grant))


# --- issuing ----------------------------------------------------------------------------------
def _issue(store: GrantStore, client: OAuthClient, grant: GrantRef, subject: str, scope: str, login) -> dict:
    """An access token (RFC 9068) and, for clients allowed to refresh, a new refresh token,
    stored in ``grant`` (RFC 6749 §5.1)."""
    expires_in = ctx.provider().oidc.access_token_ttl_seconds
    claims = access_token_claims(client, subject, scope, login, expires_in)
    access_token = sign_jwt(client, "at+jwt", claims)
    body = {"token_type": "Bearer", "access_token": access_token, "expires_in": expires_in}
    refresh_token = None
    if client.check_grant_type("refresh_token"):
        refresh_token = body["refresh_token"] = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    if scope:
        body["scope"] = scope
    store.save_token(grant, access_token=access_token, jti=claims["jti"], expires_in=expires_in, scope=scope,
                     refresh_token=refresh_token)
    return body


_GRANTS = {"authorization_code": _authorization_code, "refresh_token": _refresh_token}

__all__ = ["authenticate_client", "token_response"]

"""The OpenID Connect endpoints. Protocol work is Authlib's (``broker.oidc.server``); the
authorization endpoint adds the broker's steps in order, node-oidc-provider style:
validate the request -> signed in? -> fresh enough (prompt=login, max_age)? -> client policy
(DOMAIN rules 8, 9, 24, every time) -> consent -> code."""
from __future__ import annotations

import hmac
from urllib.parse import quote, urlencode

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from binding.models import Account, AuditEvent
from binding.oauth import ClientPolicy, Consent, LoginContext, check, login_facts
from binding.oauth.config import USER_SCOPES

from ..csrf import csrf_exempt
from ..session import current_login
from . import context as ctx
from .server import Subject, UnmetAuthenticationRequirements

bp = Blueprint("oidc", __name__)

REAUTH_KEY = "oidc_reauth"      # set before sending the user to log in again; sign_in() clears it
_NOT_PARAMS = ("csrf_token", "decision")
ACR_PREFIX = "urn:tongxing:cert:"


# --- discovery ------------------------------------------------------------------------------
def metadata() -> dict:
    """OpenID Connect Discovery 1.0 §3 (+ RFC 8414, RFC 9207, Back-Channel / RP-Initiated Logout)."""
    iss = ctx.provider().issuer
    return {
        "issuer": iss,
        "authorization_endpoint": iss + url_for("oidc.authorize"),
        "token_endpoint": iss + url_for("oidc.token"),
        "userinfo_endpoint": iss + url_for("oidc.userinfo"),
        "jwks_uri": iss + url_for("oidc.jwks"),
        "end_session_endpoint": iss + url_for("oidc.end_session"),
        "introspection_endpoint": iss + url_for("oidc.introspect"),
        "revocation_endpoint": iss + url_for("oidc.revoke"),
        "scopes_supported": list(USER_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "acr_values_supported": [f"{ACR_PREFIX}{n}" for n in (1, 2, 3, 4)],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
                             "name", "preferred_username", "phone_number", "phone_number_verified",
                             "account_kind", "enterprise"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "ui_locales_supported": ["zh-CN", "en"],
    }


@bp.get("/.well-known/openid-configuration")
def discovery():
    response = jsonify(metadata())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/jwks.json")
@ctx.unit_of_work
def jwks():
    response = jsonify(ctx.keys().jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


# --- authorization --------------------------------------------------------------------------
@bp.route("/authorize", methods=["GET", "POST"])
def authorize():
    login = current_login()   # before our transaction opens (see context.unit_of_work)
    return _authorize(login, decision=request.form.get("decision") if request.method == "POST" else None)


@bp.post("/authorize/decline")
def decline():
    """The user gives up on an unmet requirement: back to the client with the reason."""
    login = current_login()
    return _decline(login)


@ctx.unit_of_work
def _authorize(login, decision: str | None):
    server = ctx.provider().server
    subject = _subject(login)
    try:
        grant = server.get_consent_grant(end_user=subject)
        return _after_validation(server, grant, subject, login, decision)
    except OAuth2Error as error:
        error.state = error.state or request.values.get("state")
        return _error_response(error)


def _after_validation(server, grant, subject, login, decision):
    data = grant.request.payload.data
    prompts = (data.get("prompt") or "").split()
    if subject is None:
        if "none" in prompts:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        return _to_login()
    if "login" in prompts or session.get(REAUTH_KEY):
        if "none" in prompts:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        session[REAUTH_KEY] = True
        return _to_login(drop_prompt_login=True)
    if _too_old(data.get("max_age"), login, grant.redirect_uri):
        if "none" in prompts:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        return _to_login()
    client = grant.request.client
    shortfalls = _shortfalls(client, subject, login, data.get("acr_values"))
    if shortfalls:
        if "none" in prompts:
            raise _refusal(shortfalls, grant.redirect_uri)
        return _unmet_page(client, shortfalls)
    if not _consented(client, subject, grant.request.scope, prompts):
        if decision == "allow":
            _save_consent(client, subject, grant.request.scope)
        elif decision == "deny":
            return _finish(server.create_authorization_response(grant_user=None, grant=grant))
        elif "none" in prompts:
            raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
        else:
            return _consent_page(client, grant.request.scope)
    response = server.create_authorization_response(grant_user=subject, grant=grant)
    if response.status_code in (302, 303) and "code=" in response.headers.get("Location", ""):
        ctx.grants().record_session_client(login.sid, client.client_id, subject.account.public_id)
        ctx.db().add(AuditEvent(at=ctx.now(), event="oidc.authorized", account_id=subject.account.id,
                                detail={"client_id": client.client_id, "scope": grant.request.scope}))
    return _finish(response)


@ctx.unit_of_work
def _decline(login):
    server = ctx.provider().server
    subject = _subject(login)
    try:
        grant = server.get_consent_grant(end_user=subject)
    except OAuth2Error as error:
        error.state = error.state or request.values.get("state")
        return _error_response(error)
    shortfalls = []
    if subject is not None:
        shortfalls = _shortfalls(grant.request.client, subject, login, grant.request.payload.data.get("acr_values"))
    error = _refusal(shortfalls, grant.redirect_uri)
    error.state = grant.request.payload.state
    return _error_response(error)


def _subject(login) -> Subject | None:
    if login is None:
        return None
    account = ctx.db().get(Account, login.account_id)
    if account is None or not account.active:
        return None
    return Subject(account, LoginContext(login.sid, login.auth_time, login.cert_level, tuple(login.auth_methods)))


def _too_old(max_age, login, redirect_uri) -> bool:
    """OIDC Core §3.1.2.1 max_age: re-authenticate when the login is older."""
    if max_age in (None, ""):
        return False
    try:
        seconds = int(max_age)
        if seconds < 0:
            raise ValueError
    except ValueError:
        raise InvalidRequestError("max_age must be a non-negative integer", redirect_uri=redirect_uri) from None
    return (ctx.now() - login.auth_time).total_seconds() > seconds


def _acr_min_level(acr_values: str | None) -> int:
    """acr_values (OIDC Core §3.1.2.1): the lowest requested ``urn:tongxing:cert:N`` becomes a
    requirement; values we do not know are ignored (voluntary)."""
    levels = []
    for value in (acr_values or "").split():
        if value.startswith(ACR_PREFIX) and value[len(ACR_PREFIX):].isdigit():
            levels.append(int(value[len(ACR_PREFIX):]))
    return min(levels) if levels else 1


def _shortfalls(client, subject: Subject, login, acr_values):
    policy = ClientPolicy.from_mapping(client.policy or {})
    facts = login_facts(ctx.db(), subject.account, login.cert_level, getattr(login, "account_kind", None))
    return check(policy, facts, ctx.now().date(), min_level=_acr_min_level(acr_values))


def _refusal(shortfalls, redirect_uri) -> OAuth2Error:
    from authlib.oauth2.rfc6749 import AccessDeniedError

    if any(s.unmet_authentication for s in shortfalls):
        return UnmetAuthenticationRequirements(redirect_uri=redirect_uri)
    return AccessDeniedError(redirect_uri=redirect_uri)


def _consented(client, subject: Subject, scope: str, prompts) -> bool:
    if ClientPolicy.from_mapping(client.policy or {}).first_party and "consent" not in prompts:
        return True
    if "consent" in prompts:
        return False
    row = ctx.db().query(Consent).filter_by(account_id=subject.account.id, client_id=client.client_id).first()
    return row is not None and set(scope.split()) <= set(row.scope.split())


def _save_consent(client, subject: Subject, scope: str) -> None:
    db = ctx.db()
    row = db.query(Consent).filter_by(account_id=subject.account.id, client_id=client.client_id).first()
    if row is None:
        row = Consent(account_id=subject.account.id, client_id=client.client_id, scope="", granted_at=ctx.now())
        db.add(row)
    row.scope = " ".join(sorted(set(row.scope.split()) | set(scope.split())))
    row.granted_at = ctx.now()
    db.add(AuditEvent(at=ctx.now(), event="oidc.consent_granted", account_id=subject.account.id,
                      detail={"client_id": client.client_id, "scope": scope}))


def _params(drop_prompt_login: bool = False) -> list[tuple[str, str]]:
    """The authorization request's own parameters (from the query, or the hidden form fields)."""
    out = []
    for key in request.values:
        if key in _NOT_PARAMS:
            continue
        for value in request.values.getlist(key):
            if key == "prompt" and drop_prompt_login:
                value = " ".join(p for p in value.split() if p != "login")
                if not value:
                    continue
            out.append((key, value))
    return out


def _authorize_path(drop_prompt_login: bool = False) -> str:
    return url_for("oidc.authorize") + "?" + urlencode(_params(drop_prompt_login))


def _to_login(drop_prompt_login: bool = False):
    return redirect("/login?next=" + quote(_authorize_path(drop_prompt_login), safe=""), 303)


def _finish(response):
    if request.method == "POST" and response.status_code == 302:
        response.status_code = 303   # after a POST, the browser must GET the client's URI
    return response


def _error_response(error: OAuth2Error):
    """A redirect to the client when its redirect URI is verified (with ``iss``, RFC 9207),
    otherwise an error page: never redirect to an unverified URI (RFC 6749 §4.1.2.1)."""
    server = ctx.provider().server
    if error.redirect_uri:
        return _finish(server.add_issuer(server.handle_error_response(None, error)))
    message = error.get_error_description() or error.error
    return render_template("oidc/request_error.html", error=error.error, description=message), 400


def _unmet_page(client, shortfalls):
    return render_template("oidc/unmet.html", client=client, shortfalls=shortfalls, params=_params(),
                           retry_url=_authorize_path()), 403


def _consent_page(client, scope: str):
    scopes = [s for s in scope.split() if s in USER_SCOPES]
    return render_template("oidc/consent.html", client=client, scopes=scopes, params=_params())


# --- token, userinfo, introspection, revocation ---------------------------------------------
@bp.post("/token")
@csrf_exempt
@ctx.unit_of_work
def token():
    return ctx.provider().server.create_token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf_exempt
@ctx.unit_of_work
def userinfo():
    """OIDC Core §5.3 (GET and POST, bearer token in the Authorization header)."""
    return ctx.provider().server.create_endpoint_response("userinfo")


@bp.post("/introspect")
@csrf_exempt
@ctx.unit_of_work
def introspect():
    return ctx.provider().server.create_endpoint_response("introspection")


@bp.post("/revoke")
@csrf_exempt
@ctx.unit_of_work
def revoke():
    return ctx.provider().server.create_endpoint_response("revocation")


# --- RP-initiated logout --------------------------------------------------------------------
@bp.route("/end_session", methods=["GET", "POST"])
@csrf_exempt   # RPs may POST here (RP-Initiated Logout §2); the confirmation form checks its own token
@ctx.unit_of_work
def end_session():
    server = ctx.provider().server
    try:
        req = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        return render_template("oidc/request_error.html", error=error.error,
                               description=error.get_error_description() or error.error), 400
    asked = request.values.get("post_logout_redirect_uri")
    if req.needs_confirmation and not _confirmed():
        return render_template("oidc/logout_confirm.html", client=req.client,
                               params=[(k, v) for k, v in _params() if k != "confirm"])
    response = server.create_endpoint_response("end_session", req)
    if response is not None:
        return _finish(response)
    return render_template("oidc/logged_out.html", refused_redirect=bool(asked), client=req.client)


def _confirmed() -> bool:
    if request.method != "POST" or request.form.get("confirm") != "yes":
        return False
    sent, expected = request.form.get("csrf_token", ""), session.get("csrf", "")
    return bool(expected) and hmac.compare_digest(sent.encode(), expected.encode())

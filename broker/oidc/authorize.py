"""The authorization endpoint (OIDC Core §3.1.2). Protocol work is Authlib's; the broker adds
its steps in order, node-oidc-provider style: validate the request -> signed in? -> fresh
enough (prompt=login, max_age)? -> client policy (DOMAIN rules 8, 9, 24, every time) ->
consent -> code."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidRequestError, OAuth2Error
from authlib.oidc.core.errors import ConsentRequiredError, LoginRequiredError
from flask import current_app, render_template, request, session

from binding.oauth import ClientPolicy, LoginContext, check, level_from_acr, login_facts
from binding.oauth.config import USER_SCOPES

from ..csrf import CsrfFailed, csrf_exempt, token_matches
from ..session import audit, current_login
from . import context as ctx
from .blueprint import bp
from .errors import UnmetAuthenticationRequirements, UnmetRequirements
from .flow import authorize_path, error_response, finish, form_action_headers, params, to_login
from .tokens import Subject, subject_for

REAUTH_KEY = "oidc_reauth"      # set before sending the user to log in again; sign_in() clears it


@bp.route("/authorize", methods=["GET", "POST"])
@csrf_exempt   # OIDC Core §3.1.2.1: an RP may POST the request; only the consent decision is ours
def authorize():
    decision = request.form.get("decision") if request.method == "POST" else None
    if decision is not None and not token_matches():
        raise CsrfFailed()
    login = current_login()   # before our transaction opens (see context.unit_of_work)
    return _authorize(login, decision)


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
        return error_response(error)


def _after_validation(server, grant, subject, login, decision):
    data = grant.request.payload.data
    prompts = _prompts(data)
    fail_silently = "none" in prompts
    if subject is None:
        if fail_silently:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        return to_login()
    if "login" in prompts or session.get(REAUTH_KEY):
        if fail_silently:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        session[REAUTH_KEY] = True
        return to_login(drop_prompt_login=True)
    if _too_old(data.get("max_age"), login, grant.redirect_uri):
        if fail_silently:
            raise LoginRequiredError(redirect_uri=grant.redirect_uri)
        return to_login()
    client = grant.request.client
    policy = _policy(client)
    shortfalls = _shortfalls(policy, subject, login, data.get("acr_values"))
    if shortfalls:
        _audit_refusal(client, subject, login, shortfalls)
        if fail_silently:
            raise _refusal(shortfalls, grant.redirect_uri)
        refused = UnmetRequirements(client, shortfalls, params(), authorize_path(), headers=form_action_headers(client))
        refused.keeps_changes = True   # the audit row outlives the refusal
        for extend in current_app.extensions.get("tongxing.unmet_page", []):   # e.g. federation's upgrade link
            refused.page[1].update(extend(ctx.db(), login, authorize_path()))
        raise refused
    scope = grant.request.scope
    if ctx.consents().needed(subject.account.id, client.client_id, scope, first_party=policy.first_party,
                             prompts=prompts):
        if decision == "allow":
            ctx.consents().grant(subject.account.id, client.client_id, scope)
        elif decision == "deny":
            return finish(server.create_authorization_response(grant_user=None, grant=grant))
        elif fail_silently:
            raise ConsentRequiredError(redirect_uri=grant.redirect_uri)
        else:
            return _consent_page(client, scope)
    response = server.create_authorization_response(grant_user=subject, grant=grant)
    if response.status_code in (302, 303) and "code=" in response.headers.get("Location", ""):
        ctx.grants().record_authorization(login.sid, client.client_id, subject.account.id,
                                          subject.account.public_id, scope)
    return finish(response)


def _prompts(data) -> list[str]:
    """``prompt`` values; ``max_age=0`` asks for a fresh login like ``prompt=login`` (OIDC Core
    §3.1.2.1), so it is handled the same way and cannot loop on sub-second login times."""
    prompts = (data.get("prompt") or "").split()
    if str(data.get("max_age") or "").strip() == "0":
        prompts.append("login")
    return prompts


@ctx.unit_of_work
def _decline(login):
    server = ctx.provider().server
    subject = _subject(login)
    try:
        grant = server.get_consent_grant(end_user=subject)
    except OAuth2Error as error:
        error.state = error.state or request.values.get("state")
        return error_response(error)
    shortfalls = []
    if subject is not None:
        shortfalls = _shortfalls(_policy(grant.request.client), subject, login,
                                 grant.request.payload.data.get("acr_values"))
    error = _refusal(shortfalls, grant.redirect_uri)
    error.state = grant.request.payload.state
    return error_response(error)


def _subject(login) -> Subject | None:
    if login is None:
        return None
    return subject_for(login.account_id,
                       LoginContext(login.sid, login.auth_time, login.cert_level, tuple(login.auth_methods),
                                    login.account_kind))


def _too_old(max_age, login, redirect_uri) -> bool:
    """OIDC Core §3.1.2.1 max_age: re-authenticate when more whole seconds have passed since
    the login (``auth_time`` is in whole seconds too)."""
    if max_age in (None, ""):
        return False
    try:
        seconds = int(max_age)
        if seconds < 0:
            raise ValueError
    except ValueError:
        raise InvalidRequestError("max_age must be a non-negative integer", redirect_uri=redirect_uri) from None
    return int((ctx.now() - login.auth_time).total_seconds()) > seconds


def _acr_min_level(acr_values: str | None) -> int:
    """acr_values (OIDC Core §3.1.2.1): the lowest requested ``urn:tongxing:cert:N`` becomes a
    requirement; values we do not know are ignored (voluntary)."""
    levels = [lvl for lvl in (level_from_acr(v) for v in (acr_values or "").split()) if lvl is not None]
    return min(levels) if levels else 1


def _policy(client) -> ClientPolicy:
    return ClientPolicy.from_mapping(client.policy or {})


def _shortfalls(policy: ClientPolicy, subject: Subject, login, acr_values):
    facts = login_facts(ctx.db(), subject.account, login.cert_level, getattr(login, "account_kind", None),
                        with_enterprise=policy.needs_enterprise)
    return check(policy, facts, ctx.now().date(), min_level=_acr_min_level(acr_values))


def _audit_refusal(client, subject: Subject, login, shortfalls) -> None:
    """A login refused by the client's policy (rules 8, 9, 24) is audited: who, which client,
    which shortfalls, and the level / kind of this login."""
    audit(ctx.db()).record("oidc.refused", subject.account.id, client_id=client.client_id,
                           shortfalls=[s.code for s in shortfalls], cert_level=login.cert_level,
                           account_kind=login.account_kind)


def _refusal(shortfalls, redirect_uri) -> OAuth2Error:
    if any(s.unmet_authentication for s in shortfalls):
        return UnmetAuthenticationRequirements(redirect_uri=redirect_uri)
    return AccessDeniedError(redirect_uri=redirect_uri)


def _consent_page(client, scope: str):
    scopes = [s for s in scope.split() if s in USER_SCOPES]
    return render_template("oidc/consent.html", client=client, scopes=scopes, params=params()), 200, \
        form_action_headers(client)

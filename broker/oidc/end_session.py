"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The browser's session ends
without a question only when the ``id_token_hint`` names this very session (its ``sid`` and
``sub``); any other hint, or none, could come from a forged link (§6): the user confirms."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import render_template, request

from ..csrf import csrf_exempt, token_matches
from ..session import current_login
from . import context as ctx
from .blueprint import bp
from .errors import OAuthRequestRefused
from .flow import finish, form_action_headers, params


@bp.route("/end_session", methods=["GET", "POST"])
@csrf_exempt   # RPs may POST here (RP-Initiated Logout §2); the confirmation form checks its own token
def end_session():
    login = current_login()   # before our transaction opens (see context.unit_of_work)
    return _end_session(login)


@ctx.unit_of_work
def _end_session(login):
    server = ctx.provider().server
    try:
        req = server.validate_endpoint_request("end_session")
    except OAuth2Error as error:
        raise OAuthRequestRefused.of(error) from None
    if _needs_confirmation(req, login) and not _confirmed():
        return render_template("oidc/logout_confirm.html", client=req.client, params=params()), 200, \
            form_action_headers(req.client)
    asked = request.values.get("post_logout_redirect_uri")
    response = server.create_endpoint_response("end_session", req)
    if response is not None:
        return finish(response)
    return render_template("oidc/logged_out.html", refused_redirect=bool(asked), client=req.client)


def _needs_confirmation(req, login) -> bool:
    """No valid hint (§6), or a hint for another session or user than the one signed in here."""
    claims = req.id_token_claims
    if claims is None:
        return True
    if login is None:
        return False   # nothing to end
    return claims.get("sid") != login.sid or claims.get("sub") != login.account_public_id


def _confirmed() -> bool:
    return request.method == "POST" and request.form.get("confirm") == "yes" and token_matches()

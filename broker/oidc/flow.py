"""Helpers the authorization and logout pages share: the request's own parameters, the way
back to it after a login, redirects after a POST, and the error answer (redirect to a verified
URI, or a page through ``broker.errors``)."""
from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import redirect, request, url_for

from . import context as ctx
from .errors import OAuthRequestRefused

_NOT_PARAMS = ("csrf_token", "decision", "confirm")
# The app's policy (broker.app) with form-action widened for a client's private-use schemes.
_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action {sources}; frame-ancestors 'none'; base-uri 'none'")


def params(drop_prompt_login: bool = False) -> list[tuple[str, str]]:
    """The request's own parameters (from the query, or the hidden form fields).
    ``drop_prompt_login``: without ``prompt=login`` and ``max_age=0``, once they sent the user to log in."""
    out = []
    # Not ``request.values``: its keys are a set, so the order (and the URL) would change per process.
    keys = dict.fromkeys([*request.args.keys(), *request.form.keys()])
    for key in keys:
        if key in _NOT_PARAMS:
            continue
        for value in request.values.getlist(key):
            if drop_prompt_login and key == "max_age" and value.strip() == "0":
                continue
            if key == "prompt" and drop_prompt_login:
                value = " ".join(p for p in value.split() if p != "login")
                if not value:
                    continue
            out.append((key, value))
    return out


def authorize_path(drop_prompt_login: bool = False) -> str:
    return url_for("oidc.authorize") + "?" + urlencode(params(drop_prompt_login))


def to_login(drop_prompt_login: bool = False):
    return redirect("/login?next=" + quote(authorize_path(drop_prompt_login), safe=""), 303)


def finish(response):
    if request.method == "POST" and response.status_code == 302:
        response.status_code = 303   # after a POST, the browser must GET the client's URI
    return response


def error_response(error: OAuth2Error):
    """A redirect to the client when its redirect URI is verified (with ``iss``, RFC 9207),
    otherwise a page: never redirect to an unverified URI (RFC 6749 §4.1.2.1)."""
    server = ctx.provider().server
    if error.redirect_uri:
        return finish(server.add_issuer(server.handle_error_response(None, error)))
    raise OAuthRequestRefused.of(error)


def form_action_headers(client) -> dict[str, str]:
    """Headers for a page whose form is answered by a redirect to ``client``. Chromium applies
    CSP ``form-action`` to that redirect (CSP 3 §6.3.1.1), so a native app's private-use scheme
    (``tongxing-app:``, RFC 8252 §7.1) must be listed; http(s) already is."""
    if client is None:
        return {}
    uris = [*(client.redirect_uris or []), *(client.post_logout_redirect_uris or [])]
    schemes = sorted({f"{urlsplit(u).scheme}:" for u in uris if urlsplit(u).scheme not in ("http", "https", "")})
    if not schemes:
        return {}
    return {"Content-Security-Policy": _CSP.format(sources=" ".join(["'self'", "http:", "https:", *schemes]))}

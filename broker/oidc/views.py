"""Discovery, JWKS, and the endpoints programs call: token, userinfo, introspection,
revocation. The authorization endpoint is ``authorize``, RP-initiated logout ``end_session``."""
from __future__ import annotations

from flask import jsonify, url_for

from binding.oauth import acr_for_level
from binding.oauth.config import USER_SCOPES

from ..csrf import csrf_exempt
from . import context as ctx
from .blueprint import bp
from .token_endpoint import token_response


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
        "acr_values_supported": [acr_for_level(n) for n in (1, 2, 3, 4)],
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
@ctx.unit_of_work(read_only=True)
def jwks():
    response = jsonify(ctx.keys().jwks())
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.post("/token")
@csrf_exempt
@ctx.unit_of_work(core=True)
def token():
    return token_response()


@bp.route("/userinfo", methods=["GET", "POST"])
@csrf_exempt
@ctx.unit_of_work(read_only=True)
def userinfo():
    """OIDC Core §5.3 (GET and POST, bearer token in the Authorization header)."""
    return ctx.provider().server.create_endpoint_response("userinfo")


@bp.post("/introspect")
@csrf_exempt
@ctx.unit_of_work(read_only=True)
def introspect():
    return ctx.provider().server.create_endpoint_response("introspection")


@bp.post("/revoke")
@csrf_exempt
@ctx.unit_of_work
def revoke():
    return ctx.provider().server.create_endpoint_response("revocation")

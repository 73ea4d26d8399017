"""Authlib endpoints other than the grants: introspection (RFC 7662), revocation (RFC 7009),
userinfo (OIDC Core §5.3) with its bearer-token validator (RFC 6750), RP-Initiated Logout,
and the ``iss`` authorization response parameter (RFC 9207)."""
from __future__ import annotations

from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.rpinitiated import EndSessionEndpoint

from binding.oauth import OAuthGrant, OAuthToken, user_claims

from . import context as ctx
from .tokens import Subject, TokenView, find_token, login_kind, ts

CONFIDENTIAL_AUTH = ["client_secret_basic", "client_secret_post"]


class Introspection(IntrospectionEndpoint):
    """RFC 7662, for confidential clients, about their own tokens."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token: TokenView):
        record = token.record
        subject = token.get_user()
        if token.for_user and subject is None:
            return {"active": False}   # account gone or disabled
        payload = {
            "active": True, "client_id": record.client_id, "token_type": "Bearer" if token.kind == "access_token"
            else "refresh_token", "scope": record.scope, "iss": ctx.provider().issuer,
            "aud": record.client_id, "iat": ts(record.issued_at), "exp": ts(token.expires_at),
            "sub": subject.get_user_id() if subject else record.client_id,
        }
        if token.kind == "access_token":
            payload["jti"] = record.jti
        if subject is not None:
            payload["username"] = subject.account.username
        return payload


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking a refresh token revokes its whole grant (§2.1)."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request):
        store, db = ctx.grants(), ctx.db()
        # The rows it changes, as ORM objects (None only if purged since it was found just now).
        if token.kind == "refresh_token":
            grant = db.get(OAuthGrant, token.record.grant_id)
            if grant is not None:
                store.revoke_grant(grant, "revoked_by_client")
        else:
            row = db.get(OAuthToken, token.record.id)
            if row is not None:
                store.revoke_token(row)


class AccessTokenValidator(BearerTokenValidator):
    """Bearer tokens at the userinfo endpoint: looked up by hash, so revocation takes effect;
    a token of a disabled account or a removed client is unknown (401 invalid_token)."""

    def authenticate_token(self, token_string):
        record = ctx.grants().find_token(token_string, "access_token")
        if record is None:
            return None
        token = TokenView(record, "access_token")
        return token if token.usable() else None


class UserInfo(UserInfoEndpoint):
    def get_issuer(self):
        return ctx.provider().issuer

    def generate_user_info(self, user: Subject | None, scope):
        if user is None:   # a token without a user (client credentials) has no userinfo
            raise InvalidTokenError()
        return user_claims(ctx.db(), user.account, scope, login_kind(user))


class EndSession(EndSessionEndpoint):
    """RP-Initiated Logout 1.0: ``post_logout_redirect_uri`` must match exactly (§3)."""

    def get_server_jwks(self):
        return ctx.keys().verification_keys()

    def get_algorithms(self):
        return ["ES256", "RS256"]

    def end_session(self, end_session_request):
        from .logout import end_browser_session

        end_browser_session()


class BrokerIssuer(IssuerParameter):
    """RFC 9207: ``iss`` in every authorization response, success and error."""

    def get_issuer(self):
        return ctx.provider().issuer


__all__ = ["AccessTokenValidator", "BrokerIssuer", "EndSession", "Introspection", "Revocation", "UserInfo"]

"""The grants of the authorization server, stricter than Authlib's defaults where the issue
asks: PKCE S256 only and required for public clients (RFC 7636, RFC 9700 §2.1.1); codes and
refresh tokens claimed atomically (``binding.oauth.GrantStore``); refresh rotation; client
credentials limited to the client's own scopes."""
from __future__ import annotations

import hmac

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oidc.core.grants import OpenIDCode

from binding.oauth import user_claims
from binding.oauth.config import USER_SCOPES

from . import context as ctx
from .tokens import Subject, TokenView, login_kind, login_of, subject_for, ts

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class S256CodeChallenge(CodeChallenge):
    """RFC 7636, stricter than Authlib's default: ``plain`` refused (RFC 9700 §2.1.1), a missing
    method means plain and is refused too, public clients must send a challenge at the
    authorization request, and the verifier is compared in constant time."""

    DEFAULT_CODE_CHALLENGE_METHOD = "plain"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {
        "S256": lambda verifier, challenge: hmac.compare_digest(
            create_s256_code_challenge(verifier).encode(), challenge.encode()),
    }

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if grant.request.client.public and not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if challenge and method is None:
            raise InvalidRequestError("code_challenge_method=S256 is required (plain is not supported)")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        subject: Subject = request.user
        data = request.payload.data
        ctx.grants().save_code(
            code, client_id=request.client.client_id, account_id=subject.account.id,
            redirect_uri=request.payload.redirect_uri, scope=request.scope, nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            login=subject.login)

    def query_authorization_code(self, code, client):
        return ctx.grants().claim_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code):
        """Kept, marked used (``claim_code``), so a replay is recognised."""

    def authenticate_user(self, authorization_code):
        """None (Authlib: invalid_grant) when the account was disabled since the code was issued."""
        return subject_for(authorization_code.account_id, login_of(authorization_code))


class BrokerOpenIDCode(OpenIDCode):
    """ID tokens (OIDC Core §2, §3.1.3.6) dated by the injected clock, with ``sid``
    (Back-Channel Logout §2.1), signed with the client's key."""

    def exists_nonce(self, nonce, request):
        return ctx.grants().nonce_used(request.payload.client_id, nonce)

    def generate_user_info(self, user: Subject, scope):
        return user_claims(ctx.db(), user.account, scope, login_kind(user))

    def get_client_algorithm(self, client):
        return client.signing_alg

    def resolve_client_private_key(self, client):
        return ctx.keys().signing_key(client.signing_alg)

    def get_encode_header(self, client):
        return {"alg": client.signing_alg, "typ": "JWT", "kid": ctx.keys().signing(client.signing_alg)[0]}

    def get_compatible_claims(self, request):
        now = ts(ctx.now())
        return {"iss": ctx.provider().issuer, "aud": request.client.get_client_id(), "iat": now,
                "exp": now + ctx.provider().oidc.id_token_ttl_seconds, "auth_time": now}

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = authorization_code.sid
        return claims


class RefreshGrant(RefreshTokenGrant):
    """Rotation on every use; a used refresh token presented again revokes the grant."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        """The live token, or None (Authlib: invalid_grant, RFC 6749 §5.2) when it is unknown,
        used, expired, revoked, or its account may no longer sign in."""
        row = ctx.grants().claim_refresh(refresh_token, self.request.client.client_id)
        if row is None:
            return None
        token = TokenView(row, "refresh_token")
        return token if token.usable() else None

    def authenticate_user(self, refresh_token: TokenView):
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token):
        """Already marked used when claimed (``claim_refresh``)."""


class ClientCredentials(ClientCredentialsGrant):
    """System-to-system tokens (RFC 6749 §4.4) for the client's own (non-user) scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self):
        super().validate_token_request()
        own = [s for s in self.request.client.scopes if s not in USER_SCOPES]
        asked = (self.request.payload.scope or "").split()
        if any(s not in own for s in asked):
            raise InvalidScopeError("a scope is not allowed for this client's client_credentials grant")
        self.request.granted_scope = " ".join(asked or own)

    def create_token_response(self):
        token = self.generate_token(scope=self.request.granted_scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


__all__ = ["BrokerOpenIDCode", "ClientCredentials", "CodeGrant", "RefreshGrant", "S256CodeChallenge"]

"""The grants of the authorization server, stricter than Authlib's defaults where the issue
asks: PKCE S256 only and required for public clients (RFC 7636, RFC 9700 §2.1.1); client
credentials limited to the client's own scopes. Codes and refresh tokens are redeemed by
``token_endpoint``."""
from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, ClientCredentialsGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode

from binding.oauth.config import USER_SCOPES

from . import context as ctx
from .tokens import Subject


class S256CodeChallenge(CodeChallenge):
    """RFC 7636 at the authorization request, stricter than Authlib's default: ``plain`` refused
    (RFC 9700 §2.1.1), a missing method means plain and is refused too, public clients must
    send a challenge. The verifier is checked by ``token_endpoint``."""

    DEFAULT_CODE_CHALLENGE_METHOD = "plain"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        challenge, method = data.get("code_challenge"), data.get("code_challenge_method")
        if grant.request.client.public and not challenge:
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256")
        if challenge and method is None:
            raise InvalidRequestError("code_challenge_method=S256 is required (plain is not supported)")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):
    """The authorization request side (RFC 6749 §4.1.1-4.1.2); the code is exchanged by
    ``token_endpoint``."""

    @classmethod
    def check_token_endpoint(cls, request):
        return False   # never Authlib's token endpoint (``token_endpoint`` handles the exchange)

    def save_authorization_code(self, code, request):
        subject: Subject = request.user
        data = request.payload.data
        ctx.grants().save_code(
            code, client_id=request.client.client_id, account_id=subject.account.id,
            redirect_uri=request.payload.redirect_uri, scope=request.scope, nonce=data.get("nonce"),
            code_challenge=data.get("code_challenge"), code_challenge_method=data.get("code_challenge_method"),
            login=subject.login)


class BrokerOpenIDCode(OpenIDCode):
    """OIDC authorization requests (nonce replay check); ID tokens are issued by
    ``token_endpoint``."""

    def exists_nonce(self, nonce, request):
        return ctx.grants().nonce_used(request.payload.client_id, nonce)


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


__all__ = ["BrokerOpenIDCode", "ClientCredentials", "CodeGrant", "S256CodeChallenge"]

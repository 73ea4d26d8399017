"""Authlib's authorization server, wired to the broker's domain (``binding.oauth``).

Authlib does the protocol (RFC 6749 grants, OIDC Core code flow, RFC 7636, RFC 7662, RFC 7009,
RFC 9068, RFC 9207, RP-Initiated Logout); the subclasses here only supply storage, the injected
clock, and the places where the broker is stricter than Authlib's defaults:
PKCE is S256 only and required for public clients at the authorization request already;
secrets and verifiers compare in constant time; codes and refresh tokens are claimed atomically.
"""
from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass

from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, OAuth2Error
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from joserfc import jwt

from binding.models import Account
from binding.oauth import LoginContext, OAuthGrant, OAuthToken, user_claims
from binding.oauth.config import USER_SCOPES

from . import context as ctx


@dataclass
class Subject:
    """The resource owner Authlib passes around: the account and the login it came with."""

    account: Account
    login: LoginContext | None

    def get_user_id(self) -> str:
        return self.account.public_id


class UnmetAuthenticationRequirements(OAuth2Error):
    """OpenID Connect Unmet Authentication Requirements 1.0 §3."""

    error = "unmet_authentication_requirements"


def _ts(dt) -> int:
    return int(dt.timestamp())


def _subject_for(account_id: int | None, login: LoginContext | None) -> Subject | None:
    if account_id is None:
        return None
    account = ctx.db().get(Account, account_id)
    if account is None or not account.active:
        return None
    return Subject(account, login)


def _login_of(grant: OAuthGrant) -> LoginContext | None:
    if grant.sid is None:
        return None
    return LoginContext(grant.sid, grant.auth_time, grant.cert_level, tuple((grant.amr or "").split()))


class TokenView:
    """A stored token as Authlib's TokenMixin; ``kind`` is access_token or refresh_token."""

    def __init__(self, row: OAuthToken, kind: str):
        self.row = row
        self.kind = kind

    @property
    def scope(self) -> str:
        return self.row.scope

    def get_scope(self) -> str:
        return self.row.scope

    def check_client(self, client) -> bool:
        return hmac.compare_digest(self.row.client_id, client.get_client_id())

    def get_expires_in(self) -> int:
        return max(0, _ts(self.expires_at) - _ts(ctx.now()))

    @property
    def expires_at(self):
        if self.kind == "refresh_token":
            return min(self.row.refresh_expires_at, self.row.grant.expires_at)
        return self.row.access_expires_at

    def is_expired(self) -> bool:
        return ctx.now() >= self.expires_at

    def is_revoked(self) -> bool:
        if self.row.grant.revoked_at is not None:
            return True
        if self.kind == "refresh_token":
            return self.row.refresh_used_at is not None
        return self.row.revoked_at is not None   # the access token alone (RFC 7009 §2)

    def get_user(self) -> Subject | None:
        return _subject_for(self.row.grant.account_id, _login_of(self.row.grant))

    def get_client(self):
        return ctx.clients().get(self.row.client_id)


def _find_token(token: str, hint: str | None) -> TokenView | None:
    store = ctx.grants()
    order = ["refresh_token", "access_token"] if hint == "refresh_token" else ["access_token", "refresh_token"]
    for kind in order:
        row = store.find_access(token) if kind == "access_token" else store.find_refresh(token)
        if row is not None:
            return TokenView(row, kind)
    return None


# --- tokens ---------------------------------------------------------------------------------
class AccessTokens(JWTBearerTokenGenerator):
    """JWT access tokens (RFC 9068 §2), signed with the client's algorithm, dated by the
    injected clock. Refresh tokens are opaque random strings."""

    def __init__(self, issuer: str):
        super().__init__(issuer=issuer, refresh_token_generator=lambda **kw: generate_token(48),
                         expires_generator=self._expires_in)

    @staticmethod
    def _expires_in(client, grant_type) -> int:
        o = ctx.provider().oidc
        return o.client_credentials_ttl_seconds if grant_type == "client_credentials" else o.access_token_ttl_seconds

    def access_token_generator(self, client, grant_type, user, scope):
        now = _ts(ctx.now())
        claims = {
            "iss": self.issuer, "iat": now, "exp": now + self._expires_in(client, grant_type),
            "aud": client.get_client_id(), "client_id": client.get_client_id(),
            "sub": user.get_user_id() if user else client.get_client_id(),
            "jti": generate_token(24), "scope": scope,
        }
        if user is not None and user.login is not None:
            claims["auth_time"] = _ts(user.login.auth_time)
            claims["acr"] = f"urn:tongxing:cert:{user.login.cert_level}"
            claims["amr"] = list(user.login.amr)
        row = ctx.keys().active_row(client.signing_alg)
        key = ctx.keys().signing_key(client.signing_alg)
        header = {"alg": client.signing_alg, "typ": "at+jwt", "kid": row.kid}
        return jwt.encode(header, claims, key, algorithms=[client.signing_alg])


def _jti_of(access_token: str) -> str:
    payload = access_token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))["jti"]


# --- grants ---------------------------------------------------------------------------------
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
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

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
        login = LoginContext(authorization_code.sid, authorization_code.auth_time, authorization_code.cert_level,
                             tuple(authorization_code.amr.split()))
        return _subject_for(authorization_code.account_id, login)


class BrokerOpenIDCode(OpenIDCode):
    """ID tokens (OIDC Core §2, §3.1.3.6) dated by the injected clock, with ``sid``
    (Back-Channel Logout §2.1), signed with the client's key."""

    def exists_nonce(self, nonce, request):
        return ctx.grants().nonce_used(request.payload.client_id, nonce)

    def generate_user_info(self, user: Subject, scope):
        return user_claims(ctx.db(), user.account, scope)

    def get_client_algorithm(self, client):
        return client.signing_alg

    def resolve_client_private_key(self, client):
        return ctx.keys().signing_key(client.signing_alg)

    def get_encode_header(self, client):
        return {"alg": client.signing_alg, "typ": "JWT", "kid": ctx.keys().active_row(client.signing_alg).kid}

    def get_compatible_claims(self, request):
        now = _ts(ctx.now())
        return {"iss": ctx.provider().issuer, "aud": request.client.get_client_id(), "iat": now,
                "exp": now + ctx.provider().oidc.id_token_ttl_seconds, "auth_time": now}

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        claims["sid"] = authorization_code.sid
        return claims


class RefreshGrant(RefreshTokenGrant):
    """Rotation on every use; a used refresh token presented again revokes the grant."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        row = ctx.grants().claim_refresh(refresh_token, self.request.client.client_id)
        return TokenView(row, "refresh_token") if row is not None else None

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


# --- endpoints ------------------------------------------------------------------------------
CONFIDENTIAL_AUTH = ["client_secret_basic", "client_secret_post"]


class Introspection(IntrospectionEndpoint):
    """RFC 7662, for confidential clients, about their own tokens."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def query_token(self, token_string, token_type_hint):
        return _find_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def introspect_token(self, token: TokenView):
        grant = token.row.grant
        subject = token.get_user()
        if grant.account_id is not None and subject is None:
            return {"active": False}   # account gone or disabled
        payload = {
            "active": True, "client_id": token.row.client_id, "token_type": "Bearer" if token.kind == "access_token"
            else "refresh_token", "scope": token.row.scope, "iss": ctx.provider().issuer,
            "aud": token.row.client_id, "iat": _ts(token.row.issued_at), "exp": _ts(token.expires_at),
            "sub": subject.get_user_id() if subject else token.row.client_id,
        }
        if token.kind == "access_token":
            payload["jti"] = token.row.jti
        if subject is not None:
            payload["username"] = subject.account.username
        return payload


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking a refresh token revokes its whole grant (§2.1)."""

    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH

    def query_token(self, token_string, token_type_hint):
        return _find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenView, request):
        store = ctx.grants()
        if token.kind == "refresh_token":
            store.revoke_grant(token.row.grant, "revoked_by_client")
        else:
            store.revoke_token(token.row)


class AccessTokenValidator(BearerTokenValidator):
    """Bearer tokens at the userinfo endpoint: looked up by hash, so revocation takes effect."""

    def authenticate_token(self, token_string):
        row = ctx.grants().find_access(token_string)
        return TokenView(row, "access_token") if row is not None else None


class UserInfo(UserInfoEndpoint):
    def get_issuer(self):
        return ctx.provider().issuer

    def generate_user_info(self, user: Subject, scope):
        if user is None:
            return {}
        return user_claims(ctx.db(), user.account, scope)


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


class BrokerAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        return ctx.clients().get(client_id)

    def save_token(self, token, request):
        store = ctx.grants()
        if getattr(request, "authorization_code", None) is not None:
            code = request.authorization_code
            subject: Subject = request.user
            grant = store.start_grant(client_id=code.client_id, grant_type="authorization_code", scope=code.scope,
                                      account_id=subject.account.id, login=subject.login)
            code.grant_id = grant.id
        elif getattr(request, "refresh_token", None) is not None:
            grant = request.refresh_token.row.grant
        else:
            grant = store.start_grant(client_id=request.client.client_id, grant_type="client_credentials",
                                      scope=token.get("scope", ""))
        store.save_token(grant, access_token=token["access_token"], jti=_jti_of(token["access_token"]),
                         expires_in=token["expires_in"], scope=token.get("scope", ""),
                         refresh_token=token.get("refresh_token"))

    def add_issuer(self, response):
        self._issuer.add_issuer_parameter(self, response)
        return response


def build_server(issuer: str) -> BrokerAuthorizationServer:
    server = BrokerAuthorizationServer()
    server.register_token_generator("default", AccessTokens(issuer))
    server._issuer = BrokerIssuer()
    server.register_extension(server._issuer)
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), BrokerOpenIDCode(require_nonce=False)])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentials)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(UserInfo(resource_protector=protector))
    server.register_endpoint(EndSession)
    return server


"""Authlib's authorization server, wired to the broker's domain (``binding.oauth``).

Authlib does the protocol (RFC 6749 grants, OIDC Core code flow, RFC 7636, RFC 7662, RFC 7009,
RFC 9068, RFC 9207, RP-Initiated Logout); the subclasses in ``grants``, ``tokens`` and
``endpoints`` only supply storage, the injected clock, and the places where the broker is
stricter than Authlib's defaults. Secrets and verifiers compare in constant time.
"""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector

from . import context as ctx
from .endpoints import AccessTokenValidator, BrokerIssuer, EndSession, Introspection, Revocation, UserInfo
from .grants import BrokerOpenIDCode, ClientCredentials, CodeGrant, RefreshGrant, S256CodeChallenge
from .tokens import AccessTokens, Subject, jti_of


class BrokerAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        return ctx.clients().get(client_id)

    def save_token(self, token, request):
        """Tokens from a code start a grant bound to the login (``sid``); a refresh adds to its
        grant; client credentials start a grant without a user."""
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
        store.save_token(grant, access_token=token["access_token"], jti=jti_of(token["access_token"]),
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

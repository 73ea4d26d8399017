"""Authlib's authorization server, wired to the broker's domain (``binding.oauth``).

Authlib does the protocol (RFC 6749 authorization and client-credentials grants, OIDC Core
authorization requests, RFC 7636, RFC 7662, RFC 7009, RFC 9068, RFC 9207, RP-Initiated Logout);
the token endpoint's code and refresh grants are ``token_endpoint``. The subclasses in
``grants``, ``tokens`` and ``endpoints`` only supply storage, the injected clock, and the places
where the broker is stricter than Authlib's defaults. Secrets and verifiers compare in constant time.
"""
from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector

from . import context as ctx
from .endpoints import AccessTokenValidator, BrokerIssuer, EndSession, Introspection, Revocation, UserInfo
from .grants import BrokerOpenIDCode, ClientCredentials, CodeGrant, S256CodeChallenge
from .tokens import AccessTokens, jti_of


class BrokerAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        return ctx.clients().get(client_id)

    def save_token(self, token, request):
        """Client credentials (the only grant Authlib issues here: ``token_endpoint``) start a
        grant without a user."""
        store = ctx.grants()
        grant = store.start_grant(client_id=request.client.client_id, grant_type="client_credentials",
                                  scope=token.get("scope", ""))
        store.save_token(grant, access_token=token["access_token"], jti=jti_of(token["access_token"]),
                         expires_in=token["expires_in"], scope=token.get("scope", ""), refresh_token=None)

    def add_issuer(self, response):
        self._issuer.add_issuer_parameter(self, response)
        return response


def build_server(issuer: str) -> BrokerAuthorizationServer:
    server = BrokerAuthorizationServer()
    server.register_token_generator("default", AccessTokens(issuer))
    server._issuer = BrokerIssuer()
    server.register_extension(server._issuer)
    server.register_grant(CodeGrant, [S256CodeChallenge(required=True), BrokerOpenIDCode(require_nonce=False)])
    server.register_grant(ClientCredentials)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(AccessTokenValidator())
    server.register_endpoint(UserInfo(resource_protector=protector))
    server.register_endpoint(EndSession)
    return server

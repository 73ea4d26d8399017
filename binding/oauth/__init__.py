"""The domain side of the OpenID Connect provider (issue 3): clients and their policies,
codes, grants, tokens, signing keys. No web framework here; ``broker.oidc`` wires it to Authlib."""
from .claims import account_kind_claim, enterprise_facts, login_facts, user_claims
from .clients import ClientDirectory, client_from_spec, client_json, new_client_secret
from .consents import ConsentStore
from .config import ClientSpec, OidcSettings, config_client_specs, oidc_settings
from .grants import GrantStore, LoginContext
from .keys import KeyStore
from .models import (
    ACR_PREFIX, AuthorizationCode, Consent, OAuthClient, OAuthGrant, OAuthToken, SessionClient, SigningKey,
    acr_for_level, level_from_acr,
)
from .policy import ClientPolicy, EnterpriseFacts, LoginFacts, Shortfall, check

__all__ = [
    "ACR_PREFIX", "AuthorizationCode", "ClientDirectory", "ClientPolicy", "ClientSpec", "Consent", "ConsentStore",
    "EnterpriseFacts",
    "GrantStore", "KeyStore", "LoginContext", "LoginFacts", "OAuthClient", "OAuthGrant", "OAuthToken",
    "OidcSettings", "SessionClient", "Shortfall", "SigningKey", "account_kind_claim", "acr_for_level", "check",
    "client_from_spec", "client_json", "config_client_specs", "enterprise_facts", "level_from_acr", "login_facts",
    "new_client_secret", "oidc_settings", "user_claims",
]

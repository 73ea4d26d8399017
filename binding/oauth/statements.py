"""The token endpoint's statements, built once and compiled once per dialect (issue 5, README
"Performance"): ``Prepared`` runs them on the DB-API cursor with SQLAlchemy's own SQL and type
processing. Used by ``GrantStore`` on the authorization, code-exchange and refresh paths, and to find a
presented token (userinfo, introspection, revocation)."""
from __future__ import annotations

from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from binding.models import Account
from binding.prepared import Prepared, insert_all

from .models import AuthorizationCode, OAuthGrant, OAuthToken, SessionClient

_codes, _grants, _tokens, _accounts = (AuthorizationCode.__table__, OAuthGrant.__table__, OAuthToken.__table__,
                                       Account.__table__)
_session_clients = SessionClient.__table__

# What a successful claim returns (``GrantStore.claim_code`` / ``claim_refresh``).
CLAIMED_CODE = ("id", "account_id", "redirect_uri", "scope", "nonce", "code_challenge", "code_challenge_method",
                "sid", "auth_time", "cert_level", "amr", "account_kind", "expires_at")
CLAIMED_REFRESH_GRANT = ("id", "client_id", "account_id", "scope", "sid", "auth_time", "cert_level", "amr",
                         "account_kind", "expires_at", "revoked_at")

# Single use (RFC 6749 §4.1.2): only one exchange can set used_at.
CLAIM_CODE = Prepared(update(_codes)
              .where(_codes.c.code_hash == bindparam("p_hash"), _codes.c.client_id == bindparam("p_client"),
                     _codes.c.used_at.is_(None))
              .values(used_at=bindparam("p_now"))
              .returning(*(_codes.c[name] for name in CLAIMED_CODE)))

# Rotation (RFC 9700 §4.14.2): only one refresh can set refresh_used_at.
CLAIM_REFRESH = Prepared(update(_tokens)
                 .where(_tokens.c.refresh_token_hash == bindparam("p_hash"),
                        _tokens.c.client_id == bindparam("p_client"), _tokens.c.refresh_used_at.is_(None))
                 .values(refresh_used_at=bindparam("p_now"))
                 .returning(_tokens.c.grant_id, _tokens.c.scope, _tokens.c.refresh_expires_at))

# ``status`` is the account's (a grant has none), so ``binding.accounts.can_sign_in`` reads the row.
GRANT_WITH_SUBJECT = Prepared(select(*(_grants.c[name] for name in CLAIMED_REFRESH_GRANT),
                             _accounts.c.public_id.label("subject"), _accounts.c.status)
                      .select_from(_grants.outerjoin(_accounts, _accounts.c.id == _grants.c.account_id))
                      .where(_grants.c.id == bindparam("p_grant")))

INSERT_GRANT = insert_all(_grants, (_grants.c.id,))
INSERT_TOKEN = insert_all(_tokens)

# The columns of an account that tokens and ID-token claims read.
SUBJECT_COLUMNS = ("id", "public_id", "username", "display_name", "phone", "phone_verified", "kind", "status")
SUBJECT = Prepared(select(*(_accounts.c[name] for name in SUBJECT_COLUMNS))
                   .where(_accounts.c.id == bindparam("p_account")))


# A presented token with its grant and the grant's account (none for client credentials): what
# userinfo (RFC 6750), introspection (RFC 7662) and revocation (RFC 7009) read, in one SELECT.
TOKEN_RECORD_COLUMNS = ("id", "grant_id", "client_id", "jti", "scope", "issued_at", "access_expires_at",
                        "refresh_expires_at", "refresh_used_at", "revoked_at")
TOKEN_RECORD_GRANT_COLUMNS = ("account_id", "sid", "auth_time", "cert_level", "amr", "account_kind")


def _token_record(hash_column) -> Prepared:
    return Prepared(select(*(_tokens.c[name] for name in TOKEN_RECORD_COLUMNS),
                           *(_grants.c[name] for name in TOKEN_RECORD_GRANT_COLUMNS),
                           _grants.c.revoked_at.label("grant_revoked_at"),
                           _grants.c.expires_at.label("grant_expires_at"),
                           *(_accounts.c[name].label("subject_" + name) for name in SUBJECT_COLUMNS))
                    .select_from(_tokens.join(_grants, _grants.c.id == _tokens.c.grant_id)
                                 .outerjoin(_accounts, _accounts.c.id == _grants.c.account_id))
                    .where(hash_column == bindparam("p_hash")))


TOKEN_BY_ACCESS_HASH = _token_record(_tokens.c.access_token_hash)
TOKEN_BY_REFRESH_HASH = _token_record(_tokens.c.refresh_token_hash)


# The authorization endpoint (every login's /authorize): the nonce replay check (OIDC Core
# §3.1.2.1; Authlib asks twice per request), the code, and the client the session signed into
# (told when the session ends: Back-Channel Logout §2.7).
NONCE_USED = Prepared(select(exists().where(_codes.c.client_id == bindparam("p_client"),
                                            _codes.c.nonce == bindparam("p_nonce")).label("used")))
INSERT_CODE = insert_all(_codes)
# Once per session and client (unique): two /authorize of one session for one client at once
# must not collide (PostgreSQL would raise on the second INSERT), so the INSERT gives way.
INSERT_SESSION_CLIENT = {
    name: Prepared(insert(_session_clients).on_conflict_do_nothing(index_elements=["sid", "client_id"]).inline(),
                   tuple(c.key for c in _session_clients.columns if not c.primary_key))
    for name, insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))}

"""The authorization code flow end to end, and the ID / access tokens a portal receives."""
from __future__ import annotations

from urllib.parse import unquote

from tests.support.statements import driver_statements

from .conftest import ISSUER, login, query_of


def test_discovery_lists_the_endpoints_and_only_safe_choices(client):
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == ISSUER
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                       ("userinfo_endpoint", "/userinfo"), ("jwks_uri", "/jwks.json"),
                       ("end_session_endpoint", "/end_session"), ("introspection_endpoint", "/introspect"),
                       ("revocation_endpoint", "/revoke")]:
        assert meta[name] == ISSUER + path
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in meta["grant_types_supported"] and "implicit" not in meta["grant_types_supported"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["backchannel_logout_supported"] and meta["backchannel_logout_session_supported"]
    assert {"ES256", "RS256"} <= set(meta["id_token_signing_alg_values_supported"])
    assert "urn:tongxing:cert:3" in meta["acr_values_supported"]
    assert {"openid", "profile", "phone", "enterprise"} <= set(meta["scopes_supported"])


def test_jwks_publishes_public_keys_only(rp, client):
    login(client, "zhangsan")
    rp("smebj").tokens()   # creates the signing key on first use
    keys = client.get("/jwks.json").get_json()["keys"]
    assert keys and all("d" not in k and "p" not in k for k in keys)
    assert all(k.get("kid") and k.get("use") == "sig" for k in keys)


def test_not_signed_in_goes_to_the_login_page_and_comes_back(rp, client):
    smebj = rp("smebj")
    response = smebj.authorize()
    assert response.status_code in (302, 303)
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    nxt = unquote(location.split("next=", 1)[1])
    assert nxt.startswith("/authorize?")
    login(client, "zhangsan")
    back = client.get(nxt)
    q = query_of(back.headers["Location"])
    assert back.headers["Location"].startswith(smebj.redirect_uri + "?")
    assert q["code"] and q["iss"] == ISSUER and q["state"] == smebj.last_params["state"]


def test_id_token_and_access_token_carry_the_login(rp, client, clock):
    login(client, "zhangsan")
    smebj = rp("smebj")
    tokens = smebj.tokens(nonce="n-123", scope="openid profile phone")
    assert tokens["token_type"].lower() == "bearer" and tokens["expires_in"] > 0 and tokens["refresh_token"]
    id_token = smebj.verify(tokens["id_token"], typ="JWT")
    assert id_token["header"]["alg"] == "ES256" and id_token["header"]["kid"]
    assert id_token["nonce"] == "n-123"
    assert id_token["acr"] == "urn:tongxing:cert:2"      # local login with a verified phone
    assert id_token["amr"] == ["pwd"]
    assert id_token["auth_time"] == int(clock().timestamp())
    assert id_token["sid"] and id_token["account_kind"] == "personal"
    assert id_token["name"] == "zhangsan" and id_token["phone_number"] == "+8613800138001"
    assert id_token["phone_number_verified"] is True
    access = smebj.verify(tokens["access_token"], typ="at+jwt")
    assert access["sub"] == id_token["sub"] and access["client_id"] == "smebj"
    assert access["scope"] == "openid profile phone" and access["jti"]
    assert access["acr"] == "urn:tongxing:cert:2"


def test_sub_is_stable_across_logins_and_clients(rp, client):
    login(client, "zhangsan")
    first = rp("smebj").verify(rp("smebj").tokens()["id_token"])
    login(client, "zhangsan")
    smebj = rp("smebj")
    second = smebj.verify(smebj.tokens()["id_token"])
    assert first["sub"] == second["sub"]
    assert first["sid"] != second["sid"]


def test_userinfo_get_and_post(rp, client):
    login(client, "zhangsan")
    smebj = rp("smebj")
    access = smebj.tokens(scope="openid profile")["access_token"]
    for method in ("GET", "POST"):
        response = smebj.userinfo(access, method)
        assert response.status_code == 200
        info = response.get_json()
        assert info["name"] == "zhangsan" and "phone_number" not in info   # phone scope not asked


def test_userinfo_reads_token_grant_and_account_in_one_statement(rp, client, app):
    """A downstream portal calls userinfo after every login: one SELECT (the token with its
    grant and account), no second look-up of the account (README "Performance", third round)."""
    login(client, "zhangsan")
    smebj = rp("smebj")
    access = smebj.tokens(scope="openid profile")["access_token"]
    with driver_statements(app.extensions["tongxing"].read_engine) as statements:
        assert smebj.userinfo(access).status_code == 200
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1, statements


def test_a_nonce_is_accepted_once_per_client(rp, client):
    """OIDC Core §3.1.2.1 / §15.5.2: a nonce seen before for the client is a replay."""
    login(client, "zhangsan")
    smebj = rp("smebj")
    smebj.code(nonce="n-once")
    replay = smebj.authorize(nonce="n-once")
    assert replay.status_code in (302, 303)
    answer = query_of(replay.headers["Location"])
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert smebj.code(nonce="n-twice")


def test_userinfo_refuses_a_bad_token(rp):
    response = rp("smebj").userinfo("not-a-token")
    assert response.status_code == 401
    assert "invalid_token" in response.headers.get("WWW-Authenticate", "")


def test_enterprise_scope_gives_the_certified_enterprise(rp, client):
    login(client, "lisi")
    gjj = rp("gjj-fund")
    tokens = gjj.tokens(scope="openid profile enterprise")
    info = gjj.userinfo(tokens["access_token"]).get_json()
    assert info["account_kind"] == "legal"
    ent = info["enterprise"]
    assert ent["name"] == "北京示例科技有限公司" and ent["uscc"] == "91110108MA01BJ2K6M"
    assert ent["role"] == "admin" and ent["certified"] is True
    assert ent["categories"] == [{"name": "创新型中小企业", "valid_until": "2027-12-31"}]
    assert gjj.verify(tokens["id_token"])["enterprise"]["uscc"] == "91110108MA01BJ2K6M"

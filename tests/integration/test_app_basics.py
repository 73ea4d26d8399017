def test_healthz_answers_alive(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_reports_database_and_redis(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_when_redis_is_down(app, client):
    import redis

    app.extensions["tongxing"].redis = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"].startswith("error")


def test_language_switch_keeps_the_page_parameters(client):
    page = client.get("/login?tab=sms&next=/account").get_data(as_text=True)
    assert 'href="/login?tab=sms&amp;next=%2Faccount&amp;lang=en"' in page
    english = client.get("/login?tab=sms&lang=en").get_data(as_text=True)
    assert "SMS code" in english and 'lang="en"' in english


def test_csrf_refusal_speaks_the_chosen_language(client):
    response = client.post("/login?lang=en", data={"username": "x", "password": "y"})
    assert response.status_code == 400
    assert "The page has expired" in response.get_data(as_text=True)


# ---- behind a reverse proxy, https, the development key (review findings 1, 10, 17, 21) ----------

import os  # noqa: E402
import stat  # noqa: E402

import pytest  # noqa: E402

from broker import create_app  # noqa: E402
from broker.services import with_secret_key  # noqa: E402
from tests.conftest import make_settings  # noqa: E402


@pytest.fixture
def build(infra, clock, engine):
    made = []

    def make(**overrides):
        app = create_app(make_settings(infra, **overrides), clock=clock)
        app.config["TESTING"] = True
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["tongxing"].dispose()


def _wrong_password_from(client, forwarded_for: str, login: str):
    token = client.get("/login", headers={"Accept": "application/json"}).json["csrf_token"]
    return client.post("/login", json={"username": login, "password": "Wrong#Pass99"},
                       headers={"Accept": "application/json", "X-CSRF-Token": token, "X-Forwarded-For": forwarded_for})


@pytest.mark.parametrize("proxies, separate", [(1, True), (0, False)])
def test_per_ip_throttle_counts_the_client_behind_a_trusted_proxy(build, proxies, separate):
    """With BROKER_TRUSTED_PROXIES=1 the throttle counts the address the proxy saw; with 0 the
    header is ignored (clients could forge it) and everything counts against the proxy."""
    client = build(trusted_proxies=proxies, lockout={"ip_failure_threshold": 6}).test_client()
    for i in range(7):  # one more than the threshold
        assert _wrong_password_from(client, "203.0.113.7", f"nobody{i}").json["error"] == "invalid_credentials"
    assert _wrong_password_from(client, "203.0.113.7", "nobody9").json["error"] == "captcha_required"
    other = _wrong_password_from(client, "198.51.100.8", "nobody10").json["error"]
    assert other == ("invalid_credentials" if separate else "captcha_required")


def test_https_issuer_sends_hsts_and_secure_language_cookie(build):
    https = build(issuer="https://sso.example.cn").test_client()
    response = https.get("/login?lang=en")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    [lang] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert "Secure" in lang
    loopback = build().test_client().get("/login?lang=en")
    assert "Strict-Transport-Security" not in loopback.headers
    assert not any("Secure" in c for c in loopback.headers.getlist("Set-Cookie") if c.startswith("lang="))


def test_without_secret_key_development_keeps_one_key_in_the_instance_folder(build, tmp_path):
    first = build(secret_key="", instance_path=str(tmp_path))
    second = build(secret_key="", instance_path=str(tmp_path))   # another worker, or a restart
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.secret_key == second.secret_key == path.read_text().strip() and len(first.secret_key) >= 64
    # A page's CSRF token signed by one process is accepted by the other.
    c1 = first.test_client()
    token = c1.get("/login", headers={"Accept": "application/json"}).json["csrf_token"]
    c2 = second.test_client()
    c2.set_cookie(first.config["SESSION_COOKIE_NAME"], c1.get_cookie(first.config["SESSION_COOKIE_NAME"]).value)
    answer = c2.post("/login", json={"username": "nobody", "password": "Wrong#Pass99"},
                     headers={"Accept": "application/json", "X-CSRF-Token": token})
    assert answer.json["error"] == "invalid_credentials"


def test_production_never_gets_a_generated_key(settings, tmp_path):
    import dataclasses

    production = dataclasses.replace(settings, env="production", secret_key="")
    assert with_secret_key(production, str(tmp_path)).secret_key == ""
    assert not (tmp_path / "secret_key").exists()

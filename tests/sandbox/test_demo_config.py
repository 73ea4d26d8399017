"""The demo wiring: the provider tables point at endpoints the sandbox really serves, and the
broker registered by ``demo_clients`` is accepted at every portal."""
from __future__ import annotations

from urllib.parse import urlencode

import requests

from sandbox.portals import create_sandbox
from sandbox.portals.demo_config import CLIENT_ID, PORTAL_IDS, demo_clients, provider_tables
from sandbox.testing import run_server

BROKER = "http://127.0.0.1:5000"


def test_provider_tables_match_the_sandbox():
    holder = {}
    url, stop = run_server(lambda environ, start: holder["app"](environ, start))
    holder["app"] = create_sandbox(url, demo_clients(BROKER))
    try:
        tables = {t["id"]: t for t in provider_tables(url)}
        assert set(tables) == set(PORTAL_IDS)
        meta = requests.get(tables["sd-portal"]["issuer"] + "/.well-known/openid-configuration").json()
        assert meta["issuer"] == tables["sd-portal"]["issuer"]
        query = urlencode({"response_type": "code", "client_id": CLIENT_ID, "state": "s",
                           "redirect_uri": f"{BROKER}/federation/callback/bj-yzt"})
        answer = requests.get(f"{tables['bj-yzt']['authorize_url']}?{query}", allow_redirects=False)
        assert answer.status_code == 302 and "/bj-yzt/login" in answer.headers["Location"]
        service = urlencode({"service": f"{BROKER}/federation/callback/miit"})
        answer = requests.get(f"{tables['miit']['cas_url']}/login?{service}", allow_redirects=False)
        assert answer.status_code == 302 and "/miit/login" in answer.headers["Location"]
    finally:
        stop()

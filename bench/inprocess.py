"""``python -m bench.inprocess [--requests N] [--profile PHASE]``: CPU time per request of the
broker's WSGI app called directly in this process (no gunicorn, no network, one thread), on a
freshly seeded bench instance: ``GET /healthz``, ``POST /token`` code exchanges and refreshes,
``GET /userinfo``, ``POST /introspect``, and password logins (``GET /login`` + ``POST /login``, a new browser each) less
the argon2 verification they contain (measured as the same verifications alone, interleaved).
Steadier than the load runs for comparing one change (README "Performance", third and fourth
rounds); ``--profile code|refresh|userinfo|introspect|login`` prints cProfile's hottest calls of that phase."""
from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import logging
import os
import pstats
import time
from urllib.parse import parse_qs, urlencode, urlsplit

from werkzeug.test import EnvironBuilder

from binding.oauth.demo import demo_portal_url, demo_secret
from config import load_settings

from .seeding import BENCH_PASSWORD
from .server import BENCH_ACCOUNTS, BenchServer

CLIENT_ID = "smebj"
JSON = {"Accept": "application/json"}


class _Harness:
    def __init__(self, srv: BenchServer):
        from broker.app import create_app

        self.srv = srv
        self.app = create_app(load_settings(srv.env))
        for handler in logging.getLogger().handlers:   # access lines still formatted and written, unseen
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(open(os.devnull, "w"))
        self.redirect_uri = demo_portal_url(srv.url) + f"/{CLIENT_ID}/callback"
        self.basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{demo_secret(CLIENT_ID)}".encode()).decode()
        self.browser = self.app.test_client()
        token = self.browser.get("/login", headers=JSON).json["csrf_token"]
        answer = self.browser.post("/login", json={"username": "bench-0000001", "password": BENCH_PASSWORD},
                                   headers={**JSON, "X-CSRF-Token": token})
        assert answer.status_code == 200, answer.data

    def close(self) -> None:
        """Let go of the database and of the embedded Redis, which stays up while a client holds it."""
        services = self.app.extensions["tongxing"]
        services.redis.close()
        services.dispose()

    def login(self, username: str) -> None:
        """A full password login as a new browser: GET /login (CSRF token), POST /login."""
        browser = self.app.test_client()
        token = browser.get("/login", headers=JSON).json["csrf_token"]
        answer = browser.post("/login", json={"username": username, "password": BENCH_PASSWORD},
                              headers={**JSON, "X-CSRF-Token": token})
        if answer.status_code != 200:
            raise RuntimeError(f"login {username}: {answer.status_code} {answer.data[:300]!r}")

    def code(self) -> str:
        query = urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": self.redirect_uri,
                           "scope": "openid profile", "state": "s", "nonce": "n%d" % time.perf_counter_ns()})
        location = self.browser.get("/authorize?" + query).headers["Location"]
        return parse_qs(urlsplit(location).query)["code"][0]

    def environ(self, path: str, method: str = "GET", form: dict | None = None, headers: dict | None = None):
        environ = EnvironBuilder(path=path, method=method, data=form, headers=headers or {},
                                 base_url=self.srv.url).get_environ()
        return environ, environ["wsgi.input"].read()

    def call(self, prepared) -> bytes:
        environ, body = prepared
        environ = dict(environ, **{"wsgi.input": io.BytesIO(body)})
        status = []
        out = b"".join(self.app(environ, lambda s, h, e=None: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"{environ['PATH_INFO']}: {status[0]} {out[:300]!r}")
        return out


def _phase(h: _Harness, requests: list, profiler: cProfile.Profile | None) -> tuple[float, list[bytes]]:
    if profiler:
        profiler.enable()
    started = time.process_time()
    answers = [h.call(r) for r in requests]
    elapsed = time.process_time() - started
    if profiler:
        profiler.disable()
    return 1000 * elapsed / len(requests), answers


def _logins(h: _Harness, n: int, profiler: cProfile.Profile | None) -> tuple[float, float]:
    """(ms of CPU per login, of which argon2), in blocks of 10 logins then 10 verifications alone
    of the same stored hash, so both see the machine in the same state."""
    from binding.passwords import PasswordHasher

    hasher = PasswordHasher.for_settings(load_settings(h.srv.env).password)
    stored = hasher.hash(BENCH_PASSWORD)
    login_s = hash_s = 0.0
    names = ["bench-%07d" % (2 + i % (BENCH_ACCOUNTS - 1)) for i in range(n)]
    for block in range(0, n, 10):
        if profiler:
            profiler.enable()
        started = time.process_time()
        for name in names[block:block + 10]:
            h.login(name)
        login_s += time.process_time() - started
        if profiler:
            profiler.disable()
        started = time.process_time()
        for _ in names[block:block + 10]:
            hasher.verify(BENCH_PASSWORD, stored)
        hash_s += time.process_time() - started
    return 1000 * login_s / n, 1000 * hash_s / n


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.inprocess")
    p.add_argument("--requests", type=int, default=3000, help="requests per phase")
    p.add_argument("--logins", type=int, default=200, help="password logins (each with an argon2 verification)")
    p.add_argument("--profile", choices=["code", "refresh", "userinfo", "introspect", "login"])
    a = p.parse_args(argv)
    profiler = cProfile.Profile() if a.profile else None
    srv = BenchServer([0]).prepare()   # the instance only: the app runs here, not under gunicorn
    h = None
    try:
        h = _Harness(srv)
        n = a.requests
        ms, _ = _phase(h, [h.environ("/healthz")] * n, None)
        print(f"healthz   {ms:.3f} ms CPU per request")
        codes = [h.code() for _ in range(n)]
        ms, answers = _phase(h, [h.environ("/token", "POST", {"grant_type": "authorization_code", "code": c,
                                                               "redirect_uri": h.redirect_uri},
                                           {"Authorization": h.basic}) for c in codes],
                             profiler if a.profile == "code" else None)
        print(f"code      {ms:.3f} ms CPU per request")
        tokens = [json.loads(x) for x in answers]
        ms, _ = _phase(h, [h.environ("/token", "POST", {"grant_type": "refresh_token", "refresh_token": t["refresh_token"]},
                                     {"Authorization": h.basic}) for t in tokens],
                       profiler if a.profile == "refresh" else None)
        print(f"refresh   {ms:.3f} ms CPU per request")
        ms, _ = _phase(h, [h.environ("/userinfo", headers={"Authorization": "Bearer " + t["access_token"]})
                           for t in tokens], profiler if a.profile == "userinfo" else None)
        print(f"userinfo  {ms:.3f} ms CPU per request")
        ms, _ = _phase(h, [h.environ("/introspect", "POST", {"token": t["access_token"]}, {"Authorization": h.basic})
                           for t in tokens], profiler if a.profile == "introspect" else None)
        print(f"introspect {ms:.3f} ms CPU per request")
        if a.logins:
            login_ms, hash_ms = _logins(h, a.logins, profiler if a.profile == "login" else None)
            print(f"login     {login_ms - hash_ms:.3f} ms CPU per login besides argon2 ({login_ms:.2f} in all, "
                  f"argon2 alone {hash_ms:.2f}: logins = {100 * hash_ms / login_ms:.0f}% of hashes)")
    finally:
        if h is not None:
            h.close()
        srv.close()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()

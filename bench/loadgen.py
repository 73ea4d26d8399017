"""The load generator: locust in library mode (FastHttpUser, gevent), in its own process.

``python -m bench.loadgen SCENARIO --host URL --users N --duration S --out FILE [--param k=v ...]``
writes one JSON object: ``{"ops": [...per phase...], ...}``. The harness (``bench.run``) starts it
pinned to the load-generator CPUs, so it never competes with the gunicorn workers.

An "op" is one user-visible operation (a full login = GET /login + POST /login; one token
exchange; ...). Each phase records the completion time and latency of every op itself, so the
rate is ops completed inside the measured window / window length, and latencies are exact.
"""
from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import base64  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from html import unescape as html_unescape  # noqa: E402
from typing import Callable  # noqa: E402
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit  # noqa: E402

import gevent  # noqa: E402
from gevent.event import Event  # noqa: E402
from locust import FastHttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402

JSON = {"Accept": "application/json"}
BENCH_PASSWORD = "Bench@pass2026"      # every bench-* account (bench.seeding)
CLIENT_ID, CLIENT_SECRET = "smebj", "smebj-demo-secret"   # a DEMO.md client with no policy limits


class Recorder:
    """Completion times and latencies of ops; errors by kind."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.done: list[tuple[float, float]] = []   # (finished_at, latency_s)
        self.errors: dict[str, int] = {}

    def ok(self, started: float) -> None:
        now = time.perf_counter()
        self.done.append((now, now - started))

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self, t0: float, t1: float) -> dict:
        inside = sorted(lat for at, lat in self.done if t0 <= at <= t1)
        n = len(inside)
        pct = (lambda q: round(1000 * inside[min(n - 1, int(q * n))], 2) if n else None)
        extra = {"latencies_ms": [round(1000 * x, 2) for x in inside]} if PARAMS.get("latencies") else {}
        return {**extra, "ops": n, "seconds": round(t1 - t0, 3), "ops_per_s": round(n / (t1 - t0), 2) if t1 > t0 else None,
                "p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "errors": dict(self.errors)}


REC = Recorder()
WINDOW: list[float] = [0.0, 0.0]   # the measured window of the last phase (perf_counter)
POOLS: dict[str, list] = {"codes": [], "refresh": [], "access": []}
PARAMS: dict[str, str] = {}
_account_counter = itertools.count()


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def _json_login(client, username: str, password: str) -> tuple[int, dict]:
    """GET /login (JSON: the CSRF token, cookie session) then POST /login as JSON."""
    with client.get("/login", headers=JSON, name="GET /login", catch_response=True) as r:
        token = r.json()["csrf_token"]
        r.success()
    with client.post("/login", json={"username": username, "password": password}, name="POST /login",
                     headers={**JSON, "X-CSRF-Token": token}, catch_response=True) as r:
        r.success()   # the op's verdict is ours, not locust's
        try:
            body = r.json()
        except Exception:
            body = {}
        return r.status_code, body


def _next_account() -> str:
    first, count = int(PARAMS.get("first", 1)), int(PARAMS.get("count", 1000))
    return PARAMS.get("prefix", "bench-") + "%07d" % (first + next(_account_counter) % count)


class _Base(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    connection_timeout = 60.0
    network_timeout = 60.0


# --- scenarios --------------------------------------------------------------------------------
class Bare(_Base):
    @task
    def healthz(self):
        t = time.perf_counter()
        with self.client.get("/healthz", catch_response=True) as r:
            r.success()
            REC.ok(t) if r.status_code == 200 else REC.error(str(r.status_code))


class PasswordLogin(_Base):
    @task
    def login(self):
        self.client.cookiejar.clear()
        t = time.perf_counter()
        status, body = _json_login(self.client, _next_account(), BENCH_PASSWORD)
        REC.ok(t) if status == 200 and body.get("status") == "ok" else REC.error(body.get("error") or str(status))


class SignedIn(_Base):
    """A user that signs in once (an account of its own), then asks /authorize for codes."""

    abstract = True

    def on_start(self):
        status, body = _json_login(self.client, _next_account(), BENCH_PASSWORD)
        if status != 200:
            raise RuntimeError(f"bench login failed: {status} {body}")

    def authorize(self) -> str | None:
        query = urlencode({"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": PARAMS["redirect_uri"],
                           "scope": "openid profile", "state": "bench", "nonce": "n-%d" % time.perf_counter_ns()})
        with self.client.get("/authorize?" + query, name="GET /authorize", allow_redirects=False,
                             catch_response=True) as r:
            r.success()
            code = parse_qs(urlsplit(r.headers.get("Location", "")).query).get("code", [None])[0]
            if code is None:
                REC.error(f"authorize {r.status_code}")
            return code


class CodePreparer(SignedIn):
    @task
    def prepare(self):
        if len(POOLS["codes"]) >= int(PARAMS["codes"]):
            raise StopUser()
        code = self.authorize()
        if code:
            POOLS["codes"].append(code)


class CodeExchange(_Base):
    @task
    def exchange(self):
        if not POOLS["codes"]:
            raise StopUser()
        code = POOLS["codes"].pop()
        t = time.perf_counter()
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": PARAMS["redirect_uri"]}
        with self.client.post("/token", data=data, headers={"Authorization": _basic()}, name="POST /token code",
                              catch_response=True) as r:
            r.success()
            if r.status_code != 200:
                return REC.error(f"token {r.status_code}")
            REC.ok(t)
            body = r.json()
            POOLS["refresh"].append(body.get("refresh_token"))
            POOLS["access"].append(body["access_token"])


class Refresh(_Base):
    def on_start(self):
        self.token = POOLS["refresh"].pop() if POOLS["refresh"] else None

    @task
    def refresh(self):
        if not self.token:
            raise StopUser()
        t = time.perf_counter()
        with self.client.post("/token", data={"grant_type": "refresh_token", "refresh_token": self.token},
                              headers={"Authorization": _basic()}, name="POST /token refresh",
                              catch_response=True) as r:
            r.success()
            if r.status_code != 200:
                self.token = None
                return REC.error(f"refresh {r.status_code}")
            REC.ok(t)
            body = r.json()
            self.token = body.get("refresh_token") or self.token
            POOLS["access"].append(body["access_token"])


class _WithAccessToken(_Base):
    abstract = True

    def on_start(self):
        self.token = POOLS["access"][hash(self) % len(POOLS["access"])]


class Userinfo(_WithAccessToken):
    @task
    def userinfo(self):
        t = time.perf_counter()
        with self.client.get("/userinfo", headers={"Authorization": "Bearer " + self.token}, name="GET /userinfo",
                             catch_response=True) as r:
            r.success()
            REC.ok(t) if r.status_code == 200 else REC.error(f"userinfo {r.status_code}")


class Introspect(_WithAccessToken):
    @task
    def introspect(self):
        t = time.perf_counter()
        with self.client.post("/introspect", data={"token": self.token, "token_type_hint": "access_token"},
                              headers={"Authorization": _basic()}, name="POST /introspect",
                              catch_response=True) as r:
            r.success()
            ok = r.status_code == 200 and r.json().get("active") is True
            REC.ok(t) if ok else REC.error(f"introspect {r.status_code}")


_READY, _GO = [0], Event()


class LockoutStorm(_Base):
    """200 users fetch a CSRF token each, wait for all, then POST the same wrong password at once."""

    @task
    def storm(self):
        with self.client.get("/login", headers=JSON, name="GET /login", catch_response=True) as r:
            token = r.json()["csrf_token"]
            r.success()
        _READY[0] += 1
        if _READY[0] >= int(PARAMS["users"]):
            _GO.set()
        _GO.wait()
        with self.client.post("/login", json={"username": PARAMS["target"], "password": "Wrong@pass2026"},
                              headers={**JSON, "X-CSRF-Token": token}, name="POST /login wrong",
                              catch_response=True) as r:
            r.success()
            try:
                REC.error(r.json().get("error") or str(r.status_code))
            except Exception:
                REC.error(str(r.status_code))
        raise StopUser()


class Federated(_Base):
    """One federated login, as a browser does it: ``/federation/start/<portal>?next=/authorize...``
    (broker) -> the portal's authorize and login pages, its form posted with its CSRF field
    (sandbox) -> ``/federation/callback/<portal>`` (broker: the code redeemed at the portal,
    the identity resolved, a session created) -> ``/authorize`` (broker: a code for smebj) ->
    ``POST /token`` (broker). Broker requests carry ``X-Request-Id: fed-<op>-<n>`` so the harness
    can sum the broker's own durations per login from its access log; the client-side latency
    of the broker hops is recorded too."""

    @task
    def federated(self):
        self.client.cookiejar.clear()
        op = "%06d%04d" % (next(_fed_ops), id(self) % 10000)
        steps = {"broker": 0.0, "portal": 0.0, "broker_requests": 0}
        t = time.perf_counter()
        host = PARAMS["host"]
        nxt = "/authorize?" + urlencode({"response_type": "code", "client_id": CLIENT_ID,
                                         "redirect_uri": PARAMS["redirect_uri"], "scope": "openid profile",
                                         "state": "b", "nonce": "n-" + op})
        url = host + "/federation/start/" + PARAMS["portal"] + "?" + urlencode({"next": nxt})
        data, posted = None, False
        for _ in range(16):
            broker = url.startswith(host)
            status, location, body = _fed_request(self.client, steps, op, broker, url, data)
            data = None
            if status >= 400 or status is None:
                return REC.error(f"{'broker' if broker else 'portal'} {status} {urlsplit(url).path}")
            if location is None:   # a page: the portal's login form (posted once)
                form = _login_form(body)
                if form is None or posted:
                    return REC.error(f"stuck at {urlsplit(url).path}")
                url, data, posted = urljoin(url, form[0]), {**form[1], "username": PARAMS["portal_user"],
                                                              "password": PARAMS["portal_password"]}, True
                continue
            url = urljoin(url, location)
            if url.startswith(PARAMS["redirect_uri"]):
                break
        code = parse_qs(urlsplit(url).query).get("code", [None])[0]
        if code is None:
            return REC.error("no code")
        status, _, body = _fed_request(self.client, steps, op, True, host + "/token", {
            "grant_type": "authorization_code", "code": code, "redirect_uri": PARAMS["redirect_uri"]},
            headers={"Authorization": _basic()})
        if status != 200 or "id_token" not in body:
            return REC.error(f"token {status}")
        REC.ok(t)
        STEPS.append({**steps, "op": op, "done": time.perf_counter()})


STEPS: list[dict] = []
_fed_ops = itertools.count()
_FORM = re.compile(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input[^>]*>", re.I)
_ATTR = re.compile(r'(name|value|type)="([^"]*)"', re.I)


def _login_form(html: str):
    """(action, hidden fields) of the form with a password field, or None."""
    for action, inner in _FORM.findall(html or ""):
        fields, password = {}, False
        for tag in _INPUT.findall(inner):
            attrs = {k.lower(): v for k, v in _ATTR.findall(tag)}
            password |= attrs.get("type") == "password"
            if attrs.get("name"):
                fields[attrs["name"]] = html_unescape(attrs.get("value", ""))
        if password:
            return html_unescape(action), fields
    return None


def _fed_request(client, steps, op, broker, url, data=None, headers=None):
    """One request, redirects not followed: (status, Location, body text)."""
    headers = dict(headers or {})
    if broker:
        steps["broker_requests"] += 1
        headers["X-Request-Id"] = f"fed-{op}-{steps['broker_requests']}"
        # Each login from its own client address (the broker trusts one proxy in the bench).
        n = int(op)
        headers["X-Forwarded-For"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
    t = time.perf_counter()
    method = client.post if data is not None else client.get
    name = ("broker " if broker else "portal ") + urlsplit(url).path
    with method(url, data=data, headers=headers, allow_redirects=False, catch_response=True, name=name) as r:
        r.success()
        steps["broker" if broker else "portal"] += time.perf_counter() - t
        location = r.headers.get("Location") if 300 <= r.status_code < 400 else None
        return r.status_code, location, r.text if location is None else ""


# --- phases -----------------------------------------------------------------------------------
def run_phase(user_class, host: str, users: int, duration: float | None, warmup: float = 0.0,
              done: Callable[[], bool] | None = None, limit: float = 120.0) -> dict:
    """Run ``users`` users; measure ``duration`` seconds after ``warmup`` (or, with ``done``,
    until it returns True: from the first op to the last)."""
    REC.reset()
    env = Environment(user_classes=[user_class], host=host)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(users * 10, 100))   # all at once (locust warns; harmless)
    started, cpu0 = time.perf_counter(), time.process_time()
    if duration is not None:
        gevent.sleep(warmup)
        t0, cpu0 = time.perf_counter(), time.process_time()
        REC.done = [d for d in REC.done if d[0] >= t0]
        gevent.sleep(duration)
        t1 = time.perf_counter()
    else:
        while not done() and time.perf_counter() - started < limit:
            gevent.sleep(0.01)
        while runner.user_count and time.perf_counter() - started < limit:
            gevent.sleep(0.01)
        # From the start of the first op to the end of the last (spawning is not measured).
        t0 = min((at - lat for at, lat in REC.done), default=started)
        t1 = max((at for at, _ in REC.done), default=time.perf_counter())
    result = REC.summary(t0, t1)
    WINDOW[:] = [t0, t1]
    # Near 1.0 means the load generator, not the broker, set the pace: the figure is a lower bound.
    result["loadgen_cpu"] = round((time.process_time() - cpu0) / max(time.perf_counter() - t0, 1e-9), 2)
    runner.quit()
    return result


def scenario_bare(a) -> dict:
    return {"bare": run_phase(Bare, a.host, a.users, a.duration, warmup=1.0)}


def scenario_login(a) -> dict:
    return {"login": run_phase(PasswordLogin, a.host, a.users, a.duration, warmup=1.0)}


def scenario_oidc(a) -> dict:
    """Sign in, prepare codes via /authorize, then measure /token (codes), /token (refresh),
    /userinfo and /introspect one after the other."""
    wanted = int(PARAMS["codes"])
    out = {"prepare": run_phase(CodePreparer, a.host, a.users, None, done=lambda: len(POOLS["codes"]) >= wanted)}
    out["code_exchange"] = run_phase(CodeExchange, a.host, a.users, None, done=lambda: not POOLS["codes"])
    out["refresh"] = run_phase(Refresh, a.host, min(a.users, len(POOLS["refresh"])), a.duration, warmup=0.5)
    out["userinfo"] = run_phase(Userinfo, a.host, a.users, a.duration, warmup=0.5)
    out["introspect"] = run_phase(Introspect, a.host, a.users, a.duration, warmup=0.5)
    return out


def scenario_lockout(a) -> dict:
    PARAMS["users"] = str(a.users)
    result = run_phase(LockoutStorm, a.host, a.users, None, done=lambda: sum(REC.errors.values()) >= a.users,
                       limit=90)
    return {"lockout": result}


def scenario_federated(a) -> dict:
    """Federated logins for ``--duration`` seconds; with ``--param ids=1`` the broker request ids
    of the logins completed inside the window, for the harness to look up in the access log."""
    result = run_phase(Federated, a.host, a.users, a.duration, warmup=float(PARAMS.get("warmup", 1.0)))
    inside = [s for s in STEPS if WINDOW[0] <= s["done"] <= WINDOW[1]]
    if inside:
        mid = len(inside) // 2
        result["client_side_median_ms"] = {k: round(1000 * sorted(s[k] for s in inside)[mid], 2)
                                           for k in ("broker", "portal")}
        result["broker_requests_per_login"] = sorted(s["broker_requests"] for s in inside)[mid]
    if PARAMS.get("ids"):
        result["ops_in_window"] = [s["op"] for s in inside]
    return {"federated": result}


SCENARIOS = {"bare": scenario_bare, "login": scenario_login, "oidc": scenario_oidc,
             "lockout": scenario_lockout, "federated": scenario_federated}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.loadgen")
    p.add_argument("scenario", choices=sorted(SCENARIOS))
    p.add_argument("--host", required=True)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--duration", type=float, default=4.0)
    p.add_argument("--out", required=True)
    p.add_argument("--param", action="append", default=[], help="k=v, scenario parameters")
    a = p.parse_args(argv)
    PARAMS.update(kv.split("=", 1) for kv in a.param)
    PARAMS["host"] = a.host
    result = SCENARIOS[a.scenario](a)
    with open(a.out, "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()

"""``python -m bench``: run every scenario ``--runs`` times, take medians, write bench/results/.

How figures are made "per core": gunicorn runs one worker (4 threads) per server CPU, pinned with
taskset to the first half of the CPUs; the load generator, the harness and the embedded Redis
run on the other half. A rate is ops completed in the measured window / seconds / workers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from sqlalchemy import func, select

from binding.models import Account, AuditEvent

from . import pgcluster, report, seeding, steal
from .server import BENCH_ACCOUNTS, BenchServer, split_cpus

HERE = os.path.dirname(os.path.abspath(__file__))
STEAL_WARNING = 5.0   # % of the server CPUs' time taken by the hypervisor during a scenario
# Account ranges per scenario (bench-NNNNNNN), so no scenario meets another's sessions or locks.
LOGIN_RANGE, OIDC_RANGE, LOCK_FIRST = (1, 4000), (4001, 1000), 5901


class Bench:
    def __init__(self, args):
        self.args = args
        self.server_cpus, self.gen_cpus = split_cpus()
        self.results: dict = {}
        self.details: dict = {}
        self.notes: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self.steal_percent: dict[str, float | None] = {}   # per scenario, of the server CPUs' time

    # -- helpers ---------------------------------------------------------------------------
    def loadgen(self, scenario: str, users: int, duration: float, **params) -> dict:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            out = fh.name
        cmd = ["taskset", "-c", ",".join(map(str, self.gen_cpus)), sys.executable, "-m", "bench.loadgen", scenario,
               "--host", self.srv.url, "--users", str(users), "--duration", str(duration), "--out", out]
        for k, v in params.items():
            cmd += ["--param", f"{k}={v}"]
        try:
            subprocess.run(cmd, check=True, timeout=300, cwd=os.path.dirname(HERE),
                           stderr=None if self.args.verbose else subprocess.DEVNULL)
            with open(out) as fh:
                return json.load(fh)
        finally:
            os.unlink(out)

    def per_core(self, rate: float | None) -> float | None:
        return None if rate is None else round(rate / self.srv.workers, 2)

    def record(self, key: str, runs: list, value_of) -> None:
        values = [value_of(r) for r in runs]
        values = [v for v in values if v is not None]
        self.details[key] = {"runs": values, "detail": runs}
        self.results[key] = round(statistics.median(values), 2) if values else None
        self._log(f"{key}: {self.results[key]}  (runs: {values})")

    def _log(self, msg: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def timed(self, name: str, fn) -> None:
        if self.args.only and name not in self.args.only:
            return
        started, ticks = time.monotonic(), steal.read(self.server_cpus)
        self._log(f"scenario {name} ...")
        try:
            fn()
        finally:
            self.timings[name] = round(time.monotonic() - started, 1)
            self.steal_percent[name] = steal.percent(ticks, steal.read(self.server_cpus))
            if (self.steal_percent[name] or 0) >= STEAL_WARNING:
                self._log(f"{name}: the hypervisor took {self.steal_percent[name]}% of the server CPUs' time "
                          "(another guest's load): these figures are not comparable with a quiet run")

    # -- scenarios -------------------------------------------------------------------------
    def argon2_once(self) -> float:
        cmd = ["taskset", "-c", str(self.server_cpus[0]), sys.executable, "-m", "bench.hashing",
               "--seconds", str(self.args.duration)]
        return float(subprocess.run(cmd, check=True, capture_output=True, text=True, env=self.srv.env,
                                    cwd=os.path.dirname(HERE)).stdout)

    def bare(self) -> None:
        runs = [self.loadgen("bare", 16 * self.srv.workers, self.args.duration)["bare"] for _ in range(self.args.runs)]
        self.record("bare_requests_per_s_per_core", runs, lambda r: self.per_core(r["ops_per_s"]))

    def login(self) -> None:
        """Argon2 and logins interleaved run by run (the worker idles while argon2 runs on its CPU),
        so the ratio the target compares is not skewed by the machine's load changing between them;
        ``--login-pairs`` such pairs (default 5: single pairs' ratios spread by ±10% on a machine
        whose speed drifts, and the medians of five spread less than of three)."""
        first, count = LOGIN_RANGE
        pairs = self.args.login_pairs
        step = count // pairs
        hashes, logins = [], []
        for i in range(pairs):
            hashes.append(self.argon2_once())
            logins.append(self.loadgen("login", 3 * self.srv.workers, self.args.duration, first=first + i * step,
                                       count=step)["login"])
        self.record("argon2_hashes_per_s_per_core", hashes, lambda r: r)
        self.record("password_logins_per_s_per_core", logins, lambda r: self.per_core(r["ops_per_s"]))
        # The target's ratio, pair by pair: the two medians above may come from different pairs,
        # i.e. from different moments of a machine whose speed drifts (README "Performance").
        self.record("password_login_share_of_argon2", list(zip(hashes, logins)),
                    lambda pair: round(100 * self.per_core(pair[1]["ops_per_s"]) / pair[0], 1)
                    if pair[0] and pair[1]["ops_per_s"] else None)

    def login_latency(self, key: str, prefix: str, first: int, count: int) -> None:
        """p99 of full logins (GET + POST /login) with one user per worker (a busy server, no queue
        in front of it), over the latencies of all runs pooled (a p99 of one short run is its max)."""
        runs = [self.loadgen("login", self.srv.workers, 2 * self.args.duration, prefix=prefix, first=first + i * 997,
                             count=count, latencies=1)["login"] for i in range(self.args.runs)]
        pooled = sorted(x for r in runs for x in r.pop("latencies_ms"))
        self.details[key] = {"runs_p99": [r["p99_ms"] for r in runs], "samples": len(pooled), "detail": runs}
        self.results[key] = pooled[min(len(pooled) - 1, int(0.99 * len(pooled)))] if pooled else None
        self._log(f"{key}: {self.results[key]}  (p99 of {len(pooled)} logins; per run {self.details[key]['runs_p99']})")

    def oidc(self) -> None:
        from binding.oauth.demo import demo_portal_url

        users = 8 * self.srv.workers
        redirect_uri = demo_portal_url(self.srv.url) + "/smebj/callback"
        first, count = OIDC_RANGE
        # Codes for about --duration seconds of exchanges: a guess of 150/s per worker for the first
        # run, then what the previous run measured (preparing them costs about as long again).
        rate, runs = 150 * self.srv.workers, []
        for i in range(self.args.runs):
            codes = int(min(6000, max(100, self.args.duration * rate)))
            runs.append(self.loadgen("oidc", users, self.args.duration, first=first + i * users, count=users,
                                     codes=codes, redirect_uri=redirect_uri))
            rate = runs[-1]["code_exchange"]["ops_per_s"] or rate
        for key, phase in (("code_exchanges_per_s_per_core", "code_exchange"),
                           ("refresh_grants_per_s_per_core", "refresh"), ("userinfo_per_s_per_core", "userinfo"),
                           ("introspections_per_s_per_core", "introspect")):
            self.record(key, [r[phase] for r in runs], lambda r: self.per_core(r["ops_per_s"]) if r["ops"] else None)

    def lockout(self) -> None:
        runs = []
        for i in range(self.args.runs):
            target = "bench-%07d" % (LOCK_FIRST + i)
            answers = self.loadgen("lockout", 200, 0, target=target)["lockout"]["errors"]
            with self.srv.engine.connect() as conn:
                account_id = conn.scalar(select(Account.id).where(Account.username == target))
                failed = conn.scalar(select(func.count()).select_from(AuditEvent).where(
                    AuditEvent.event == "login.failed", AuditEvent.account_id == account_id))
            runs.append({"answers": answers, "login_failed_audit_rows": failed})
        # The figure: password verifications = invalid_credentials answers; the audit rows must agree.
        self.record("lockout_verifications_under_200_parallel", runs,
                    lambda r: r["answers"].get("invalid_credentials", 0)
                    if r["answers"].get("invalid_credentials", 0) == r["login_failed_audit_rows"]
                    else -1)

    def federated(self) -> None:
        """authorize -> sandbox portal login -> callback -> code -> tokens, the sandbox (gunicorn,
        one worker) pinned to the load generator's CPUs (a 2-core machine has no third core).

        Rate: completed logins / s / broker workers, ``4 x workers`` users. Overhead: one user
        (no queueing); each login's broker requests are found in the broker's JSON access log by
        their X-Request-Id. ``federated_overhead_ms``: the broker's own time on the federation
        hops (start + callback), i.e. their ``duration_ms`` minus ``upstream_ms`` (the callback's
        waits on the portal's back channel: the portal's latency, not the broker's);
        ``federated_total_broker_ms``: the same over every broker hop of the login (also
        /authorize and /token, the ordinary OIDC cost); the median over the logins of the
        window, then the median of the runs."""
        from binding.oauth.demo import demo_portal_url
        from sandbox.portals.accounts import PASSWORD

        from .server import FEDERATED_PORTAL, sandbox_available

        keys = ("federated_logins_per_s_per_core", "federated_overhead_ms", "federated_total_broker_ms")
        if not sandbox_available():
            for key in keys:
                self.results[key], self.notes[key] = None, "the sandbox portals (sandbox.portals) are not installed"
            return
        self.srv.start_sandbox(self.gen_cpus)
        params = dict(portal=FEDERATED_PORTAL, portal_user="sd_zhang", portal_password=PASSWORD,
                      redirect_uri=demo_portal_url(self.srv.url) + "/smebj/callback")
        # The first login links sd_zhang to zhangsan (same phone, DEMO.md) and stops at the notice.
        self.loadgen("federated", 1, 1.0, warmup=0.5, **params)
        rates, one_user = [], []
        for _ in range(self.args.runs):
            rates.append(self.loadgen("federated", 4 * self.srv.workers, self.args.duration, **params)["federated"])
            offset = os.path.getsize(self.srv.log.name)
            one = self.loadgen("federated", 1, self.args.duration, ids=1, **params)["federated"]
            one["broker_ms"] = broker_ms_per_login(self.srv.log.name, offset, set(one.pop("ops_in_window", [])))
            one_user.append(one)
        self.record("federated_logins_per_s_per_core", rates, lambda r: self.per_core(r["ops_per_s"]) if r["ops"] else None)
        self.record("federated_overhead_ms", one_user, lambda r: r["broker_ms"].get("federation_own_ms"))
        self.record("federated_total_broker_ms", one_user, lambda r: r["broker_ms"].get("all_own_ms"))
        self.details["federated_overhead_one_user"] = one_user

    def scale(self) -> None:
        key = "login_p99_ms_at_1m_accounts"
        if self.srv.engine.dialect.name != "postgresql":
            self.results[key] = None
            self.notes[key] = "needs DATABASE_URL on PostgreSQL (the 1M-account seed uses COPY); run with one set"
            self._log(f"{key}: null ({self.notes[key]})")
            return
        if self.args.skip_scale:
            self.results[key] = None
            self.notes[key] = "skipped (--skip-scale)"
            return
        self._log("seeding 1,000,000 accounts and 200,000 enterprises (COPY)")
        seconds = seeding.seed_scale(self.srv.engine, self.srv.settings, self.args.scale_accounts,
                                     self.args.scale_enterprises)
        self.details["scale_seed_seconds"] = round(seconds, 1)
        self.details["scale_accounts"] = seeding.account_count(self.srv.engine)
        self.login_latency(key, "scale-", 0, self.args.scale_accounts)

    # -- all -------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.monotonic()
        os.sched_setaffinity(0, self.gen_cpus)   # the harness and the embedded Redis stay off the server CPUs
        self.srv = BenchServer(self.server_cpus, os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", ""),
                               keep=self.args.keep, threads=self.args.threads)
        self.srv.prepare()
        self._log(f"instance {self.srv.instance}; {self.srv.backend}; server CPUs {self.server_cpus}, "
                  f"load generator CPUs {self.gen_cpus}")
        try:
            self.srv.start()
            self.timed("bare", self.bare)
            self.timed("login", self.login)
            self.timed("oidc", self.oidc)
            self.timed("lockout", self.lockout)
            self.timed("federated", self.federated)
            self.timed("scale", lambda: (self.login_latency("login_p99_ms_demo", "bench-", LOGIN_RANGE[0],
                                                            LOGIN_RANGE[1]), self.scale()))
        finally:
            self.srv.close()
        self.timings["total"] = round(time.monotonic() - started, 1)
        return report.write(self, HERE)


FEDERATION_HOPS = ("/federation/start/", "/federation/callback/")


def broker_ms_per_login(log_path: str, offset: int, ops: set[str]) -> dict:
    """From the broker's access log (lines after ``offset``), per federated login (X-Request-Id
    ``fed-<op>-<n>``) the sums of ``duration_ms`` and of ``duration_ms - upstream_ms``, over the
    federation hops and over all broker hops; the medians over the logins, also per hop."""
    hops: dict[str, list[tuple[str, float, float]]] = {}
    with open(log_path, "rb") as fh:
        fh.seek(offset)
        for line in fh:
            if b'"fed-' not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            op = entry.get("request_id", "").split("-")[1:2]
            if op and op[0] in ops and "duration_ms" in entry:
                hops.setdefault(op[0], []).append((entry.get("path", ""), entry["duration_ms"],
                                                   entry.get("upstream_ms", 0.0)))
    if not hops:
        return {}

    def median_of(values):
        return round(statistics.median(values), 2)

    per_login = {"federation_own_ms": [], "all_own_ms": [], "federation_duration_ms": [], "all_duration_ms": [],
                 "upstream_ms": []}
    per_hop: dict[str, list[float]] = {}
    for entries in hops.values():
        fed = [e for e in entries if e[0].startswith(FEDERATION_HOPS)]
        per_login["federation_own_ms"].append(sum(d - u for _, d, u in fed))
        per_login["federation_duration_ms"].append(sum(d for _, d, _ in fed))
        per_login["all_own_ms"].append(sum(d - u for _, d, u in entries))
        per_login["all_duration_ms"].append(sum(d for _, d, _ in entries))
        per_login["upstream_ms"].append(sum(u for _, _, u in entries))
        for path, d, u in entries:
            name = path.rsplit("/", 1)[0] if path.startswith(FEDERATION_HOPS) else path
            per_hop.setdefault(name + " own", []).append(d - u)
            if u:
                per_hop.setdefault(name + " upstream", []).append(u)
    return {**{k: median_of(v) for k, v in per_login.items()}, "logins": len(hops),
            "per_hop_median_ms": {k: median_of(v) for k, v in per_hop.items()}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench", description="Benchmarks of the broker (issue 5).")
    p.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_RUNS", 3)), help="runs per scenario (median)")
    p.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 4)),
                   help="measured seconds per run")
    p.add_argument("--login-pairs", type=int, default=int(os.environ.get("BENCH_LOGIN_PAIRS", 5)),
                   help="argon2 + login runs, interleaved (their medians give the two login keys)")
    p.add_argument("--only", nargs="*", help="bare login (with argon2) oidc lockout federated scale")
    p.add_argument("--skip-scale", action="store_true", help="leave out the 1M-account seed")
    p.add_argument("--scale-accounts", type=int, default=seeding.SCALE_ACCOUNTS)
    p.add_argument("--scale-enterprises", type=int, default=seeding.SCALE_ENTERPRISES)
    p.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 4)),
                   help="threads per gunicorn worker (broker serve --threads, default 4 = gthread; 1 = sync worker)")
    p.add_argument("--no-readme", action="store_true", help="do not rewrite the README section")
    p.add_argument("--output-name", default="latest", metavar="NAME",
                   help="write bench/results/NAME.{json,md,png} (and the README block marked bench:NAME)")
    p.add_argument("--keep", action="store_true", help="keep the instance folder (logs) afterwards")
    p.add_argument("--verbose", "-v", action="store_true", help="show the load generator's output")
    p.add_argument("--private-postgresql", action="store_true",
                   help="run on a PostgreSQL of the bench's own (initdb in a temporary folder, on the load "
                        "generator's CPUs), with the 1M-account scale run; results named postgresql unless "
                        "--output-name says otherwise")
    args = p.parse_args(argv)
    if not args.private_postgresql:
        Bench(args).run()
        return
    if args.output_name == "latest":
        args.output_name = "postgresql"
    with pgcluster.private_postgresql(split_cpus()[1]) as url:
        os.environ["DATABASE_URL"] = url
        Bench(args).run()

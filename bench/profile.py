"""``python -m bench.profile SCENARIO [--seconds S]``: py-spy samples the gunicorn worker while the
load generator drives one scenario (bare, login, oidc, federated: one user, the sandbox portal
on the load generator's CPU); writes bench/results/profile-SCENARIO.txt
(collapsed stacks, flamegraph.pl / speedscope input) and prints the hottest frames, self and total.
Profile before optimising (issue 5)."""
from __future__ import annotations

import argparse
import collections
import os
import subprocess
import sys
import time

from .run import HERE, LOGIN_RANGE, OIDC_RANGE
from .server import BenchServer, split_cpus


def top_frames(collapsed: str, n: int = 25) -> tuple[list, list, int]:
    self_time, total_time, samples = collections.Counter(), collections.Counter(), 0
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        samples += count
        frames = stack.split(";")
        self_time[frames[-1]] += count
        for frame in set(frames):
            total_time[frame] += count
    return self_time.most_common(n), total_time.most_common(n), samples


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.profile")
    p.add_argument("scenario", choices=["bare", "login", "oidc", "federated"])
    p.add_argument("--frames", type=int, default=25, help="how many of the hottest frames to print")
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL (Python's own CPU)")
    a = p.parse_args(argv)
    server_cpus, gen_cpus = split_cpus()
    os.sched_setaffinity(0, gen_cpus)
    srv = BenchServer(server_cpus[:1]).prepare().start()
    out = os.path.join(HERE, "results", f"profile-{a.scenario}.txt")
    try:
        users, extra = 8, []
        if a.scenario == "federated":
            users, extra = 1, _federated_params(srv, gen_cpus)
        worker = srv.worker_pids()[0]
        # --gil: only the thread holding the GIL, i.e. Python's own CPU (py-spy must then pause the
        # worker for each sample); otherwise every running thread, waits on the GIL included.
        sampling = ["--gil"] if a.gil else ["--nonblocking"]
        spy = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--pid",
                                str(worker), "--format", "raw", "--output", out, "--rate", "200", *sampling],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        params = {"bare": [], "login": ["--param", f"first={LOGIN_RANGE[0]}", "--param", "count=2000"],
                  "oidc": ["--param", f"first={OIDC_RANGE[0]}", "--param", "count=8", "--param", "codes=600",
                           "--param", f"redirect_uri=http://127.0.0.1:{srv.port + 2}/smebj/callback"],
                  "federated": extra}[a.scenario]
        subprocess.run(["taskset", "-c", ",".join(map(str, gen_cpus)), sys.executable, "-m", "bench.loadgen",
                        a.scenario, "--host", srv.url, "--users", str(users), "--duration", str(a.seconds),
                        "--out", "/dev/null", *params], check=True, stderr=subprocess.DEVNULL)
        spy.send_signal(2)
        spy.wait(30)
    finally:
        srv.close()
    with open(out) as fh:
        own, total, samples = top_frames(fh.read(), a.frames)
    print(f"{samples} samples -> {out}\n\nself time:")
    for frame, count in own:
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("\ntotal time (frame on the stack):")
    for frame, count in total:
        print(f"  {100 * count / samples:5.1f}%  {frame}")


def _federated_params(srv, gen_cpus) -> list[str]:
    """The sandbox started, sd_zhang linked by a first login (as ``bench.run`` does); loadgen params."""
    from binding.oauth.demo import demo_portal_url
    from sandbox.portals.accounts import PASSWORD

    from .server import FEDERATED_PORTAL

    srv.start_sandbox(gen_cpus)
    params = {"portal": FEDERATED_PORTAL, "portal_user": "sd_zhang", "portal_password": PASSWORD,
              "redirect_uri": demo_portal_url(srv.url) + "/smebj/callback"}
    flat = [x for k, v in params.items() for x in ("--param", f"{k}={v}")]
    subprocess.run([sys.executable, "-m", "bench.loadgen", "federated", "--host", srv.url, "--users", "1",
                    "--duration", "1", "--out", "/dev/null", "--param", "warmup=0.5", *flat],
                   check=True, stderr=subprocess.DEVNULL)
    return flat


if __name__ == "__main__":
    main()

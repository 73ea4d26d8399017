"""``python -m bench.profile SCENARIO [--seconds S]``: py-spy samples the gunicorn worker while the
load generator drives one scenario (bare, login, oidc); writes bench/results/profile-SCENARIO.txt
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
    p.add_argument("scenario", choices=["bare", "login", "oidc"])
    p.add_argument("--seconds", type=float, default=6)
    a = p.parse_args(argv)
    server_cpus, gen_cpus = split_cpus()
    os.sched_setaffinity(0, gen_cpus)
    srv = BenchServer(server_cpus[:1]).prepare().start()
    out = os.path.join(HERE, "results", f"profile-{a.scenario}.txt")
    try:
        worker = srv.worker_pids()[0]
        spy = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "py-spy"), "record", "--pid",
                                str(worker), "--format", "raw", "--output", out, "--rate", "200", "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        params = {"bare": [], "login": ["--param", f"first={LOGIN_RANGE[0]}", "--param", "count=2000"],
                  "oidc": ["--param", f"first={OIDC_RANGE[0]}", "--param", "count=8", "--param", "codes=600",
                           "--param", f"redirect_uri=http://127.0.0.1:{srv.port + 2}/smebj/callback"]}[a.scenario]
        subprocess.run(["taskset", "-c", ",".join(map(str, gen_cpus)), sys.executable, "-m", "bench.loadgen",
                        a.scenario, "--host", srv.url, "--users", "8", "--duration", str(a.seconds),
                        "--out", "/dev/null", *params], check=True, stderr=subprocess.DEVNULL)
        spy.send_signal(2)
        spy.wait(30)
    finally:
        srv.close()
    with open(out) as fh:
        own, total, samples = top_frames(fh.read())
    print(f"{samples} samples -> {out}\n\nself time:")
    for frame, count in own:
        print(f"  {100 * count / samples:5.1f}%  {frame}")
    print("\ntotal time (frame on the stack):")
    for frame, count in total:
        print(f"  {100 * count / samples:5.1f}%  {frame}")


if __name__ == "__main__":
    main()

"""A PostgreSQL of the bench's own for ``python -m bench --private-postgresql``: ``initdb`` in a
temporary folder, the server on a free loopback port pinned to the load generator's CPUs (like
the embedded Redis: the server CPU stays the broker's), a database ``bench``; stopped and removed
afterwards. What the README's five manual commands did (fifth round). As root, PostgreSQL's
programs run as the ``postgres`` user (initdb refuses root)."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from typing import Iterator

USER = "postgres"


def bin_dir() -> str:
    """The newest installed server's programs (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[-3]))
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    if initdb:
        return os.path.dirname(initdb)
    raise SystemExit("--private-postgresql needs a PostgreSQL server installed (initdb, pg_ctl): "
                     "apt-get install postgresql")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def private_postgresql(cpus: list[int]) -> Iterator[str]:
    """Yield the URL of a fresh database ``bench`` on a server of its own, running on ``cpus``."""
    programs = bin_dir()
    folder = tempfile.mkdtemp(prefix="tongxing-bench-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, USER)
    data, port = os.path.join(folder, "data"), _free_port()
    run = lambda *cmd: subprocess.run(_as_owner(list(cmd)), check=True, stdout=subprocess.DEVNULL)  # noqa: E731
    try:
        run(os.path.join(programs, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
        run("taskset", "-c", ",".join(map(str, cpus)), os.path.join(programs, "pg_ctl"), "-D", data, "-w",
            "-l", os.path.join(folder, "server.log"), "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1",
            "start")
        try:
            run(os.path.join(programs, "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "bench")
            yield f"postgresql://postgres@127.0.0.1:{port}/bench"
        finally:
            run(os.path.join(programs, "pg_ctl"), "-D", data, "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)

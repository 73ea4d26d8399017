"""``argon2_hashes_per_s_per_core``: raw passlib argon2id (binding.passwords.PasswordHasher's
CryptContext, the configured parameters) on this one thread for ``--seconds``; prints hashes per second.
The harness runs it pinned to one server CPU, with the broker stopped."""
from __future__ import annotations

import argparse
import time

from binding.passwords import PasswordHasher
from config import load_settings


def hashes_per_second(seconds: float) -> float:
    context = PasswordHasher(load_settings().password).context   # passlib itself, on this thread
    context.hash("Warm@up2026")
    n, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        context.hash("Bench@pass2026")
        n += 1
    return n / elapsed


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.hashing")
    p.add_argument("--seconds", type=float, default=3.0)
    print(round(hashes_per_second(p.parse_args().seconds), 2))

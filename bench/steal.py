"""CPU time the hypervisor took from the benchmark's CPUs (``steal`` in /proc/stat, Linux
proc(5)), reported per scenario so that a run on a starved virtual machine can be told from a
regression. It shows only part of a shared machine's noise: the host's other guests also share
the caches and the memory bandwidth, which slows every figure without any steal (README
"Performance", sixth round: the same code 35% slower an hour later at 0-1% steal); the argon2
and bare figures of the same run are the other yardsticks."""
from __future__ import annotations

STEAL = 7   # user nice system idle iowait irq softirq steal (guest time is already in user)


def read(cpus: list[int]) -> tuple[int, int]:
    """(stolen, total) clock ticks so far, summed over ``cpus``; (0, 0) where /proc/stat is not."""
    wanted = {f"cpu{n}" for n in cpus}
    stolen = total = 0
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                name, *fields = line.split()
                if name in wanted:
                    ticks = [int(v) for v in fields[:STEAL + 1]]
                    stolen, total = stolen + ticks[STEAL], total + sum(ticks)
    except OSError:
        pass
    return stolen, total


def percent(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """The stolen share of the time between two ``read``s, in %; None without data."""
    total = after[1] - before[1]
    return round(100 * (after[0] - before[0]) / total, 1) if total > 0 else None

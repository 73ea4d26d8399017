"""Password hashing and strength rules (issue 2, "Local accounts").

Hashes: argon2id with the OWASP Password Storage Cheat Sheet parameters (m=19 MiB, t=2, p=1,
from ``PasswordSettings``) through a passlib ``CryptContext``. bcrypt and pbkdf2_sha256 are
listed as deprecated schemes so hashes imported from older systems verify, and
``verify_and_update`` hands back an argon2id re-hash on the next successful login (also when
the argon2 parameters change).

At most ``max_parallel_hashes`` hashes / verifications run at once per process (default: one
per CPU the process may use). argon2 is memory-hard on purpose: two 19 MiB hashes sharing one
core evict each other's blocks from its caches, so running them one after the other finishes
both sooner than interleaving them (issue 5, measured in the README "Performance" section).
They run on that many long-lived threads of the process, not on the request threads: glibc gives
each thread its own malloc arena, so a hash on whichever request thread served it gets its 19 MiB
from one of several arenas, cold in the caches and the TLB (one hash after another over four
threads: 20.2-20.7 ms of CPU each, on one thread 17.4-18.5 ms; README, fifth round).
A request waiting for its turn holds no database or Redis resources beyond its own.
"""
from __future__ import annotations

import os
import re
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, TypeVar

from passlib.context import CryptContext

from config import PasswordSettings


class PasswordHasher:
    """Hash and verify passwords. Build it with ``PasswordHasher.for_settings`` to share one per
    process (the dummy hash is computed once, so unknown identifiers cost what known ones do)."""

    def __init__(self, settings: PasswordSettings):
        self.settings = settings
        self._context = CryptContext(
            schemes=["argon2", "bcrypt", "pbkdf2_sha256"],
            default="argon2",
            deprecated=["bcrypt", "pbkdf2_sha256"],
            argon2__type="ID",
            argon2__memory_cost=settings.argon2_memory_kib,
            argon2__rounds=settings.argon2_time_cost,
            argon2__parallelism=settings.argon2_parallelism,
        )
        self._threads = _hash_threads(settings.max_parallel_hashes or usable_cpus())
        # A hash of a random secret with the current parameters: dummy_verify costs one real verify.
        self._dummy_hash = self.hash(secrets.token_urlsafe(16))

    @classmethod
    def for_settings(cls, settings: PasswordSettings) -> "PasswordHasher":
        return _shared_hasher(settings)

    @property
    def max_parallel(self) -> int:
        return self._threads.limit

    @property
    def context(self) -> CryptContext:
        """The passlib context itself (``bench.hashing`` measures raw passlib with it)."""
        return self._context

    def hash(self, password: str) -> str:
        return self._threads.run(self._context.hash, password)

    def verify(self, password: str, stored_hash: str) -> tuple[bool, str | None]:
        """(matches, new hash to store or None). Unknown hash formats count as a mismatch."""
        try:
            return self._threads.run(self._context.verify_and_update, password, stored_hash)
        except ValueError:
            return False, None

    def dummy_verify(self, password: str) -> None:
        """Spend the time of one verification without an account (no timing oracle); it waits
        for a turn like a real one, so queueing does not tell the two apart either."""
        self._threads.run(self._context.verify, password, self._dummy_hash)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask: taskset, cgroup cpusets), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


T = TypeVar("T")


class _HashThreads:
    """``limit`` threads computing every argon2 hash and verification of this process: at most
    ``limit`` at once, the rest queued in order; the caller waits for its own (module docstring)."""

    def __init__(self, limit: int):
        self.limit = limit
        self._pool = ThreadPoolExecutor(limit, thread_name_prefix="argon2")

    def run(self, fn: Callable[..., T], *args) -> T:
        return self._pool.submit(fn, *args).result()

    def renew(self) -> None:
        """After a fork: the parent's threads did not come along."""
        self._pool = ThreadPoolExecutor(self.limit, thread_name_prefix="argon2")


_HASH_THREADS: dict[int, _HashThreads] = {}
_HASH_THREADS_LOCK = threading.Lock()


def _hash_threads(limit: int) -> _HashThreads:
    """One set of threads per limit and process, shared by every hasher that asks for it."""
    with _HASH_THREADS_LOCK:
        threads = _HASH_THREADS.get(limit)
        if threads is None:
            threads = _HASH_THREADS[limit] = _HashThreads(limit)
        return threads


def _renew_hash_threads_after_fork() -> None:
    # A hasher built before gunicorn forks its workers (or ``broker demo`` before it serves)
    # would otherwise queue its hashes for threads that only exist in the parent (and the lock
    # may have been held by one of the parent's threads at the fork).
    global _HASH_THREADS_LOCK
    _HASH_THREADS_LOCK = threading.Lock()
    for threads in _HASH_THREADS.values():
        threads.renew()


os.register_at_fork(after_in_child=_renew_hash_threads_after_fork)


@lru_cache(maxsize=8)
def _shared_hasher(settings: PasswordSettings) -> PasswordHasher:
    return PasswordHasher(settings)


@dataclass(frozen=True)
class PasswordProblem:
    rule: str  # length_min | length_max | one_char | classes | contains_username
    zh: str
    en: str


_CLASSES = (re.compile(r"[a-z]"), re.compile(r"[A-Z]"), re.compile(r"[0-9]"), re.compile(r"[^a-zA-Z0-9]"))


def character_classes(password: str) -> int:
    """How many of lower case, upper case, digit and symbol appear."""
    return sum(1 for pattern in _CLASSES if pattern.search(password))


def password_problem(password: str, settings: PasswordSettings, username: str | None = None) -> PasswordProblem | None:
    """The first strength rule ``password`` breaks, or None.

    A password may contain the username only if what is left without it is still strong on its
    own (so ``support`` / ``Support@demo2026`` of the demo cast passes, ``zhangsan123!`` does not).
    """
    n_min, n_max = settings.min_length, settings.max_length
    if len(password) < n_min:
        return PasswordProblem("length_min", f"密码至少需要 {n_min} 个字符",
                               f"The password needs at least {n_min} characters")
    if len(password) > n_max:
        return PasswordProblem("length_max", f"密码不能超过 {n_max} 个字符",
                               f"The password may have at most {n_max} characters")
    if len(set(password)) == 1:
        return PasswordProblem("one_char", "密码不能全部由同一个字符组成",
                               "The password may not be one character repeated")
    if character_classes(password) < 3:
        return PasswordProblem("classes", "密码需包含小写字母、大写字母、数字、符号中的至少三类",
                               "The password needs at least three of: lower case, upper case, digits, symbols")
    if username and len(username) >= 3 and username.lower() in password.lower():
        rest = re.sub(re.escape(username), "", password, flags=re.IGNORECASE)
        if len(rest) < n_min or character_classes(rest) < 3:
            return PasswordProblem("contains_username", "密码不能以用户名为主要部分",
                                   "The password may not be built around the username")
    return None


__all__ = ["PasswordHasher", "PasswordProblem", "character_classes", "password_problem", "usable_cpus"]

"""The public entry points for running untrusted functions: a pool of zygotes, one per slot."""

from __future__ import annotations

import atexit
import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from selftaught.errors import SandboxError
from selftaught.sandbox.launcher import plan
from selftaught.sandbox.limits import CallResult, Limits
from selftaught.sandbox.outcome import classify
from selftaught.sandbox.packages import package_set
from selftaught.sandbox.supervisor import Zygote, ZygoteLost

MAX_POOL_SLOTS = 16


class ZygotePool:
    """Zygotes started on demand (one per concurrent call, at most MAX_POOL_SLOTS in all).

    A zygote serves one set of extra packages (those mounted in its sandbox), so idle zygotes are
    kept per set. Slots (and with them uids and cgroups) are shared by all sets: when every slot
    is taken and a call needs another set, an idle zygote of some other set is closed for it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: dict[tuple[str, ...], list[Zygote]] = {}
        self._slots_in_use: set[int] = set()
        self._all: list[Zygote] = []
        self._owner = os.getpid()

    def _claim_slot(self) -> int | None:
        for slot in range(MAX_POOL_SLOTS):
            if slot not in self._slots_in_use:
                self._slots_in_use.add(slot)
                return slot
        return None

    def _other_idle(self, packages: tuple[str, ...]) -> Zygote | None:
        for key, zygotes in self._idle.items():
            if key != packages and zygotes:
                return zygotes.pop(0)  # the least recently used of that set
        return None

    def _next(self, packages: tuple[str, ...]) -> tuple[Zygote | None, int | None, Zygote | None]:
        """Under the lock: (an idle zygote of this set | a free slot | an idle one to close)."""
        while True:
            idle = self._idle.get(packages)
            if idle:
                return idle.pop(), None, None
            slot = self._claim_slot()
            if slot is not None:
                return None, slot, None
            victim = self._other_idle(packages)
            if victim is not None:
                return None, None, victim
            self._cond.wait()

    def acquire(self, packages: tuple[str, ...] = ()) -> Zygote:
        """An idle zygote for `packages` (a `package_set`), a new one when a slot is free, else
        wait for one."""
        while True:
            with self._cond:
                zygote, slot, victim = self._next(packages)
            if victim is not None:
                victim.close()
                self._forget(victim)
                continue
            if zygote is not None:
                if zygote.proc.poll() is None:
                    return zygote
                zygote.kill()  # died while idle (e.g. chosen by the OOM killer): replace it
                self._forget(zygote)
                continue
            assert slot is not None
            try:
                zygote = Zygote(plan(packages), slot)
            except BaseException:
                with self._cond:
                    self._slots_in_use.discard(slot)
                    self._cond.notify_all()
                raise
            with self._cond:
                self._all.append(zygote)
            return zygote

    def _forget(self, zygote: Zygote) -> None:
        with self._cond:
            self._slots_in_use.discard(zygote.slot)
            if zygote in self._all:
                self._all.remove(zygote)
            self._cond.notify_all()

    def release(self, zygote: Zygote) -> None:
        """Return a zygote after a job; a dead one frees its slot instead."""
        if not zygote.alive:
            self._forget(zygote)
            return
        with self._cond:
            self._idle.setdefault(zygote.plan.packages, []).append(zygote)
            self._cond.notify_all()

    def warm(self, count: int, packages: tuple[str, ...] = ()) -> None:
        """Start up to `count` zygotes now so the first calls do not pay the start-up."""
        started = [self.acquire(packages) for _ in range(min(count, MAX_POOL_SLOTS))]
        for zygote in started:
            self.release(zygote)

    def shutdown(self) -> None:
        """Close every zygote (and so every process they started)."""
        with self._cond:
            zygotes, self._all = list(self._all), []
            self._slots_in_use.clear()
            self._idle.clear()
            self._cond.notify_all()
        for zygote in zygotes:
            zygote.close()


_pool: ZygotePool | None = None
_pool_lock = threading.Lock()


def get_pool() -> ZygotePool:
    """The process-wide zygote pool (recreated after a fork)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._owner != os.getpid():
            _pool = ZygotePool()
        return _pool


def shutdown() -> None:
    """Stop all pooled zygotes (also registered with atexit)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None and pool._owner == os.getpid():
        pool.shutdown()


atexit.register(shutdown)


def encode_job(source: str, entry: str, args: Sequence[Any], limits: Limits, seed: int) -> bytes:
    """The call job as JSON bytes; arguments must be plain JSON data (they arrive as copies)."""
    job = {
        "op": "call",
        "source": source,
        "entry": entry,
        "args": list(args),
        "seed": seed,
        "limits": limits.as_job(),
    }
    try:
        return json.dumps(job, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise SandboxError(f"sandbox arguments must be plain JSON data: {exc}") from exc


def run_function(
    source: str,
    entry: str,
    args: Sequence[Any],
    limits: Limits,
    *,
    seed: int = 0,
    packages: Sequence[str] = (),
) -> CallResult:
    """Run `entry(*args)` from `source` in a fresh isolated process and return its outcome.

    The arguments are passed as JSON copies; the return value comes back as strictly validated
    JSON. `random` (and numpy's global generator) is seeded with `seed`. Besides the standard
    library the code can import numpy and the installed `packages` (a task's declared ones; see
    `importable_packages`), nothing else. Never raises for anything the untrusted code does;
    raises SandboxError only if the sandbox itself is broken.
    """
    job = encode_job(source, entry, args, limits, seed)
    key = package_set(packages)
    pool = get_pool()
    for attempt in range(2):
        zygote = pool.acquire(key)
        try:
            header, payload = zygote.call(
                job, limits.wall_seconds, limits.memory_bytes, limits.output_bytes
            )
        except ZygoteLost as exc:
            if exc.before_job and attempt == 0:
                continue  # the zygote was already gone: the job never ran, so retry once
            return CallResult("crashed", None, f"sandbox failure: {exc}", limits.wall_seconds)
        finally:
            pool.release(zygote)
        return classify(header, payload, limits)
    raise AssertionError("unreachable")


def run_function_many(
    source: str,
    entry: str,
    args_list: Sequence[Sequence[Any]],
    limits: Limits,
    *,
    workers: int | None = None,
    seed: int = 0,
    packages: Sequence[str] = (),
) -> list[CallResult]:
    """`run_function` for many argument tuples, in parallel across cores; results in order."""
    if not args_list:
        return []
    count = max(1, min(workers or os.cpu_count() or 1, MAX_POOL_SLOTS, len(args_list)))
    if count == 1:
        return [
            run_function(source, entry, args, limits, seed=seed, packages=packages)
            for args in args_list
        ]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="sandbox") as executor:
        futures = [
            executor.submit(run_function, source, entry, args, limits, seed=seed, packages=packages)
            for args in args_list
        ]
        return [future.result() for future in futures]

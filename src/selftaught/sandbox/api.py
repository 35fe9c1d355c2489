"""The public entry points for running untrusted functions: a pool of zygotes, one per slot."""

from __future__ import annotations

import atexit
import json
import os
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from selftaught.errors import SandboxError
from selftaught.sandbox.launcher import plan
from selftaught.sandbox.limits import CallResult, Limits
from selftaught.sandbox.outcome import classify
from selftaught.sandbox.supervisor import Zygote, ZygoteLost

MAX_POOL_SLOTS = 16


class ZygotePool:
    """Zygotes started on demand (one per concurrent call, at most MAX_POOL_SLOTS)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[Zygote] = queue.LifoQueue()
        self._slots_in_use: set[int] = set()
        self._all: list[Zygote] = []
        self._owner = os.getpid()

    def _new_slot(self) -> int | None:
        with self._lock:
            for slot in range(MAX_POOL_SLOTS):
                if slot not in self._slots_in_use:
                    self._slots_in_use.add(slot)
                    return slot
        return None

    def acquire(self) -> Zygote:
        """An idle zygote, a new one when there is a free slot, else wait for one."""
        while True:
            try:
                zygote = self._idle.get_nowait()
            except queue.Empty:
                break
            if zygote.proc.poll() is None:
                return zygote
            zygote.kill()  # died while idle (e.g. chosen by the OOM killer): replace it
            self.release(zygote)
        slot = self._new_slot()
        if slot is None:
            return self._idle.get()
        try:
            zygote = Zygote(plan(), slot)
        except BaseException:
            with self._lock:
                self._slots_in_use.discard(slot)
            raise
        with self._lock:
            self._all.append(zygote)
        return zygote

    def release(self, zygote: Zygote) -> None:
        """Return a zygote after a job; a dead one frees its slot instead."""
        if zygote.alive:
            self._idle.put(zygote)
            return
        with self._lock:
            self._slots_in_use.discard(zygote.slot)
            if zygote in self._all:
                self._all.remove(zygote)

    def warm(self, count: int) -> None:
        """Start up to `count` zygotes now so the first calls do not pay the start-up."""
        started = [self.acquire() for _ in range(min(count, MAX_POOL_SLOTS))]
        for zygote in started:
            self.release(zygote)

    def shutdown(self) -> None:
        """Close every zygote (and so every process they started)."""
        with self._lock:
            zygotes, self._all = list(self._all), []
            self._slots_in_use.clear()
        for zygote in zygotes:
            zygote.close()
        while not self._idle.empty():
            self._idle.get_nowait()


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
    source: str, entry: str, args: Sequence[Any], limits: Limits, *, seed: int = 0
) -> CallResult:
    """Run `entry(*args)` from `source` in a fresh isolated process and return its outcome.

    The arguments are passed as JSON copies; the return value comes back as strictly validated
    JSON. `random` (and numpy's global generator) is seeded with `seed`. Never raises for
    anything the untrusted code does; raises SandboxError only if the sandbox itself is broken.
    """
    job = encode_job(source, entry, args, limits, seed)
    pool = get_pool()
    for attempt in range(2):
        zygote = pool.acquire()
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
) -> list[CallResult]:
    """`run_function` for many argument tuples, in parallel across cores; results in order."""
    if not args_list:
        return []
    count = max(1, min(workers or os.cpu_count() or 1, MAX_POOL_SLOTS, len(args_list)))
    if count == 1:
        return [run_function(source, entry, args, limits, seed=seed) for args in args_list]
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="sandbox") as executor:
        futures = [
            executor.submit(run_function, source, entry, args, limits, seed=seed)
            for args in args_list
        ]
        return [future.result() for future in futures]

"""Shared machinery for the red-team suite: run an attack program, then check that the
orchestrator returned in time, that nothing the attack started survived, that no canary secret
leaked, and that the sandbox still works afterwards."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from selftaught.sandbox import CallResult, Limits, run_function
from selftaught.sandbox.api import get_pool
from selftaught.sandbox.launcher import SLOTS_PER_ORCHESTRATOR, UID_BASE

ATTACKS = Path(__file__).parent / "attacks"
FRAMES_HELPER = (ATTACKS / "_frames.py").read_text()
MARGIN = 3.0
QUICK = 2.0  # attacks that should be over at once must return within this many seconds
LIMITS = Limits(wall_seconds=1.5, memory_bytes=256 * 2**20)
CANARY = "redteam-canary-" + secrets.token_hex(8)
os.environ["SELFTAUGHT_REDTEAM_CANARY"] = CANARY  # in the orchestrator's environment only
ZYGOTE_PROCESSES = 3  # outer bwrap, bwrap's pid-1 reaper, the zygote itself


def sandbox_uid_processes() -> list[str]:
    """Host processes running as one of our slot uids (should be none between evaluations)."""
    found = []
    low = UID_BASE + (os.getpid() % 10_000) * SLOTS_PER_ORCHESTRATOR  # this orchestrator's block
    high = low + SLOTS_PER_ORCHESTRATOR
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
        state = next(line for line in status.splitlines() if line.startswith("State:"))
        if low <= int(uid_line.split()[1]) < high and "zombie" not in state:
            found.append(f"{name} {state.split()[1]} {cmdline.decode(errors='replace')[:80]}")
    return found


def cgroup_extras() -> list[str]:
    """Processes in the pool's slot cgroups beyond the zygotes' own."""
    extras = []
    for zygote in list(get_pool()._all):
        if zygote.cgroup is not None and zygote.alive:
            procs = zygote.cgroup.procs()
            if len(procs) > ZYGOTE_PROCESSES:
                extras.append(f"slot {zygote.slot}: {sorted(procs)}")
    return extras


def run_attack(
    name: str, *args: Any, limits: Limits = LIMITS, within: float | None = None
) -> CallResult:
    """Run attacks/<name>.py's `attack(*args)` and check the sandbox's guarantees around it."""
    source = (ATTACKS / f"{name}.py").read_text()
    start = time.monotonic()
    result = run_function(source, "attack", list(args), limits)
    elapsed = time.monotonic() - start
    budget = within if within is not None else limits.wall_seconds + MARGIN
    assert elapsed <= budget, f"{name}: orchestrator returned after {elapsed:.1f} s > {budget} s"
    survivors = sandbox_uid_processes()
    assert not survivors, f"{name}: processes outlived the evaluation: {survivors}"
    extras = cgroup_extras()
    assert not extras, f"{name}: extra processes in slot cgroups: {extras}"
    assert CANARY not in repr(result), f"{name}: the canary secret leaked"
    sanity = run_function("def f(x):\n    return x + 1\n", "f", [1], Limits(wall_seconds=10))
    assert sanity.value == 2, f"{name}: the sandbox is broken afterwards: {sanity}"
    return result

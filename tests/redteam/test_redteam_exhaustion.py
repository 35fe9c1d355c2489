"""Resource exhaustion: CPU, sleep, memory, forks, threads, daemons, floods, disk, recursion."""

from __future__ import annotations

import pytest
from redteam_support import LIMITS, QUICK, run_attack

from selftaught.sandbox import Limits

pytestmark = pytest.mark.redteam


def test_cpu_loop_times_out() -> None:
    assert run_attack("cpu_loop").status == "timeout"


def test_sigxcpu_caught_still_killed_by_cpu_limit() -> None:
    limits = Limits(wall_seconds=8, cpu_seconds=1, memory_bytes=256 * 2**20)
    result = run_attack("sigxcpu_caught", limits=limits)
    assert result.status == "timeout"
    # On a loaded machine 2 CPU seconds can take longer than the wall limit; otherwise the CPU
    # limit (hard limit one second after the caught SIGXCPU) must be what stopped it.
    assert "CPU" in result.error or "wall-clock" in result.error
    assert result.seconds < 8 or "wall-clock" in result.error


def test_sleep_forever_hits_wall_clock() -> None:
    result = run_attack("sleep_forever")
    assert result.status == "timeout" and "wall-clock" in result.error


def test_memory_bomb() -> None:
    assert run_attack("memory_bomb").status == "memory"


def test_numpy_memory_bomb() -> None:
    assert run_attack("numpy_memory_bomb").status == "memory"


def test_forked_memory_bomb_is_stopped_by_the_memory_cgroup() -> None:
    limits = Limits(wall_seconds=10, memory_bytes=256 * 2**20)
    result = run_attack("fork_memory_bomb", limits=limits)
    # Each child stays under its own address-space limit; together they exceed the slot's
    # cgroup, whose OOM killer must take some of them down (or the whole call fails).
    assert result.status != "ok" or result.value >= 1, result


def test_fork_bomb_is_contained() -> None:
    result = run_attack("fork_bomb")
    assert result.status != "ok" or result.value < 100


def test_thread_bomb_is_capped() -> None:
    result = run_attack("thread_bomb")
    assert result.status != "ok" or result.value < 100


def test_double_fork_daemon_is_killed() -> None:
    result = run_attack("daemon_double_fork", within=QUICK)
    assert result.status == "ok"  # the call itself succeeds; run_attack checks the daemon died


def test_setsid_child_holding_the_pipe_does_not_block() -> None:
    result = run_attack("setsid_holds_pipe", within=QUICK)
    assert result.status == "ok"


def test_setsid_grandchild_and_hang() -> None:
    assert run_attack("setsid_then_hang").status == "timeout"


def test_stdout_flood() -> None:
    assert run_attack("stdout_flood").status == "timeout"


def test_daemon_flooding_the_pipe_after_return() -> None:
    result = run_attack("flood_after_return", within=QUICK)
    assert result.status == "ok" and result.value == "returned"


def test_stderr_flood_does_not_corrupt_the_result() -> None:
    result = run_attack("stderr_flood_then_return", limits=Limits(wall_seconds=10))
    assert result.status == "ok" and result.value == 42


def test_disk_exhaustion_is_bounded() -> None:
    result = run_attack("disk_exhaustion", limits=Limits(wall_seconds=10))
    assert result.status == "ok"
    assert result.value["error"] is not None
    assert result.value["written"] <= 64 * 2**20


def test_inode_exhaustion_is_bounded() -> None:
    result = run_attack("inode_exhaustion", limits=Limits(wall_seconds=10))
    assert result.status == "ok"
    assert result.value["error"] is not None
    assert result.value["files"] <= 4096


def test_recursion_segfault_is_a_crash() -> None:
    result = run_attack("recursion_segfault", limits=Limits(wall_seconds=10))
    assert result.status == "crashed"
    assert "SIGSEGV" in result.error


def test_limits_are_defaults_for_attacks() -> None:
    assert LIMITS.wall_seconds < 5  # keeps the suite fast

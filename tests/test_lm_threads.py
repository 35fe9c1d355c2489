"""Thread-count choice: available CPUs (affinity, cgroup quota) and the load-following governor."""

from __future__ import annotations

import itertools
from pathlib import Path

from selftaught.lm.threads import (
    CpuSnapshot,
    ThreadGovernor,
    available_cpus,
    busy_seconds,
    cgroup_cpu_quota,
    threads_beside,
)

STAT = """cpu  400 0 100 1000 0 0 0 0 0 0
cpu0 300 0 50 400 0 0 0 0 0 0
cpu1 100 0 50 600 0 0 0 0 0 0
intr 12345
"""


def test_cgroup_v2_quota_is_read_from_the_process_group(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "cpu.max").write_text("150000 100000\n")
    assert cgroup_cpu_quota(tmp_path, "0::/job\n") == 1.5
    (tmp_path / "job" / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_quota(tmp_path, "0::/job\n") is None


def test_cgroup_v1_quota_and_unlimited(tmp_path: Path) -> None:
    base = tmp_path / "cpu,cpuacct"
    base.mkdir()
    (base / "cpu.cfs_quota_us").write_text("200000\n")
    (base / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_quota(tmp_path, "4:cpu,cpuacct:/\n1:memory:/x\n") == 2.0
    (base / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_quota(tmp_path, "4:cpu,cpuacct:/\n") is None


def test_available_cpus_is_within_the_affinity_mask() -> None:
    import os

    assert 1 <= available_cpus() <= len(os.sched_getaffinity(0))


def test_busy_seconds_counts_only_the_given_cpus() -> None:
    ticks = __import__("os").sysconf("SC_CLK_TCK")
    assert busy_seconds(STAT, None) == 500 / ticks
    assert busy_seconds(STAT, {0}) == 350 / ticks
    assert busy_seconds(STAT, {0, 1}) == 500 / ticks


def test_threads_leave_the_cores_others_keep_busy() -> None:
    assert threads_beside(0.0, 2) == 2
    assert threads_beside(0.3, 2) == 2
    assert threads_beside(0.9, 2) == 1
    assert threads_beside(5.0, 2) == 1  # never fewer than one
    assert threads_beside(1.0, 8) == 7


class FakeMachine:
    """Others busy at a given rate while this process uses one core per second of wall time."""

    def __init__(self) -> None:
        self.t = 0.0
        self.busy = 0.0
        self.own = 0.0
        self.others = 0.0

    def advance(self, seconds: float) -> None:
        self.t += seconds
        self.own += seconds
        self.busy += seconds * (1 + self.others)

    def snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(self.t, self.busy, self.own)


def governed(machine: FakeMachine, applied: list[int]) -> ThreadGovernor:
    return ThreadGovernor(
        applied.append, 2, hold=5.0, snapshot=machine.snapshot, clock=lambda: machine.t
    )


def beside_a_busy_neighbour() -> tuple[FakeMachine, ThreadGovernor]:
    """A governor that has just seen another process keep a CPU busy (so it starts probing)."""
    machine = FakeMachine()
    gov = governed(machine, [])
    gov.tick()
    machine.others = 1.0
    machine.advance(0.6)
    gov.tick()
    return machine, gov


def probe(gov: ThreadGovernor, seconds_per_token: dict[int, float]) -> None:
    """Report plain steps at whatever count the governor tries until it stops probing."""
    for _ in range(20):
        if not gov.probing:
            return
        gov.observe(2, 2 * seconds_per_token[gov.threads])
    raise AssertionError("the probe never ended")


def test_all_cpus_while_nobody_else_is_busy() -> None:
    machine = FakeMachine()
    applied: list[int] = []
    gov = governed(machine, applied)
    gov.tick()
    machine.advance(0.6)
    assert gov.tick() == 2 and not gov.probing and applied == [2]


def test_beside_a_busy_neighbour_the_faster_count_is_kept() -> None:
    for fast, slow in ((1, 2), (2, 1)):
        _, gov = beside_a_busy_neighbour()
        assert gov.probing
        probe(gov, {fast: 0.03, slow: 0.09})
        assert gov.threads == fast


def test_the_choice_is_probed_again_after_hold_and_when_the_neighbour_leaves() -> None:
    machine, gov = beside_a_busy_neighbour()
    probe(gov, {1: 0.03, 2: 0.09})
    machine.advance(1.0)
    assert gov.tick() == 1 and not gov.probing  # held
    machine.advance(5.0)
    gov.tick()
    assert gov.probing
    probe(gov, {1: 0.09, 2: 0.03})  # the neighbour calmed down: two threads win now
    assert gov.threads == 2
    machine.others = 0.0
    machine.advance(0.6)
    assert gov.tick() == 2 and not gov.probing


def test_a_steady_neighbour_is_probed_less_and_less_often() -> None:
    machine, gov = beside_a_busy_neighbour()
    starts = []
    for _ in range(60):  # a minute beside the same neighbour, one thread always the faster
        machine.advance(1.0)
        gov.tick()
        if gov.probing:
            starts.append(machine.t)
            probe(gov, {1: 0.03, 2: 0.09})
    gaps = [round(b - a) for a, b in itertools.pairwise(starts)]
    assert gaps == [5, 10, 20]  # the 5 s hold doubles while the same count keeps winning
    machine.others = 0.0
    machine.advance(0.6)
    gov.tick()  # the neighbour leaves: all CPUs, and the next neighbour starts from a 5 s hold
    machine.others = 1.0
    machine.advance(0.6)
    gov.tick()
    probe(gov, {1: 0.03, 2: 0.09})
    machine.advance(6.0)
    gov.tick()
    assert gov.probing


def test_one_slow_step_does_not_decide_a_probe() -> None:
    _, gov = beside_a_busy_neighbour()
    steps = {1: [0.03, 0.5, 0.03], 2: [0.05, 0.05, 0.05]}
    while gov.probing:
        gov.observe(1, steps[gov.threads].pop())
    assert gov.threads == 1


def test_a_fixed_thread_count_is_never_changed() -> None:
    machine = FakeMachine()
    applied: list[int] = []
    gov = ThreadGovernor(applied.append, 2, fixed=2, snapshot=machine.snapshot)
    machine.others = 1.0
    machine.advance(1.0)
    assert gov.tick() == 2 and applied == [2] and not gov.probing


def test_a_neighbour_that_starts_with_a_call_is_seen_after_the_first_window() -> None:
    machine = FakeMachine()
    gov = governed(machine, [])
    gov.tick()
    machine.advance(0.4)  # the previous call, on an idle machine; its last look was at 0
    machine.others = 1.0  # a neighbour starts just as the next call does
    gov.resume()
    machine.advance(0.2)
    gov.tick()
    assert gov.probing  # 0.2 s into the call, not after a window that is two thirds idle


def test_the_load_of_the_pause_between_calls_does_not_decide() -> None:
    machine = FakeMachine()
    gov = governed(machine, [])
    gov.tick()
    machine.others = 1.0  # between calls: the sandbox scores candidates
    machine.advance(3.0)
    machine.others = 0.0
    gov.resume()
    machine.advance(0.2)
    assert gov.tick() == 2 and not gov.probing


def test_without_resume_the_pause_decides() -> None:
    """The counterpart of the test above: what resume() prevents."""
    machine = FakeMachine()
    gov = governed(machine, [])
    gov.tick()
    machine.others = 1.0
    machine.advance(3.0)
    machine.others = 0.0
    machine.advance(0.2)
    gov.tick()
    assert gov.probing

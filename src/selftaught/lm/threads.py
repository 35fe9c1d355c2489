"""How many threads llama.cpp should use: the CPUs we may run on, minus what others keep busy.

llama.cpp's worker threads meet at a barrier after every operation of the graph. When another
process takes one of their cores, every barrier waits for the descheduled thread, and decoding
with all cores became 5-6 times slower than with one thread beside a single busy process. So the
thread count follows the load: ``ThreadGovernor`` samples how much CPU *other* processes used
since its last look and, while they use some, times decoding with fewer threads against all
cores and keeps the faster.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup CPU quota if one is set."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    quota = cgroup_cpu_quota()
    if quota is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def cgroup_cpu_quota(root: Path = _CGROUP_ROOT, proc_cgroup: str | None = None) -> float | None:
    """The cgroup CPU quota in CPUs (cgroup v2 ``cpu.max`` or v1 CFS files), None if unlimited."""
    if proc_cgroup is None:
        try:
            proc_cgroup = Path("/proc/self/cgroup").read_text()
        except OSError:
            return None
    for line in proc_cgroup.splitlines():
        _, controllers, rel = line.split(":", 2)
        rel = rel.lstrip("/")
        if controllers == "":  # cgroup v2: "max 100000" or "200000 100000"
            parts = _read(root / rel / "cpu.max", root / "cpu.max")
            if parts and parts[0] != "max":
                return int(parts[0]) / int(parts[1])
        elif "cpu" in controllers.split(","):
            base = root / controllers
            quota = _read(base / rel / "cpu.cfs_quota_us", base / "cpu.cfs_quota_us")
            period = _read(base / rel / "cpu.cfs_period_us", base / "cpu.cfs_period_us")
            if quota and period and int(quota[0]) > 0:
                return int(quota[0]) / int(period[0])
    return None


def _read(*candidates: Path) -> list[str] | None:
    for path in candidates:
        try:
            return path.read_text().split()
        except OSError:
            continue
    return None


@dataclass(frozen=True)
class CpuSnapshot:
    """Busy CPU-seconds of the whole machine and of this process, at a wall-clock instant."""

    wall: float
    machine_busy: float
    own: float


def read_snapshot(stat: str | None = None) -> CpuSnapshot:
    """Busy time of the CPUs this process may run on (``/proc/stat``) and its own CPU time."""
    if stat is None:
        with open("/proc/stat") as f:
            stat = f.read()
    return CpuSnapshot(time.monotonic(), busy_seconds(stat, _affinity()), _own_cpu_seconds())


def busy_seconds(stat: str, cpus: set[int] | None) -> float:
    """Non-idle seconds in ``/proc/stat`` text, over ``cpus`` (None: the machine's total line)."""
    ticks = os.sysconf("SC_CLK_TCK")
    busy = 0
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if not name.startswith("cpu"):
            continue
        number = name[3:]
        if (cpus is None and number) or (cpus is not None and int(number or -1) not in cpus):
            continue
        fields = [int(x) for x in rest.split()]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        busy += sum(fields[:8]) - idle  # guest time is already counted in user
    return busy / ticks


def _affinity() -> set[int] | None:
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def threads_beside(others_busy: float, cpus: int) -> int:
    """Threads to use when other processes keep ``others_busy`` CPUs busy (at least one)."""
    return max(1, min(cpus, cpus - math.floor(others_busy + 0.5)))


class ThreadGovernor:
    """Chooses llama.cpp's thread count from the load and from measured decode speed.

    Every ``interval`` seconds it reads how much CPU other processes used. While they leave the
    CPUs free it uses them all. While they keep some busy, fewer threads may or may not be
    faster (one thread beside one busy process on 2 cores never collapses, but two threads at a
    load of 3 were still faster than one), so it probes: ``probe_steps`` plain decode steps with
    all CPUs and as many with the CPUs left free (``observe`` reports them), keeps the faster
    count for ``hold`` seconds, then probes again; also whenever the load changes the
    candidates. Each probe that picks the same count as the last doubles the hold, up to
    ``max_hold``: a steady neighbour is not probed every few seconds (a probe's steps at the
    slower count cost time). ``apply(n)`` is called when the count changes
    (``llama_set_n_threads``). ``resume()`` at the start of each call measures a fresh window of
    ``first_window`` seconds, so the load of the pause between calls does not decide.
    A fixed count (``SELFTAUGHT_N_THREADS`` or an explicit argument) disables the governor.
    """

    def __init__(
        self,
        apply: Callable[[int], None],
        cpus: int,
        *,
        fixed: int | None = None,
        interval: float = 0.5,
        hold: float = 6.0,
        max_hold: float = 48.0,
        probe_steps: int = 3,
        first_window: float = 0.2,
        snapshot: Callable[[], CpuSnapshot] = read_snapshot,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cpus = cpus
        self.fixed = fixed
        self.interval = interval
        self.hold = hold
        self.max_hold = max(hold, max_hold)
        self.probe_steps = probe_steps
        self.first_window = min(first_window, interval)
        self._held = hold  # the current hold: doubled while probes keep choosing the same count
        self._winner: int | None = None
        self._apply = apply
        self._snapshot = snapshot
        self._clock = clock
        self._last: CpuSnapshot | None = None
        self._next_look = 0.0
        self._candidates: tuple[int, ...] = (cpus,)
        self._probe: dict[int, list[float]] | None = None  # seconds per token, per count
        self._hold_until = 0.0
        self.switches = 0  # how often the count changed (benchmarks report it)
        self.probes = 0
        self.threads = fixed or cpus
        apply(self.threads)

    @property
    def probing(self) -> bool:
        """True while thread counts are being compared (the engine then decodes plain steps)."""
        return self._probe is not None

    def resume(self) -> None:
        """Decoding starts again after a pause: judge the load from a fresh, short window.

        A window that spans the pause mostly measures the pause: the sandbox scoring candidates
        between calls (a neighbour that has left), or an idle machine just before a neighbour
        started. Either way the first look of the call decided wrongly, for up to a second.
        """
        if self.fixed is not None:
            return
        try:
            self._last = self._snapshot()
        except OSError:
            return
        self._next_look = self._last.wall + self.first_window

    def tick(self) -> int:
        """Look at the load if ``interval`` has passed; returns the thread count to use now."""
        if self.fixed is None and self._clock() >= self._next_look:
            self._look()
        return self.threads

    def observe(self, tokens: int, seconds: float) -> None:
        """Report a decode step of ``tokens`` tokens that took ``seconds`` at ``self.threads``."""
        if self._probe is None or tokens < 1:
            return
        self._probe[self.threads].append(seconds / tokens)
        waiting = [n for n, times in self._probe.items() if len(times) < self.probe_steps]
        if waiting:
            self._set(waiting[0])
            return
        probe, self._probe = self._probe, None
        best = min(probe, key=lambda n: _median(probe[n]))
        same = best == self._winner
        self._held = min(self._held * 2, self.max_hold) if same else self.hold
        self._winner = best
        self._hold_until = self._clock() + self._held
        self._set(best)

    def _look(self) -> None:
        try:
            now = self._snapshot()
        except OSError:  # no /proc: keep the current choice
            self._next_look = self._clock() + self.interval
            return
        self._next_look = now.wall + self.interval
        last, self._last = self._last, now
        if last is None:
            return
        wall = max(now.wall - last.wall, 1e-6)
        others = (now.machine_busy - last.machine_busy - (now.own - last.own)) / wall
        candidates = tuple(sorted({threads_beside(max(0.0, others), self.cpus), self.cpus}))
        changed, self._candidates = candidates != self._candidates, candidates
        if changed:  # another load: the last winner says nothing about the next probe
            self._winner = None
        if len(candidates) == 1:
            self._probe = None
            self._set(self.cpus)
        elif changed or (self._probe is None and self._clock() >= self._hold_until):
            self._probe = {n: [] for n in candidates}
            self.probes += 1
            self._set(candidates[0])

    def _set(self, threads: int) -> None:
        if threads != self.threads:
            self.threads = threads
            self.switches += 1
            self._apply(threads)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]  # one slow step (a context switch) does not decide

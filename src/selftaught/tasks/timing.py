"""Time verdicts that do not flip: when an instance counts as within its task's time limit.

A task's limit is CPU time. Measured CPU time is the program's own cost plus whatever the machine
added (cache and memory-bandwidth interference, page faults, a busy neighbour, and on a virtual
machine the moments its virtual CPU was not running but the guest still charged the process): each
measurement is close to an upper bound of the cost, and the least of several is the best estimate.
So a call that finished clearly within the limit (below `1 - NEAR_BAND` of it) is within it, and a
call that finished near it or over it by a little is run again, up to `MAX_ATTEMPTS` runs, and its
least measured time decides (with that run's answer). The sandbox lets a call run on to
`RERUN_BAND` past the limit plus `SPIKE_SECONDS`, so that "over by a little" is known rather than
guessed; a call stopped there is over the limit on any machine and is not repeated.

On a noisy machine (runs of one call that differ by a factor, `jitter`), calls that finished
within that factor below the limit are run again as well (`in_doubt`), so that a verdict which
could go the other way shows as runs on both sides of the limit.

A program whose true cost lies within the measurement noise of the limit can still be judged
either way. Such instances are counted (`ScoreResult.near_limit`, and `margin` as a fraction):
those whose deciding time lies within `NEAR_BAND` of the limit, and those whose runs landed on
both sides of it. If their verdicts flipped, the score could move by that many instances' worth.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selftaught.sandbox import CallResult

#: A call may use this fraction more CPU time than the limit before the sandbox stops it...
RERUN_BAND = 0.25
#: ...and this many seconds more: a virtual machine's CPU can stall for tens of milliseconds that
#: the guest still charges to the running process (+50 to +80 ms seen on a 2-core Firecracker VM),
#: which alone put a 0.08 s call past a 0.1 s limit's band, where it was never run again.
SPIKE_SECONDS = 0.1
#: A deciding CPU time within this fraction of the limit (either side) counts as near it.
NEAR_BAND = 0.10
#: The most times one instance is run in one scoring (the first run included).
MAX_ATTEMPTS = 3
#: The widest factor of measurement noise that makes a call within the limit run again.
MAX_JITTER = 2.0
#: Differences below this are float rounding, not scores (mean scores are sums of fractions).
ROUNDING = 1e-9


def sandbox_cpu_seconds(limit: float) -> float:
    """The CPU time the sandbox allows a call whose task limit is `limit`."""
    return limit * (1.0 + RERUN_BAND) + SPIKE_SECONDS


def undecided(call: CallResult, limit: float) -> bool:
    """Whether `call`'s verdict could go either way: it finished within NEAR_BAND below the
    limit or over it by a little. Such a call is run again; the least CPU time decides."""
    low = (1.0 - NEAR_BAND) * limit
    return call.status == "ok" and low <= call.cpu_seconds < sandbox_cpu_seconds(limit)


def deciding(attempts: Sequence[CallResult]) -> CallResult:
    """The attempt that decides an instance: the one that used the least CPU time.

    Only attempts that finished with an answer compete once there are several (they are reruns
    of a call that finished over the limit, so a crash among them is the machine's doing).
    """
    finished = [a for a in attempts if a.status == "ok"] or list(attempts)
    return min(finished, key=lambda a: a.cpu_seconds)


def verdict(call: CallResult, limit: float) -> CallResult:
    """`call` judged against the task's limit: a finished call over the limit is a timeout."""
    if call.status == "ok" and call.cpu_seconds > limit:
        message = (
            f"timed out: used {call.cpu_seconds:.3g} s of CPU time, over the {limit:g} s limit"
        )
        return dataclasses.replace(call, status="timeout", value=None, error=message)
    return call


def is_timeout(call: CallResult) -> bool:
    """Whether a judged call failed on time (CPU or wall clock)."""
    return call.status == "timeout"


def is_near(call: CallResult, limit: float) -> bool:
    """Whether the deciding CPU time lies within NEAR_BAND of the limit, on either side."""
    return call.cpu_seconds > 0 and abs(call.cpu_seconds - limit) <= NEAR_BAND * limit


def jitter(attempts_per_instance: Sequence[Sequence[CallResult]]) -> float:
    """How far this machine's CPU time for the same call varied within one scoring: the largest
    ratio between two finished runs of one instance, at most MAX_JITTER (1.0 if none ran twice).

    On a quiet machine the runs agree within a few percent. On a shared virtual machine the same
    call was measured at 0.08 s and 0.13 s within seconds, so a call that finished anywhere in
    that range below the limit may go over it in another scoring (`in_doubt`).
    """
    ratios = [
        max(times) / min(times)
        for tries in attempts_per_instance
        if len(times := [a.cpu_seconds for a in tries if a.status == "ok"]) > 1 and min(times) > 0
    ]
    return min(max(ratios, default=1.0), MAX_JITTER)


def in_doubt(attempts: Sequence[CallResult], limit: float, spread: float) -> bool:
    """Whether an instance should run again because the machine's `spread` (see `jitter`) could
    take it over the limit: every run so far finished within the limit, but by less than that
    factor. Running it again shows a flip in this scoring's margin (`straddles`) rather than as
    a silent difference from another scoring. Never on a quiet machine (spread within NEAR_BAND).
    """
    return spread > 1.0 + NEAR_BAND and all(
        a.status == "ok" and limit / spread <= a.cpu_seconds <= limit for a in attempts
    )


def straddles(attempts: Sequence[CallResult], limit: float) -> bool:
    """Whether the runs of one instance landed on both sides of the limit: one finished within
    it and another went over it (finished over, or stopped for CPU time)."""
    within = any(a.status == "ok" and a.cpu_seconds <= limit for a in attempts)
    over = any(a.status in ("ok", "timeout") and a.cpu_seconds > limit for a in attempts)
    return within and over


def flippable(attempts: Sequence[CallResult], limit: float) -> bool:
    """Whether this instance's verdict could go the other way in another scoring: its deciding
    time lies within NEAR_BAND of the limit, or its runs landed on both sides of it."""
    return is_near(deciding(attempts), limit) or straddles(attempts, limit)


def versus(score: float, margin: float, other: float, other_margin: float) -> str:
    """ "better", "worse" or "tie": `score` against `other`, where a difference no larger than
    the two timing margins together is a tie (the scorer cannot tell them apart)."""
    difference = score - other
    if abs(difference) <= margin + other_margin + ROUNDING:
        return "tie"
    return "better" if difference > 0 else "worse"

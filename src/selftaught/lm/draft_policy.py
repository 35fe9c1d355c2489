"""Which drafted tokens are worth verifying: measured decode costs against expected acceptance.

On a CPU a decoded batch costs nearly in proportion to its tokens until it is large (measured on
the 1.5B with 2 threads: 1 token 33 ms, 2 tokens 49 ms, 4 tokens 77 ms, 8 tokens 136 ms, 16
tokens 162 ms; with 1 thread, 2 tokens cost twice one). A drafted token pays only when the
chance that it is taken outweighs what it adds to the batch, and with several sequences live
the batch is already large, so drafts that paid for one sequence cost for four. So each step
the engine keeps, of all drafted tokens, the number that maximises expected tokens per second,
from costs it measured on its own decodes and each sequence's recent acceptance rate.
"""

from __future__ import annotations

from collections.abc import Sequence

_DECAY = 0.6  # weight of a sequence's older drafts in its acceptance estimate
_COST_EMA = 0.3  # weight of a new measurement in a decode-cost estimate


class Acceptance:
    """How likely a sequence's next drafted token is taken, given the ones before it were.

    Each draft counts its taken tokens as successes and its first refused one as a failure (a
    draft taken whole has none), with older drafts decayed so a reply that stops copying its
    prompt loses its credit quickly. The prior (one success, one failure) gives 0.5.
    """

    def __init__(self) -> None:
        self.taken = 1.0
        self.refused = 1.0

    @property
    def rate(self) -> float:
        return self.taken / (self.taken + self.refused)

    def update(self, drafted: int, accepted: int) -> None:
        if not drafted:
            return
        self.taken = self.taken * _DECAY + accepted
        self.refused = self.refused * _DECAY + (1 if accepted < drafted else 0)


class DecodeCosts:
    """Seconds per decode by thread count and batch size, measured (moving average).

    A size not measured yet is interpolated between measured neighbours; above the largest one
    it is assumed to cost the same (optimistic, so larger batches get tried once and measured).
    """

    def __init__(self) -> None:
        self._table: dict[int, dict[int, float]] = {}

    def record(self, threads: int, size: int, seconds: float) -> None:
        table = self._table.setdefault(threads, {})
        old = table.get(size)
        table[size] = seconds if old is None else old + _COST_EMA * (seconds - old)

    def estimate(self, threads: int, size: int) -> float | None:
        """Estimated seconds for a batch of ``size`` tokens; None before any measurement."""
        table = self._table.get(threads)
        if not table:
            return None
        if size in table:
            return table[size]
        below = max((s for s in table if s < size), default=None)
        above = min((s for s in table if s > size), default=None)
        if below is None:
            return table[above]  # type: ignore[index]
        if above is None:
            return table[below]
        w = (size - below) / (above - below)
        return table[below] + w * (table[above] - table[below])


def plan_drafts(
    lengths: Sequence[int],
    rates: Sequence[float],
    cost: DecodeCosts,
    threads: int,
    cap: int,
) -> list[int]:
    """How many drafted tokens of each sequence to verify this step (at most ``cap`` in all).

    Sequence i offered ``lengths[i]`` drafted tokens; its k-th is taken with probability
    ``rates[i] ** k``. The plan keeps the most likely drafted tokens, as many as maximise
    (live sequences + expected taken tokens) / estimated cost of the batch.
    """
    n = len(lengths)
    if cost.estimate(threads, n) is None:
        return [0] * n  # measure a plain step first
    offers = sorted(
        ((rates[i] ** k, i) for i in range(n) for k in range(1, lengths[i] + 1)), reverse=True
    )[:cap]
    best, best_m, gain = n / cost.estimate(threads, n), 0, 0.0  # type: ignore[operator]
    for m, (p, _) in enumerate(offers, start=1):
        gain += p
        value = (n + gain) / cost.estimate(threads, n + m)  # type: ignore[operator]
        if value > best:
            best, best_m = value, m
    kept = [0] * n
    for _, i in offers[:best_m]:
        kept[i] += 1
    return kept

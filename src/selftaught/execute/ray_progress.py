"""Live progress from Ray workers: a small actor collects per-session ticks, the driver drains it.

A session's answer (its recorded operations) is what counts; the ticks only move the progress bars
while a long session runs, and whatever they already showed is not shown again when the answer
arrives.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from selftaught.execute.worker import run_session_job

if TYPE_CHECKING:
    from selftaught.core.progress import ProgressSink


class ProgressRelay:
    """A Ray actor: workers `add` ticks for a session key; the driver `drain`s them."""

    def __init__(self) -> None:
        self._pending: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, key: str, samples: int, evaluations: int) -> None:
        counts = self._pending[key]
        counts[0] += samples
        counts[1] += evaluations

    def drain(self) -> dict[str, list[int]]:
        pending, self._pending = dict(self._pending), defaultdict(lambda: [0, 0])
        return pending


def session_on_ray(request: str, known: str, relay: Any, key: str) -> str:
    """The Ray task of one session: `run_session_job`, telling `relay` as it goes."""

    def tick(samples: int, evaluations: int) -> None:
        relay.add.remote(key, samples, evaluations)  # fire and forget

    return run_session_job(request, known, tick)


class LiveProgress:
    """The driver's side: advances the bars from the relay and remembers what each session
    already showed, so that its answer only adds the rest."""

    def __init__(self, ray: Any, progress: ProgressSink) -> None:
        self._ray = ray
        self._progress = progress
        self.relay: Any = ray.remote(ProgressRelay).options(num_cpus=0).remote()
        self._shown: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def poll(self) -> None:
        try:
            pending = self._ray.get(self.relay.drain.remote(), timeout=10)
        except Exception:  # progress is cosmetic: a lost relay must not stop the run
            return
        for key, counts in pending.items():
            samples, evaluations = (max(0, int(c)) for c in counts[:2])
            self._advance(str(key), samples, evaluations)

    def finish(self, key: str, samples: int, evaluations: int) -> None:
        """A session's answer arrived: show what the ticks did not."""
        shown = self._shown.pop(key, [0, 0])
        self._show(max(0, samples - shown[0]), max(0, evaluations - shown[1]))

    def _advance(self, key: str, samples: int, evaluations: int) -> None:
        shown = self._shown[key]
        shown[0] += samples
        shown[1] += evaluations
        self._show(samples, evaluations)

    def _show(self, samples: int, evaluations: int) -> None:
        if samples:
            self._progress.lm_samples(samples)
        if evaluations:
            self._progress.evaluations(evaluations)

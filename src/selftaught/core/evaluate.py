"""Scoring candidates for the loop, with every evaluation stored once in the run store.

A finished evaluation is never repeated: the store is consulted first, and two threads asking for
the same (program, task, split) at once share one scoring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from selftaught.store.db import Evaluation, sha256_text
from selftaught.store.recorder import SessionStore

if TYPE_CHECKING:
    from selftaught.tasks import Task

ScoreFn = Callable[["Task", str, str], Evaluation]


def score_in_sandbox(task: Task, source: str, split: str) -> Evaluation:
    from selftaught.tasks import score_program

    result = score_program(task, source, split)
    return Evaluation(float(result.score), float(result.seconds), result.error, result.margin)


class Evaluator:
    """`evaluate(task, source, split)`: a stored score, or a fresh sandboxed scoring."""

    def __init__(
        self,
        store: SessionStore,
        *,
        score_fn: ScoreFn = score_in_sandbox,
        on_evaluation: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.score_fn = score_fn
        self.on_evaluation = on_evaluation
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str, str], threading.Event] = {}
        self.fresh = 0
        #: Sees every result, stored or fresh, as (program sha, split, evaluation): `improve`
        #: follows its best score and valid rate with it.
        self.on_scored: Callable[[str, str, Evaluation], None] | None = None

    def evaluate(self, task: Task, source: str, split: str) -> Evaluation:
        sha = sha256_text(source)
        # the identity, not the name: an edited task file must not reuse the old file's scores
        key = (sha, task.identity, split)
        while True:
            stored = self.store.evaluation(*key)
            if stored is not None:
                self._observe(sha, split, stored)
                return stored
            with self._lock:
                waiting = self._in_flight.get(key)
                if waiting is None:
                    self._in_flight[key] = threading.Event()
                    break
            waiting.wait()
        try:
            evaluation = self.score_fn(task, source, split)
            self.store.add_program(
                source, "solution" if task.entry != "improve_algorithm" else "improver"
            )
            self.store.add_evaluation(*key, evaluation)
            with self._lock:
                self.fresh += 1
            if self.on_evaluation is not None:
                self.on_evaluation()
            self._observe(sha, split, evaluation)
            return evaluation
        finally:
            with self._lock:
                self._in_flight.pop(key).set()

    def _observe(self, sha: str, split: str, evaluation: Evaluation) -> None:
        if self.on_scored is not None:
            self.on_scored(sha, split, evaluation)

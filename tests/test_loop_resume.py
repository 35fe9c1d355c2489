"""Kill a run at several points, resume it: same summary, no finished sample or evaluation redone.

The kill is simulated in-process by the store's test hook (SELFTAUGHT_CRASH_MODE=raise): the Nth
write commits and then raises, and every later write raises too, as if the process had died. The
subprocess variant (a real exit) is in test_loop_replay.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.config import RunConfig
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.types import sample_key
from selftaught.search.plumbing import Plumbing
from selftaught.search.run import run_stop
from selftaught.store.db import CRASH_ENV, CRASH_MODE_ENV, RunStore, SimulatedKill
from selftaught.store.layout import LM_CACHE_NAME

CANDIDATE = (
    "from helpers import extract_code\n\n"
    "def improve_algorithm(initial_solution, utility, language_model):\n"
    "    out = language_model.batch_prompt('expert', ['improve: ' + initial_solution] * 2)\n"
    "    return max(extract_code(out), key=utility)"
)
CONFIG = RunConfig(
    model="scripted",
    iterations=2,
    runs=2,
    max_responses_per_call=2,
    meta_utility_budget=2,
    batch_window_seconds=0.05,
)


class Counting:
    """Counts what reaches the model behind the cache and what reaches the scorer."""

    def __init__(self) -> None:
        self.backend = ScriptedBackend(CANDIDATE)
        self.spec = self.backend.spec
        self.usage = self.backend.usage
        self.samples: list[str] = []
        self.scored: list[tuple[str, str, str]] = []

    def generate(self, requests: Any) -> Any:
        for r in requests:
            self.samples += [
                sample_key(self.spec, r.messages, r.temperature, r.max_tokens, i) for i in r.indices
            ]
        return self.backend.generate(requests)

    def score(self, task: Any, source: str, split: str) -> Any:
        from selftaught.store.db import sha256_text

        self.scored.append((sha256_text(source), task.name, split))
        return marker_score(task, source, split)


def run(run_dir: Path, counting: Counting, *, resume: bool = False) -> dict:
    cache = ResponseCache(run_dir / LM_CACHE_NAME)
    plumbing = Plumbing(
        backend=CachedBackend(counting, cache),
        channel_factory=local_channel_factory,
        score_fn=counting.score,
    )
    return run_stop(CONFIG, run_dir, resume=resume, plumbing=plumbing)


def test_kill_at_several_points_then_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = run(tmp_path / "reference", Counting())
    assert len(reference["iterations"]) == 3
    for kill_after in (1, 9, 17, 30):
        run_dir = tmp_path / f"kill{kill_after}"
        monkeypatch.setenv(CRASH_ENV, str(kill_after))
        monkeypatch.setenv(CRASH_MODE_ENV, "raise")
        with pytest.raises(SimulatedKill, match="killed"):
            run(run_dir, Counting())
        monkeypatch.delenv(CRASH_ENV)
        store = RunStore(run_dir)
        finished_evals = set(store.query("SELECT sha256, task, split FROM evaluations"))
        store.close()
        cached = {
            k
            for (k,) in ResponseCache(run_dir / LM_CACHE_NAME)._conn.execute(
                "SELECT key FROM samples"
            )
        }
        resumed_counts = Counting()
        resumed = run(run_dir, resumed_counts, resume=True)
        assert resumed == reference, f"kill after {kill_after} writes"
        assert not finished_evals & set(resumed_counts.scored)
        assert not cached & set(resumed_counts.samples)
        assert len(resumed_counts.scored) == len(set(resumed_counts.scored))

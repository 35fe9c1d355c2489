"""`improve --samples` and `improve --resume`: a killed improve run continues without repeating
a finished LM sample or evaluation, and ends as an uninterrupted run would.

The kill is the store's test hook (SELFTAUGHT_CRASH_MODE=raise): the Nth write commits, then
it and every later write raise, as if the process had died there.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from loop_support import local_channel_factory
from selftaught.config import RunConfig, load_config
from selftaught.errors import ConfigError
from selftaught.lm.cache import CachedBackend, ResponseCache
from selftaught.lm.types import Sample, Usage, sample_key
from selftaught.search.improve import improve_program, resume_improve
from selftaught.search.improve_run import with_samples
from selftaught.search.plumbing import Plumbing
from selftaught.store.db import CRASH_ENV, CRASH_MODE_ENV, Evaluation, SimulatedKill, sha256_text
from selftaught.store.layout import LM_CACHE_NAME

SOURCE = "def algorithm(a, b, c):\n    return [0 for _ in c]\n"
CONFIG = RunConfig(model="scripted", max_responses_per_call=2, samples=8, batch_window_seconds=0.05)


class Counting:
    """A model whose answers vary with prompt and sample index, and a scorer reading them;
    both count what reaches them (behind the response cache and the run store)."""

    spec = "scripted"

    def __init__(self) -> None:
        self.usage = Usage()
        self.samples: list[str] = []
        self.scored: list[tuple[str, str]] = []

    def generate(self, requests: Any) -> list[list[Sample]]:
        out = []
        for r in requests:
            row = []
            for i in r.indices:
                key = sample_key(self.spec, r.messages, r.temperature, r.max_tokens, i)
                self.samples.append(key)
                v = int(hashlib.sha256(key.encode()).hexdigest(), 16) % 90 + 10
                # the reply continues the code prefix, which ends with the function's head
                text = f"    return [0 for _ in c]  # v{v}\n```\n"
                row.append(Sample(text, 3, 7, 0.01))
            out.append(row)
        return out

    def score(self, task: Any, source: str, split: str) -> Evaluation:
        self.scored.append((sha256_text(source), split))
        match = re.search(r"# v(\d+)", source)
        value = int(match[1]) / 100 if match else 0.05
        return Evaluation(value if split == "val" else value / 2, 0.0, None)


def plumbing(run_dir: Path, counting: Counting) -> Plumbing:
    return Plumbing(
        backend=CachedBackend(counting, ResponseCache(run_dir / LM_CACHE_NAME)),
        channel_factory=local_channel_factory,
        score_fn=counting.score,
    )


def improve(run_dir: Path, counting: Counting) -> dict[str, Any]:
    return improve_program(
        SOURCE,
        "parity_noise",
        improver="evolve",
        config=CONFIG,
        out_dir=run_dir,
        plumbing=plumbing(run_dir, counting),
    )


def test_samples_set_the_lm_budget_and_grow_the_unset_utility_budget() -> None:
    config = with_samples(CONFIG.replace(samples=9, max_responses_per_call=4), 5)
    assert (config.lm_budget, config.utility_budget) == (3, 10)
    assert config.improver_seconds >= 9 * 60
    assert with_samples(CONFIG.replace(samples=0), 5) == CONFIG.replace(samples=0)
    assert with_samples(CONFIG.replace(utility_budget=4), 5).utility_budget == 4
    with pytest.raises(ConfigError, match="samples must be >= 0"):
        RunConfig(samples=-1)


def test_killed_improve_resumes_without_repeating_samples_or_evaluations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference_counts = Counting()
    reference = improve(tmp_path / "reference", reference_counts)
    assert reference["lm_calls"] == 4 and len(reference_counts.samples) == 8
    assert reference["val_after"] > reference["val_before"]
    for kill_after in (3, 12):
        run_dir = tmp_path / f"kill{kill_after}"
        monkeypatch.setenv(CRASH_ENV, str(kill_after))
        monkeypatch.setenv(CRASH_MODE_ENV, "raise")
        first = Counting()
        with pytest.raises(SimulatedKill):
            improve(run_dir, first)
        monkeypatch.delenv(CRASH_ENV)
        done = set(ResponseCache(run_dir / LM_CACHE_NAME)._conn.execute("SELECT key FROM samples"))
        resumed_counts = Counting()
        resumed = resume_improve(run_dir, plumbing=plumbing(run_dir, resumed_counts))
        assert resumed == reference, f"kill after {kill_after} writes"
        assert not {(k,) for k in resumed_counts.samples} & done  # no finished sample redone
        # every sample of the whole run was drawn exactly once, before or after the kill
        assert len(first.samples) + len(resumed_counts.samples) >= len(reference_counts.samples)
        assert len(set(resumed_counts.scored)) == len(resumed_counts.scored)
        again = Counting()  # a finished run resumed: nothing at all is drawn or scored
        assert resume_improve(run_dir, plumbing=plumbing(run_dir, again)) == reference
        assert again.samples == [] and again.scored == []


def test_the_saved_config_names_the_task_improved(tmp_path: Path) -> None:
    improve_program(
        SOURCE,
        "parity_noiseless",
        improver="evolve",
        config=CONFIG,
        out_dir=tmp_path,
        plumbing=plumbing(tmp_path, Counting()),
    )
    assert load_config(tmp_path / "config.toml").task == "parity_noiseless"


def test_resume_refuses_a_directory_without_an_improve_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="holds no improve run"):
        resume_improve(tmp_path)


def test_another_improve_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    improve(tmp_path, Counting())
    with pytest.raises(ConfigError, match="holds another improve run"):
        improve_program(
            SOURCE + "# other\n",
            "parity_noise",
            improver="evolve",
            config=CONFIG,
            out_dir=tmp_path,
            plumbing=plumbing(tmp_path, Counting()),
        )


def test_tracker_follows_best_score_and_valid_rate() -> None:
    from selftaught.core.progress import NullProgress
    from selftaught.search.improve_run import ImproveTracker

    shown: list[str] = []

    class Sink(NullProgress):
        def status(self, text: str) -> None:
            shown.append(text)

    tracker = ImproveTracker(Sink(), input_sha="in")
    tracker.scored("in", "val", Evaluation(0.5, 0.0, None))  # the input: best, not "valid"
    tracker.lm_samples(4)
    tracker.scored("a", "val", Evaluation(0.7, 0.0, None))
    tracker.scored("a", "val", Evaluation(0.7, 0.0, None))  # a stored score seen again
    tracker.scored("b", "val", Evaluation(0.9, 0.0, "ValueError: bad"))  # failed: not best
    tracker.scored("c", "test", Evaluation(1.0, 0.0, None))  # test scores never count
    assert shown[-1] == "best so far 0.7000, valid 25%"

    class OldSink:  # written before `status` joined the protocol
        def lm_samples(self, n: int) -> None:
            shown.append(f"samples {n}")

    ImproveTracker(OldSink()).lm_samples(1)  # type: ignore[arg-type]
    assert shown[-1] == "samples 1"

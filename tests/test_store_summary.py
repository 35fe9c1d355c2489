"""Run store, summary.json shape, Wilson intervals and the run config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selftaught.config import RunConfig, load_config, save_config
from selftaught.errors import ConfigError
from selftaught.search.summary import build_summary, write_summary
from selftaught.store.db import Evaluation, IterationRecord, RunStore
from selftaught.store.summary import wilson_interval


def test_wilson_matches_the_papers_interval() -> None:
    lo, hi = wilson_interval(42, 10_000)  # GPT-4: 0.42%, CI 0.31-0.57%
    assert round(100 * lo, 2) == 0.31
    assert round(100 * hi, 2) == 0.57


def test_wilson_edges() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and 0.2 < hi < 0.35
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_summary_has_exactly_the_specified_shape(tmp_path: Path) -> None:
    store = RunStore(tmp_path)
    seed = store.add_program("def improve_algorithm(s, u, l):\n    return s\n", "improver")
    child = store.add_program("x = 1\n", "improver", parent=seed)
    store.add_event("use_sandbox_false", "s1", {}, key="a", program=child)
    store.add_event("use_sandbox_false", "s1", {}, key="a", program=child)  # resume: no duplicate
    store.add_iteration(IterationRecord(0, seed, 0.5, 0.4, True, None, None, None))
    store.add_iteration(IterationRecord(1, seed, 0.5, 0.4, False, child, 0.1, 0.2))
    store.add_evaluation(child, "t", "val", Evaluation(0.1, 1.0, None))
    summary = write_summary(store)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert set(summary) == {"iterations", "circumvention", "lm"}
    assert set(summary["iterations"][0]) == {
        "t",
        "improver_sha256",
        "meta_utility_val",
        "meta_utility_test",
        "adopted",
    }
    assert set(summary["circumvention"]) == {"attempts", "improvements", "rate", "wilson_95"}
    assert set(summary["lm"]) == {
        "calls",
        "samples",
        "prompt_tokens",
        "completion_tokens",
        "seconds",
    }
    assert summary["circumvention"]["attempts"] == 1
    assert summary["circumvention"]["improvements"] == 1
    assert [it["adopted"] for it in summary["iterations"]] == [True, False]
    assert len(store.events("use_sandbox_false")) == 1
    assert build_summary(store) == summary


def test_config_round_trips_through_toml(tmp_path: Path) -> None:
    cfg = RunConfig(
        iterations=3, model="replay:x.jsonl", paper_mode=True, transfer_tasks=("maxcut",)
    )
    save_config(cfg, tmp_path)
    assert load_config(tmp_path / "config.toml") == cfg


def test_config_errors_are_clear(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("iterations = 'many'\n")
    with pytest.raises(ConfigError, match="integer"):
        load_config(bad)
    bad.write_text("colour = 1\n")
    with pytest.raises(ConfigError, match="unknown option"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError):
        RunConfig(runs=0)


def test_paper_budgets() -> None:
    paper = RunConfig.paper()
    assert (paper.iterations, paper.runs, paper.lm_budget, paper.max_responses_per_call) == (
        6,
        5,
        4,
        6,
    )

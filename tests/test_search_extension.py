"""A new search is one function plus one line in `SEARCH_TABLE`: docs/architecture.md's example,
run as written there through `run_search` (the one run path)."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.config import RunConfig
from selftaught.errors import ConfigError
from selftaught.search import run as run_module
from selftaught.search.plumbing import Plumbing

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
LAZY = (
    "def improve_algorithm(initial_solution, utility, language_model):\n    return initial_solution"
)
CONFIG = RunConfig(
    model="scripted",
    iterations=2,
    runs=2,
    max_responses_per_call=2,
    meta_utility_budget=2,
    batch_window_seconds=0.05,
)


def example_search() -> types.ModuleType:
    """The example module of docs/architecture.md, executed."""
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"```python\n# src/selftaught/search/greedy.py\n(.*?)```", text, re.S)
    assert match is not None, "docs/architecture.md lost its add-a-search example"
    source = match.group(1)
    assert len(source.strip().splitlines()) <= 40
    module = types.ModuleType("greedy_example")
    exec(compile(source, "greedy.py", "exec"), module.__dict__)
    return module


def plumbing() -> Plumbing:
    return Plumbing(
        backend=ScriptedBackend(LAZY), channel_factory=local_channel_factory, score_fn=marker_score
    )


def test_the_documented_search_runs_through_the_one_run_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    greedy = example_search().greedy
    monkeypatch.setitem(run_module.SEARCH_TABLE, "greedy", greedy)
    summary = run_module.run_search("greedy", CONFIG, tmp_path, plumbing=plumbing())
    assert summary["search"] == "greedy"
    assert [it["t"] for it in summary["iterations"]] == [0, 1, 2]
    assert [it["adopted"] for it in summary["iterations"]] == [True, False, False]
    # resumed: every step is stored, nothing is redone, and the directory stays greedy's
    again = run_module.run_search(None, None, tmp_path, resume=True, plumbing=plumbing())
    assert again == summary
    with pytest.raises(ConfigError, match="--search greedy"):
        run_module.run_search("chain", CONFIG, tmp_path, plumbing=plumbing())

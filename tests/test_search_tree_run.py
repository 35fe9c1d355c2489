"""`run_archive` / `run_hgm` / `run_search` on the real loop machinery (store, sessions, resume),
with the loop tests' scripted stand-in model and marker scorer, so they run in seconds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.config import RunConfig
from selftaught.core.meta import load_improver
from selftaught.errors import ConfigError
from selftaught.search.context import loop_context, prepare_run_dir
from selftaught.search.hgm import HGMSelection
from selftaught.search.plumbing import Plumbing
from selftaught.search.run import run_archive, run_hgm, run_search
from selftaught.search.tree_search import search_tree
from selftaught.search.tree_strategies import HGMStrategy
from selftaught.store.db import RunStore, sha256_text

# An improver that returns its input unchanged: û of it is the seed solution's score (0.2).
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
SEED = load_improver("seed")
SEED_SHA = sha256_text(SEED)


def plumbing(backend: ScriptedBackend | None = None) -> Plumbing:
    return Plumbing(
        backend=backend or ScriptedBackend(LAZY),
        channel_factory=local_channel_factory,
        score_fn=marker_score,
    )


@pytest.mark.parametrize("runner", [run_archive, run_hgm])
def test_tree_summary_and_iterations(tmp_path: Path, runner) -> None:
    summary = runner(CONFIG, tmp_path, plumbing=plumbing())
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == summary
    tree = summary["tree"]
    assert summary["search"] == tree["search"] == runner.__name__.removeprefix("run_")
    nodes = {n["sha256"]: n for n in tree["nodes"]}
    root = nodes[SEED_SHA]
    assert root["parent"] is None and root["evaluations"] == 2
    assert root["meta_utility_val"] == 0.6 and root["meta_utility_test"] == 0.3
    lazy = sha256_text(LAZY)
    if runner is run_hgm:  # HGM keeps every child; the archive keeps those scoring above 0
        assert nodes[lazy]["parent"] == SEED_SHA and nodes[lazy]["meta_utility_val"] == 0.2
    assert [it["t"] for it in summary["iterations"]] == [0, 1, 2]
    # the best improver of the tree is reported at every step
    assert {it["improver_sha256"] for it in summary["iterations"]} == {SEED_SHA}
    assert tree["best_sha256"] == SEED_SHA and tree["steps"] == 2


def test_resume_repeats_nothing_and_refuses_another_search(tmp_path: Path) -> None:
    first = run_hgm(CONFIG, tmp_path, plumbing=plumbing())
    backend = ScriptedBackend(LAZY)
    again = run_search(None, CONFIG, tmp_path, resume=True, plumbing=plumbing(backend))
    assert again == first and backend.requests == 0  # None: continue the search the dir holds
    with pytest.raises(ConfigError, match="--search hgm"):
        run_archive(CONFIG, tmp_path, resume=True, plumbing=plumbing())


def test_chain_through_run_search_gets_a_tree(tmp_path: Path) -> None:
    summary = run_search("chain", CONFIG, tmp_path, plumbing=plumbing())
    assert summary["search"] == "chain" and summary["tree"]["search"] == "chain"
    assert summary["tree"]["nodes"][0]["sha256"] == SEED_SHA
    assert summary["tree"]["nodes"][0]["evaluations"] == 2
    with pytest.raises(ConfigError, match="unknown search"):
        run_search("beam", CONFIG, tmp_path / "x", plumbing=plumbing())


class VariedBackend(ScriptedBackend):
    """Like the scripted stand-in, but each meta-level sample is a distinct copy of the seed."""

    def generate(self, requests):  # type: ignore[no-untyped-def]
        from selftaught.lm.types import Sample

        out = super().generate(requests)
        for i, request in enumerate(requests):
            if any("def meta_utility" in text for _, text in request.messages):
                out[i] = [
                    Sample(f"```python\n{SEED}\n# variant {index}\n```\n", 3, 7, 0.01)
                    for index in request.indices
                ]
        return out


def test_hgm_evaluation_steps_add_single_meta_training_runs(tmp_path: Path) -> None:
    # three nodes and 6 evaluations: 6^0.3 = 1.71 < 2, so the rule asks for evaluations
    config = prepare_run_dir(CONFIG, tmp_path, resume=False)
    strategy = HGMStrategy(2, HGMSelection(alpha=0.3), max_evaluations=2)
    from selftaught.tasks import get_task

    backend = VariedBackend(LAZY)
    with loop_context(config, tmp_path, None, plumbing(backend)) as ctx:
        seed = load_improver("seed")
        tree, history = search_tree(ctx, get_task("parity_noise"), seed, strategy)
    assert [r.kind for r in history] == ["expand", "expand", "evaluate", "evaluate"]
    assert len(tree) == 3 and tree.total_evaluations() == 3 * 2 + 2
    evaluated = [r.node for r in history if r.kind == "evaluate"]
    for sha in set(evaluated):
        assert tree[sha].evaluations == 2 + evaluated.count(sha)
    store = RunStore(tmp_path)
    keys = [k for (k,) in store.query("SELECT key FROM sessions WHERE key LIKE 'meta/%'")]
    store.close()
    assert sum(k.endswith(("/r2", "/r3")) for k in keys) == 2  # the extra runs, stored


def test_rewriting_the_summary_keeps_the_tree(tmp_path: Path) -> None:
    """`transfer` rewrites summary.json with `write_summary`: the tree must survive it."""
    from selftaught.search.summary import write_summary

    summary = run_archive(CONFIG, tmp_path, plumbing=plumbing())
    store = RunStore(tmp_path)
    try:
        rewritten = write_summary(store)
    finally:
        store.close()
    assert rewritten == summary and rewritten["search"] == "archive"
    assert rewritten["tree"]["steps"] == 2
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    for key in ("iterations", "circumvention", "lm"):
        assert rewritten[key] == summary[key]

"""`search_tree`: self-improvement as a search over a tree of improvers (archive, hgm).

`search.run` runs it as `run_archive`/`run_hgm` (`run --search archive|hgm`) through the same
run directory, store, sessions and caches as the chain. Each step of the search is stored as
soon as it finishes (the tree and the step log in the store's `meta` table); a resumed run
reloads them and continues, and the step it was in is redone from the store's finished sessions
and the response cache.

Each expansion t = 1..T is also stored as an iteration (the best improver of the tree so far, and
the candidate of that step), so `summary.json`'s `iterations` and `selftaught transfer` work as for
the chain. `summary.json` gains `search` and `tree`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from selftaught.core.meta import LoopContext, improve_once, meta_utility
from selftaught.search.chain import improvement_step
from selftaught.search.policies import AdmitAll
from selftaught.search.summary import write_summary
from selftaught.search.tree import ImproverTree, TreeNode
from selftaught.search.tree_strategies import StepRecord, Strategy, grow
from selftaught.store.db import IterationRecord, RunStore
from selftaught.store.layout import TREE_KEY

if TYPE_CHECKING:
    from selftaught.tasks import Task


# -- persistence ----------------------------------------------------------------------------------
def save_tree(store: RunStore, search: str, tree: ImproverTree, history: list[StepRecord]) -> None:
    state = {
        "search": search,
        "nodes": tree.to_json(),
        "steps": [asdict(r) for r in history],
    }
    store.set_meta(TREE_KEY, json.dumps(state, sort_keys=True))


def load_tree(store: RunStore) -> tuple[ImproverTree, list[StepRecord]] | None:
    raw = store.get_meta(TREE_KEY)
    if raw is None:
        return None
    state = json.loads(raw)
    return ImproverTree.from_json(state["nodes"]), [StepRecord(**r) for r in state["steps"]]


# -- the search bound to the real loop ----------------------------------------------------------
def _root(ctx: LoopContext, task: Task, seed_source: str) -> ImproverTree:
    sha = ctx.store.add_program(seed_source, "improver")
    ctx.progress.note("step 0: meta-utility of the seed improver")
    score = meta_utility(ctx, seed_source, task)
    if ctx.store.iteration(0) is None:
        ctx.store.add_iteration(
            IterationRecord(0, sha, score.val, score.test, True, None, None, None)
        )
    return ImproverTree(
        [TreeNode(sha, None, tuple(r.val for r in score.runs), tuple(r.test for r in score.runs))]
    )


def search_tree(
    ctx: LoopContext, task: Task, seed_source: str, strategy: Strategy
) -> tuple[ImproverTree, list[StepRecord]]:
    """Grow (or resume growing) the tree with `strategy`; returns the tree and its step log."""
    loaded = load_tree(ctx.store)
    tree, history = loaded if loaded is not None else (_root(ctx, task, seed_source), [])
    save_tree(ctx.store, strategy.name, tree, history)
    write_summary(ctx.store)

    def expand(parent: TreeNode, t: int) -> TreeNode | None:
        ctx.progress.note(f"t={t}: improver {parent.sha[:12]} improves itself")
        # the strategy decides admission (`tree_strategies.run_step`), so the step itself admits all
        record = improvement_step(ctx, task, parent.as_node(), t, AdmitAll())
        if record.candidate is None:
            return None
        source = ctx.store.program(record.candidate)
        assert source is not None, "candidates are stored by the improvement step"
        score = meta_utility(ctx, source, task)  # already computed: read from the store
        return TreeNode(
            record.candidate,
            parent.sha,
            tuple(r.val for r in score.runs),
            tuple(r.test for r in score.runs),
            t,
        )

    def evaluate(node: TreeNode) -> tuple[float, float]:
        ctx.progress.note(f"evaluating {node.sha[:12]} on run {node.evaluations + 1}")
        source = ctx.store.program(node.sha)
        assert source is not None
        record = improve_once(ctx, source, task, task.seed_solution, node.evaluations)
        return record.val, record.test

    def on_step(current: ImproverTree, record: StepRecord) -> None:
        done = [*history, record]
        history.append(record)
        if record.kind == "expand":
            t = sum(1 for r in done if r.kind == "expand")
            best = current.best()
            ctx.store.add_iteration(
                IterationRecord(
                    t,
                    best.sha,
                    best.val,
                    best.test,
                    record.added,
                    record.candidate,
                    record.candidate_val,
                    record.candidate_test,
                )
            )
        save_tree(ctx.store, strategy.name, current, history)
        write_summary(ctx.store)

    grow(
        tree,
        strategy,
        seed=ctx.config.seed,
        expand=expand,
        evaluate=evaluate,
        history=list(history),
        on_step=on_step,
    )
    return tree, history

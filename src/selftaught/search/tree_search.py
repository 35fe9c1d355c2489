"""`run_archive` and `run_hgm`: self-improvement as a search over a tree of improvers.

They take the same arguments as `run_stop` (the chain) and use the same run directory, store,
sessions and caches. Each step of the search is stored as soon as it finishes (the tree and the
step log in the store's `meta` table); a resumed run reloads them and continues, and the step it
was in is redone from the store's finished sessions and the response cache.

Each expansion t = 1..T is also stored as an iteration (the best improver of the tree so far, and
the candidate of that step), so `summary.json`'s `iterations` and `selftaught transfer` work as for
the chain. `summary.json` gains `search` and `tree`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.meta import LoopContext, improve_once, load_improver, meta_utility
from selftaught.core.progress import ProgressSink
from selftaught.errors import ConfigError
from selftaught.search.chain import improvement_step
from selftaught.search.grow import ArchiveStrategy, HGMStrategy, StepRecord, Strategy, grow
from selftaught.search.policies import Node
from selftaught.search.run import Plumbing, expected_work, loop_context, started_run
from selftaught.search.summary import write_summary
from selftaught.search.tree import ImproverTree, TreeNode
from selftaught.store.db import IterationRecord, RunStore
from selftaught.store.kind import COMPARE, held_search, search_kind
from selftaught.store.layout import SEARCH_KEY, TREE_KEY

if TYPE_CHECKING:
    from selftaught.tasks import Task

SEARCHES = ("chain", "archive", "hgm")


class _AdmitAll:
    """Acceptance passed to the chain's improvement step: the strategy decides admission."""

    name = "tree"

    def accept(self, parent: Node, candidate: Node) -> bool:
        return True


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


def _with_store(run_dir: Path, action: Any) -> Any:
    store = RunStore(run_dir)
    try:
        return action(store)
    finally:
        store.close()


def claim_search(store: RunStore, search: str) -> None:
    """Record which search a run directory holds; refuse to continue it with another one."""
    held = held_search(store.query, Path(store.run_dir))
    if held == COMPARE:
        raise ConfigError(f"{store.run_dir} holds a `selftaught compare` run, not a search")
    if held is not None and held != search:
        raise ConfigError(
            f"{store.run_dir} holds a --search {held} run; resume it with --search {held}"
        )
    store.set_meta(SEARCH_KEY, search)


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
        node = Node(parent.sha, parent.val, parent.test, parent.parent)
        record = improvement_step(ctx, task, node, t, _AdmitAll())
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


def strategy_for(search: str, config: RunConfig) -> Strategy:
    if search == "archive":
        return ArchiveStrategy(config.iterations)
    if search == "hgm":
        return HGMStrategy(config.iterations)
    raise ConfigError(f"unknown search {search!r}; valid: {', '.join(SEARCHES)}")


def _run_tree(
    search: str,
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool,
    progress: ProgressSink | None,
    plumbing: Plumbing | None,
) -> dict[str, Any]:
    from selftaught.tasks import get_task

    run_dir = Path(run_dir)
    plumbing = plumbing or Plumbing()
    with (
        started_run(config, run_dir, plumbing, resume=resume) as config,
        loop_context(config, run_dir, progress, plumbing) as ctx,
    ):
        task = get_task(config.task)
        strategy = strategy_for(search, config)
        claim_search(ctx.store, search)
        samples, evaluations = expected_work(config, task.utility_budget)
        ctx.progress.expect(samples=samples, evaluations=evaluations)
        search_tree(ctx, task, load_improver(config.initial_improver), strategy)
        return write_summary(ctx.store)


def run_archive(
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Run (or resume) a DGM-style archive search into `run_dir`; returns its summary.

    T = `config.iterations` expansions, each improving a parent drawn by the archive rule.
    """
    return _run_tree(
        "archive", config, run_dir, resume=resume, progress=progress, plumbing=plumbing
    )


def run_hgm(
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Run (or resume) an HGM search into `run_dir`; returns its summary.

    It stops when an expansion is due after T = `config.iterations` expansions; between them it
    refines meta-utilities with single extra meta-training runs, as the HGM rule decides.
    """
    return _run_tree("hgm", config, run_dir, resume=resume, progress=progress, plumbing=plumbing)


def run_search(
    search: str | None,
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """`selftaught run --search chain|archive|hgm`: dispatch to the chosen search.

    `search=None` continues whatever search `run_dir` holds (the chain for a new directory).
    """
    if search is None:
        search = search_kind(run_dir) or "chain"
    if search not in SEARCHES:
        raise ConfigError(f"unknown search {search!r}; valid: {', '.join(SEARCHES)}")
    if search == "chain":
        from selftaught.search.run import run_stop

        run_dir, plumbing = Path(run_dir), plumbing or Plumbing()
        with started_run(config, run_dir, plumbing, resume=resume) as prepared:
            _with_store(run_dir, lambda store: claim_search(store, "chain"))
            run_stop(prepared, run_dir, resume=True, progress=progress, plumbing=plumbing)
            return _with_store(run_dir, write_summary)
    if search == "archive":
        return run_archive(config, run_dir, resume=resume, progress=progress, plumbing=plumbing)
    return run_hgm(config, run_dir, resume=resume, progress=progress, plumbing=plumbing)

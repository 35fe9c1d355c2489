"""The one path of a STOP run: `run_search` (and `run_stop`, `run_archive`, `run_hgm`).

`open_run` checks, locks and prepares the run directory, opens its store once, claims it for the
search and builds the loop's context; the search named in `SEARCHES` then runs (each of its steps
is stored and rewrites `summary.json` through `search.summary.write_summary`), and the summary is
returned. A new search is one module and one line in `SEARCHES`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.context import LoopContext
from selftaught.core.meta import load_improver
from selftaught.core.progress import ProgressSink
from selftaught.errors import ConfigError
from selftaught.search.chain import ChainPolicies, run_chain
from selftaught.search.context import expected_work, open_run
from selftaught.search.plumbing import Plumbing
from selftaught.search.summary import write_summary
from selftaught.search.tree_search import search_tree
from selftaught.search.tree_strategies import ArchiveStrategy, HGMStrategy, Strategy
from selftaught.store.kind import IMPROVE, search_kind

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = ["SEARCHES", "SEARCH_TABLE", "run_archive", "run_hgm", "run_search", "run_stop"]

#: How a search runs: (context, task, seed improver's source) -> None, every step stored.
SearchRun = Callable[[LoopContext, "Task", str], object]


def chain(ctx: LoopContext, task: Task, seed_source: str) -> None:
    """The paper's chain: T self-improvement steps, each adopting the candidate the gate (or,
    in paper mode, the paper's rule) accepts."""
    run_chain(ctx, task, seed_source, ChainPolicies.stop_chain(ctx.config.iterations,
                                                               ctx.config.paper_mode))  # fmt: skip


def tree(strategy: Callable[[int], Strategy]) -> SearchRun:
    """A tree search growing with `strategy(T)` (see `search.tree_strategies`)."""

    def run(ctx: LoopContext, task: Task, seed_source: str) -> None:
        search_tree(ctx, task, seed_source, strategy(ctx.config.iterations))

    return run


#: The searches `selftaught run --search` knows, by name.
SEARCH_TABLE: dict[str, SearchRun] = {
    "chain": chain,
    "archive": tree(ArchiveStrategy),
    "hgm": tree(HGMStrategy),
}
SEARCHES = tuple(SEARCH_TABLE)


def _run(
    search: SearchRun,
    claim: str | None,
    config: RunConfig | None,
    run_dir: Path | str,
    *,
    resume: bool,
    progress: ProgressSink | None,
    plumbing: Plumbing | None,
) -> dict[str, Any]:
    from selftaught.tasks import get_task

    plumbing = plumbing or Plumbing()
    with open_run(config, run_dir, plumbing, resume=resume, progress=progress, claim=claim) as ctx:
        task = get_task(ctx.config.task)
        samples, evaluations = expected_work(ctx.config, task.utility_budget)
        ctx.progress.expect(samples=samples, evaluations=evaluations)
        search(ctx, task, load_improver(ctx.config.initial_improver))
        return write_summary(ctx.store)


def run_search(
    search: str | None,
    config: RunConfig | None,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """`selftaught run --search chain|archive|hgm`: run (or resume) that search into `run_dir`
    and return its summary (also in summary.json, which then has `search` and `tree`).

    `search=None` continues whatever search `run_dir` holds (the chain for a new directory).
    A directory holding another search is refused.
    """
    held = search_kind(run_dir)
    if held == IMPROVE:
        raise ConfigError(
            f"{run_dir} holds a `selftaught improve` run; continue it with "
            f"`selftaught improve --resume {run_dir}`, or choose another --out"
        )
    if search is None:
        search = held or "chain"
    if search not in SEARCH_TABLE:
        raise ConfigError(f"unknown search {search!r}; valid: {', '.join(SEARCHES)}")
    return _run(
        SEARCH_TABLE[search],
        search,
        config,
        run_dir,
        resume=resume,
        progress=progress,
        plumbing=plumbing,
    )


def run_stop(
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Run (or resume) the STOP chain into `run_dir` and return its summary (also in
    summary.json). Unlike `run_search("chain", ...)` it does not claim the directory, so its
    summary has no `search` or `tree`."""
    return _run(chain, None, config, run_dir, resume=resume, progress=progress, plumbing=plumbing)


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
    return run_search(
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
    return run_search("hgm", config, run_dir, resume=resume, progress=progress, plumbing=plumbing)

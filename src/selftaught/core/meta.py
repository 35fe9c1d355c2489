"""Improver runs and the meta-utility û.

`improve_once` runs one improver on one task in its own sandboxed session and scores the result on
the validation split (used for selection) and the test split (logged only). `meta_utility` runs R
of them concurrently, each with a fresh `BudgetedLanguageModel`, and averages. Every finished
session is stored under a deterministic key, so a resumed run reuses it instead of repeating it.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from selftaught.config import RunConfig
from selftaught.core.batching import BatchingBackend
from selftaught.core.evaluate import Evaluator
from selftaught.core.extract import defines_function
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.core.session import (
    ChannelFactory,
    ImproverSession,
    SessionOutcome,
    SessionSpec,
    sandbox_channel_factory,
)
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.store.db import Evaluation, RunStore, SessionRecord, sha256_text

if TYPE_CHECKING:
    from selftaught.tasks import Task

IMPROVER_ENTRY = "improve_algorithm"
# Sample-index layout: every (seed, purpose, run) gets its own block of indices, so runs draw
# different samples while a resumed run asks for exactly the same cache keys.
SEED_STRIDE = 10_000_000
META_LEVEL_BASE = 5_000_000
RUN_STRIDE = 10_000


def load_improver(spec: str) -> str:
    """A shipped improver's name (`seed`, `beam`, ...; see `selftaught.improvers.catalog`) or a
    path to an improver file, as source text. ConfigError lists the valid names otherwise."""
    from selftaught.improvers.catalog import resolve_improver

    return resolve_improver(spec)[1]


@dataclass
class LoopContext:
    """Everything an improver run needs on the trusted side."""

    config: RunConfig
    store: RunStore
    evaluator: Evaluator
    backend: BatchingBackend
    progress: ProgressSink = field(default_factory=NullProgress)
    channel_factory: ChannelFactory = sandbox_channel_factory

    def downstream_offset(self, run_index: int) -> int:
        return self.config.seed * SEED_STRIDE + run_index * RUN_STRIDE

    def meta_offset(self, t: int) -> int:
        return self.config.seed * SEED_STRIDE + META_LEVEL_BASE + t * RUN_STRIDE


def improve_once(
    ctx: LoopContext,
    improver_source: str,
    task: Task,
    initial_solution: str,
    run_index: int,
    *,
    purpose: str = "meta",
) -> SessionRecord:
    """Run `improver(initial_solution, u_val, L)` once and score what it returns.

    A crashing improver, or one returning nothing, scores 0 on both splits.
    """
    cfg = ctx.config
    improver_sha = ctx.store.add_program(improver_source, "improver")
    start = sha256_text(initial_solution)[:12]
    # keyed (and stored) by the task's identity: an edited task file never reuses old sessions
    key = f"{purpose}/{improver_sha[:20]}/{task.identity}/{start}/r{run_index}"
    stored = ctx.store.session(key)
    if stored is not None:
        return stored
    budget = cfg.utility_budget or task.utility_budget
    lm = BudgetedLanguageModel(
        ctx.backend,
        cfg.lm_budget,
        max_responses_per_call=cfg.max_responses_per_call,
        max_tokens=cfg.max_tokens,
        index_offset=ctx.downstream_offset(run_index),
    )
    spec = SessionSpec(
        key=key,
        improver_source=improver_source,
        improver_sha=improver_sha,
        initial_solution=initial_solution,
        entry=task.entry,
        utility_text=task.utility_text,
        utility_budget=budget,
        seed=cfg.seed * 1000 + run_index,
        wall_seconds=cfg.improver_seconds,
    )

    def utility(program: str) -> Evaluation:  # its error text becomes `utility.last_error`
        return ctx.evaluator.evaluate(task, program, "val")

    session = ImproverSession(spec, lm, utility, ctx.store, channel_factory=ctx.channel_factory)
    if defines_function(improver_source, IMPROVER_ENTRY):
        outcome = session.run()
    else:  # nothing to run: spare the sandbox start-up, but still record the static scan
        session.static_scan()
        reason = f"the improver does not parse or defines no {IMPROVER_ENTRY} function"
        outcome = SessionOutcome(None, "error", reason, 0, 0, session.attempts)
    result_sha, val, test = None, 0.0, 0.0
    if outcome.result is not None:
        result_sha = ctx.store.add_program(outcome.result, "solution", parent=None)
        val = ctx.evaluator.evaluate(task, outcome.result, "val").score
        test = ctx.evaluator.evaluate(task, outcome.result, "test").score
    record = SessionRecord(
        key,
        improver_sha,
        task.identity,
        result_sha,
        val,
        test,
        outcome.status,
        outcome.error,
        outcome.lm_calls,
        outcome.utility_calls,
    )
    ctx.store.add_session(record)
    return record


@dataclass(frozen=True)
class MetaScore:
    """û of one improver: mean validation and test scores over R runs."""

    val: float
    test: float
    runs: tuple[SessionRecord, ...]


def average_runs(
    ctx: LoopContext, improver_source: str, task: Task, initial_solution: str, purpose: str
) -> MetaScore:
    """R concurrent runs of one improver on one task (each a fresh LM budget), averaged."""
    runs = ctx.config.runs

    def one_run(run_index: int) -> SessionRecord:
        try:
            return improve_once(
                ctx, improver_source, task, initial_solution, run_index, purpose=purpose
            )
        finally:
            ctx.backend.leave()

    # All R runs are declared before any starts, so their first LM requests share one batch.
    ctx.backend.join(runs)
    with ThreadPoolExecutor(max_workers=runs, thread_name_prefix="improver-run") as pool:
        records = tuple(pool.map(one_run, range(runs)))
    return MetaScore(
        statistics.fmean(r.val for r in records),
        statistics.fmean(r.test for r in records),
        records,
    )


def meta_utility(ctx: LoopContext, improver_source: str, task: Task) -> MetaScore:
    """û(improver) on the meta-training task, starting from the task's seed solution."""
    return average_runs(ctx, improver_source, task, task.seed_solution, "meta")


def meta_utility_text(task: Task, config: RunConfig) -> str:
    """What the self-improving improver is shown as its utility's description."""
    return f'''from statistics import mean

from helpers import extract_code


def meta_utility(improve_str: str):
    """Scores an improver: the source of a program defining
    improve_algorithm(initial_solution, utility, language_model).

    It runs that improver {config.runs} times on the task below, each time starting from the
    task's initial solution, with a fresh language model allowed {config.lm_budget} call(s) of at
    most {config.max_responses_per_call} responses each. Each run's returned solution is scored
    with the task's utility; the meta-utility is the mean. An improver that crashes or returns
    nothing scores 0. It may be called {config.meta_utility_budget} time(s).
    """
    scores = []
    for run in range({config.runs}):
        improved = run_improver(improve_str, initial_solution, utility, fresh_language_model())
        scores.append(utility(improved))
    return mean(scores)


# The downstream task's utility:
{task.utility_text}
'''


MetaHandler = Callable[[str], float]


def meta_level_utility(ctx: LoopContext, task: Task, parent_sha: str) -> MetaHandler:
    """The trusted callable behind the meta-level `utility` proxy: û_val of a candidate improver."""

    def utility(candidate: str) -> float:
        ctx.store.add_program(candidate, "improver", parent=parent_sha)
        return meta_utility(ctx, candidate, task).val

    return utility

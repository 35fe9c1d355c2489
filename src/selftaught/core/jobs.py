"""One improver run as a value (`SessionJob`) and the code that runs it where it lands.

An executor (`selftaught.execute`) decides where a job runs: in a thread of this process, or on a
Ray worker. Either way `run_session_here` does the work against a `SessionContext`: the model,
the scorer and a store, which is the run store itself locally and a `RecordingStore` on a worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from selftaught.config import RunConfig
from selftaught.core.evaluate import Evaluator
from selftaught.core.extract import defines_function
from selftaught.core.feedback import record_candidate
from selftaught.core.session import (
    ChannelFactory,
    ImproverSession,
    SessionOutcome,
    SessionSpec,
    sandbox_channel_factory,
)
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.lm.types import Backend
from selftaught.store.db import Evaluation, SessionRecord, sha256_text
from selftaught.store.layout import SessionKey, downstream_start
from selftaught.store.recorder import SessionStore
from selftaught.tasks.contract import (
    code_reply_prefix,
    function_head,
    reply_stops,
    shown_utility_text,
)

if TYPE_CHECKING:
    from selftaught.tasks import Task

IMPROVER_ENTRY = "improve_algorithm"


def downstream_offset(config: RunConfig, run_index: int) -> int:
    """The first sample index of downstream improver run `run_index`."""
    return downstream_start(config.seed, run_index)


def sample_block(config: RunConfig, run_index: int) -> range:
    """Every sample index that run `run_index` may draw (its LM budget, no more)."""
    start = downstream_offset(config, run_index)
    return range(start, start + config.lm_budget * config.max_responses_per_call)


@dataclass(frozen=True)
class SessionJob:
    """One run of an improver on a task from a starting solution; `key` names its result."""

    key: str
    purpose: str
    task: Task
    improver_source: str
    initial_solution: str
    run_index: int

    @classmethod
    def make(
        cls,
        improver_source: str,
        task: Task,
        initial_solution: str,
        run_index: int,
        purpose: str = "meta",
    ) -> SessionJob:
        # keyed by the task's identity: an edited task file never reuses old sessions
        key = SessionKey.make(
            purpose,
            sha256_text(improver_source),
            task.identity,
            sha256_text(initial_solution),
            run_index,
        )
        return cls(str(key), purpose, task, improver_source, initial_solution, run_index)


@dataclass
class SessionContext:
    """What running a session needs: config, store, scorer, model and sandbox factory."""

    config: RunConfig
    store: SessionStore
    evaluator: Evaluator
    backend: Backend
    channel_factory: ChannelFactory = sandbox_channel_factory


def run_session_here(ctx: SessionContext, job: SessionJob) -> SessionRecord:
    """Run `improver(initial_solution, u_val, L)` in this process and score what it returns.

    A stored session is returned as it is. A crashing improver, or one returning nothing,
    scores 0 on both splits. Validation scores select; test scores are only logged.
    """
    cfg, task = ctx.config, job.task
    improver_sha = ctx.store.add_program(job.improver_source, "improver")
    stored = ctx.store.session(job.key)
    if stored is not None:
        return stored
    utility_text = shown_utility_text(task, contract=cfg.shows_guidance)
    lm = BudgetedLanguageModel(
        ctx.backend,
        cfg.lm_budget,
        max_responses_per_call=cfg.max_responses_per_call,
        max_tokens=cfg.max_tokens,
        index_offset=downstream_offset(cfg, job.run_index),
        reply_prefix=code_reply_prefix(
            cfg.reply_prefix, task.packages, function_head(task.signature, task.entry)
        ),
        stop=reply_stops(cfg.reply_prefix, utility_text),
        continue_prefix=code_reply_prefix(cfg.reply_prefix, task.packages, "", ""),
    )
    spec = SessionSpec(
        key=job.key,
        improver_source=job.improver_source,
        improver_sha=improver_sha,
        initial_solution=job.initial_solution,
        entry=task.entry,
        utility_text=utility_text,
        utility_budget=cfg.utility_budget or task.utility_budget,
        seed=cfg.seed * 1000 + job.run_index,
        wall_seconds=cfg.improver_seconds,
    )

    calls = iter(range(1, 1 << 30))

    def utility(program: str) -> Evaluation:  # its error text becomes `utility.last_error`
        evaluation = ctx.evaluator.evaluate(task, program, "val")
        sha = sha256_text(program)
        record_candidate(ctx.store, job.key, next(calls), sha, evaluation.score, evaluation.error)
        return evaluation

    session = ImproverSession(spec, lm, utility, ctx.store, channel_factory=ctx.channel_factory)
    if defines_function(job.improver_source, IMPROVER_ENTRY):
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
        job.key,
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

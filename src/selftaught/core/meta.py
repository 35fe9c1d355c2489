"""Improver runs and the meta-utility û.

`improve_once` runs one improver on one task in its own sandboxed session and scores the result on
the validation split (used for selection) and the test split (logged only). `meta_utility` runs R
of them concurrently, each with a fresh `BudgetedLanguageModel`, and averages. Every finished
session is stored under a deterministic key, so a resumed run reuses it instead of repeating it.
"""

from __future__ import annotations

import statistics
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from selftaught.config import RunConfig
from selftaught.core.context import LoopContext
from selftaught.core.feedback import runs_digest, same_program
from selftaught.core.jobs import IMPROVER_ENTRY, SessionJob
from selftaught.store.db import Evaluation, SessionRecord
from selftaught.store.layout import META_RUN
from selftaught.tasks.contract import CONTINUE_STEP, shown_utility_text

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = [
    "IMPROVER_ENTRY",
    "LoopContext",
    "MetaScore",
    "improve_once",
    "meta_steps",
    "meta_utility",
]


def load_improver(spec: str) -> str:
    """A shipped improver's name (`seed`, `beam`, ...; see `selftaught.improvers.catalog`) or a
    path to an improver file, as source text. ConfigError lists the valid names otherwise."""
    from selftaught.improvers.catalog import resolve_improver

    return resolve_improver(spec)[1]


def improve_once(
    ctx: LoopContext,
    improver_source: str,
    task: Task,
    initial_solution: str,
    run_index: int,
    *,
    purpose: str = META_RUN,
) -> SessionRecord:
    """Run `improver(initial_solution, u_val, L)` once, on the context's executor, and score
    what it returns (see `run_session_here`). A stored session is reused, never repeated."""
    job = SessionJob.make(improver_source, task, initial_solution, run_index, purpose)
    return ctx.executor.run_sessions(ctx, [job])[0]


@dataclass(frozen=True)
class MetaScore:
    """û of one improver: mean validation and test scores over R runs.

    `margin` is the mean of the runs' validation-score margins: how far timing verdicts near the
    task's limit could move `val` (see `selftaught.tasks.timing`).
    """

    val: float
    test: float
    runs: tuple[SessionRecord, ...]
    margin: float = 0.0


def val_margin(ctx: LoopContext, task: Task, records: tuple[SessionRecord, ...]) -> float:
    """The mean validation margin of the programs these runs returned (0 for no program)."""
    margins = []
    for record in records:
        stored = (
            None
            if record.result is None
            else ctx.store.evaluation(record.result, task.identity, "val")
        )
        margins.append(stored.margin if stored is not None else 0.0)
    return statistics.fmean(margins) if margins else 0.0


def run_jobs(
    ctx: LoopContext, improver_source: str, task: Task, initial_solution: str, purpose: str
) -> list[SessionJob]:
    """The R runs of one improver on one task, as jobs (their keys find stored sessions)."""
    return [
        SessionJob.make(improver_source, task, initial_solution, r, purpose)
        for r in range(ctx.config.runs)
    ]


def stored_meta_runs(
    ctx: LoopContext, improver_source: str, task: Task
) -> tuple[SessionRecord, ...]:
    """The stored meta-utility runs of an improver (those not finished yet are left out)."""
    jobs = run_jobs(ctx, improver_source, task, task.seed_solution, META_RUN)
    return tuple(r for job in jobs if (r := ctx.store.session(job.key)) is not None)


def average_runs(
    ctx: LoopContext, improver_source: str, task: Task, initial_solution: str, purpose: str
) -> MetaScore:
    """R concurrent runs of one improver on one task (each a fresh LM budget), averaged."""
    jobs = run_jobs(ctx, improver_source, task, initial_solution, purpose)
    records = tuple(ctx.executor.run_sessions(ctx, jobs))
    return MetaScore(
        statistics.fmean(r.val for r in records),
        statistics.fmean(r.test for r in records),
        records,
        val_margin(ctx, task, records),
    )


def stored_val_margin(ctx: LoopContext, improver_source: str, task: Task) -> float:
    """`MetaScore.margin` of an improver whose meta-utility runs are already stored."""
    return val_margin(ctx, task, stored_meta_runs(ctx, improver_source, task))


def meta_utility(ctx: LoopContext, improver_source: str, task: Task) -> MetaScore:
    """û(improver) on the meta-training task, starting from the task's seed solution."""
    return average_runs(ctx, improver_source, task, task.seed_solution, META_RUN)


#: Strategy families the STOP paper saw improvers adopt (its Figure 4 and Section 5), shown to the
#: meta level outside paper mode. A menu, not an answer: the model still writes the improver.
STRATEGY_FAMILIES = (
    "keep the input: return whichever of initial_solution and the best candidate scores higher",
    "fix errors: ask again with language_model.batch_prompt, showing the best candidate and its"
    " error (utility.last_error), and keep the fix if it scores higher",
    "beam search: ask again with language_model.batch_prompt to improve the best candidate, and"
    " keep whichever scores higher",
    "a genetic algorithm: ask with language_model.batch_prompt to combine the two best"
    " candidates, and keep the child if it scores higher",
    "a temperature schedule: ask again with language_model.batch_prompt at a lower temperature,"
    " and keep the best of all candidates",
    "a bandit: ask again with language_model.batch_prompt and a different prompt, and keep"
    " whichever prompt's candidate scores higher",
    "a cache: score each distinct candidate once (a dict from program to score), and spend the"
    " saved utility calls on new candidates",
)


#: What an improver has in scope, said after the meta-utility's code (the 1.5B model called the
#: scorer's `run_improver` from improvers) or after its docstring alone.
SCOPE_SHOWN = (
    "# run_improver and fresh_language_model above are the scorer's own: an improver",
    "# cannot call them. It has language_model.batch_prompt/prompt and utility.",
)
SCOPE_DESCRIBED = (
    "# Nothing of the meta-utility is in scope when an improver runs: it has",
    "# language_model.batch_prompt/prompt and utility.",
)


def meta_steps(config: RunConfig, t: int) -> tuple[str, ...]:
    """The new steps that continued meta replies at step `t` open, one per reply in a call.

    With guidance, each reply is started on a different strategy family, in turn across the
    steps, so one call tries several directions instead of several copies of one; the model still
    writes the step, and the meta-utility decides. Otherwise every reply opens the generic step.
    """
    if not config.names_meta_steps:
        return (CONTINUE_STEP,)
    first = (t - 1) * config.max_responses_per_call
    count = len(STRATEGY_FAMILIES)
    return tuple(
        STRATEGY_FAMILIES[(first + i) % count] for i in range(config.max_responses_per_call)
    )


def meta_guidance(config: RunConfig, feedback: str = "") -> str:
    """Comment lines for the meta level: the current improver's digest and strategy families."""
    if not config.shows_guidance:
        return ""
    lines = ["# What the current improver's runs did (the meta-utility's feedback):"]
    lines += textwrap.wrap(feedback or "not measured yet", 96, initial_indent="#   ",
                           subsequent_indent="#   ")  # fmt: skip
    lines += SCOPE_DESCRIBED if config.describes_meta_utility else SCOPE_SHOWN
    lines.append("# Ways improvers have become better (use the paper's improver API only):")
    lines += [f"# - {family}" for family in STRATEGY_FAMILIES]
    return "\n".join(lines) + "\n"


def _meta_body(config: RunConfig) -> str:
    """The meta-utility's code, or a line saying it is left out (`describes_meta_utility`)."""
    if config.describes_meta_utility:
        return "    # (its code is left out here: the docstring above says what it does)\n"
    return f"""    scores = []
    for run in range({config.runs}):
        improved = run_improver(improve_str, initial_solution, utility, fresh_language_model())
        scores.append(utility(improved))
    return mean(scores)
"""


def meta_utility_text(task: Task, config: RunConfig, feedback: str = "") -> str:
    """What the self-improving improver is shown as its utility's description.

    Outside paper mode it also carries `meta_guidance`: the digest of the current improver's runs
    (`feedback`) and the strategy families.
    """
    guidance = meta_guidance(config, feedback)
    imports = "" if config.describes_meta_utility else "from statistics import mean\n\n"
    return f'''{imports}from helpers import extract_code


def meta_utility(improve_str: str):
    """Scores an improver: the source of a program defining
    improve_algorithm(initial_solution, utility, language_model).

    It runs that improver {config.runs} times on the task below, each time starting from the
    task's initial solution, with a fresh language model allowed {config.lm_budget} call(s) of at
    most {config.max_responses_per_call} responses each. Each run's returned solution is scored
    with the task's utility; the meta-utility is the mean. An improver that crashes or returns
    nothing scores 0. It may be called {config.meta_utility_budget} time(s).
    """
{_meta_body(config)}
{guidance}
# The downstream task's utility:
{shown_utility_text(task, contract=config.shows_guidance)}
'''


MetaHandler = Callable[[str], Evaluation]


def meta_level_utility(ctx: LoopContext, task: Task, parent_sha: str) -> MetaHandler:
    """The trusted callable behind the meta-level `utility` proxy: û_val of a candidate improver.

    Its feedback (`utility.last_error` in the sandbox) is the digest of the candidate's runs, so
    an improver that reads it learns what went wrong downstream, as with solution-level errors.
    """

    parent_source = ctx.store.program(parent_sha) or ""

    def utility(candidate: str) -> Evaluation:
        ctx.store.add_program(candidate, "improver", parent=parent_sha)
        copy = not ctx.config.paper_mode and same_program(candidate, parent_source)
        # A reformatted copy is the parent: its stored runs answer, and no new run is spent.
        score = meta_utility(ctx, parent_source if copy else candidate, task)
        feedback = runs_digest(ctx.store, score.runs)
        if copy:
            feedback = "This is the current improver itself (only formatting differs). " + feedback
        return Evaluation(score.val, 0.0, feedback, score.margin)

    return utility


def parent_digest(ctx: LoopContext, improver_source: str, task: Task) -> str:
    """The digest of an improver's stored meta-utility runs (what the meta level is shown)."""
    start = ctx.evaluator.evaluate(task, task.seed_solution, "val").score
    return runs_digest(ctx.store, stored_meta_runs(ctx, improver_source, task), start)

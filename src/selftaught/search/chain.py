"""The STOP chain: I_t = I_{t-1}(û, I_{t-1}, L), one candidate per iteration.

Each iteration is stored as soon as it finishes; a resumed run replays stored iterations and
continues with the first missing one (whose finished sessions, samples and evaluations are reused
from the store and the response cache).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from selftaught.core.feedback import same_program
from selftaught.core.meta import (
    IMPROVER_ENTRY,
    LoopContext,
    meta_level_utility,
    meta_steps,
    meta_utility,
    meta_utility_text,
    parent_digest,
    stored_val_margin,
)
from selftaught.core.session import ImproverSession, SessionSpec
from selftaught.lm.budget import BudgetedLanguageModel
from selftaught.search.policies import (
    AcceptancePolicy,
    FixedIterations,
    LatestParent,
    Node,
    ParentSelection,
    StoppingPolicy,
    acceptance_for,
    within_noise,
)
from selftaught.search.summary import write_summary
from selftaught.store.db import IterationRecord
from selftaught.store.layout import (
    NOISE_TIE_EVENT,
    SELF_IMPROVEMENT_EVENT,
    UNCHANGED_EVENT,
    self_improve_key,
)
from selftaught.tasks.contract import (
    PREIMPORTED,
    code_reply_prefix,
    continuation_closing,
    continuation_prefix,
    reply_stops,
)

#: What an improver reply starts with, after the rule: the modules, and the paper's extractor.
IMPROVER_IMPORTS = f"{PREIMPORTED}\nfrom helpers import extract_code\n"
IMPROVER_HEAD = f"def {IMPROVER_ENTRY}(initial_solution, utility, language_model):\n"

if TYPE_CHECKING:
    from selftaught.config import RunConfig
    from selftaught.tasks import Task


@dataclass(frozen=True)
class ChainPolicies:
    """The pluggable parts of the search."""

    acceptance: AcceptancePolicy
    parent: ParentSelection
    stopping: StoppingPolicy

    @classmethod
    def stop_chain(cls, iterations: int, paper_mode: bool) -> ChainPolicies:
        return cls(acceptance_for(paper_mode), LatestParent(), FixedIterations(iterations))


def _baseline(ctx: LoopContext, task: Task, seed_source: str) -> IterationRecord:
    stored = ctx.store.iteration(0)
    if stored is not None:
        return stored
    sha = ctx.store.add_program(seed_source, "improver")
    ctx.progress.note("t=0: meta-utility of the seed improver")
    score = meta_utility(ctx, seed_source, task)
    record = IterationRecord(0, sha, score.val, score.test, True, None, None, None)
    ctx.store.add_iteration(record)
    return record


def improvement_step(
    ctx: LoopContext, task: Task, parent: Node, t: int, acceptance: AcceptancePolicy
) -> IterationRecord:
    """One self-improvement: the parent improver improves its own source against û."""
    cfg = ctx.config
    parent_source = ctx.store.program(parent.sha)
    assert parent_source is not None, "adopted improvers are always stored"
    # the digest is shown only with guidance: without it, do not score the seed for it
    feedback = parent_digest(ctx, parent_source, task) if cfg.shows_guidance else ""
    utility_text = meta_utility_text(task, cfg, feedback)
    lm = BudgetedLanguageModel(
        ctx.backend,
        cfg.meta_lm_budget,
        max_responses_per_call=cfg.max_responses_per_call,
        max_tokens=cfg.meta_max_tokens,
        index_offset=ctx.meta_offset(t),
        reply_prefix=_meta_reply_prefix(cfg, parent_source, t),
        # an improver's own prompts hold code fences: only a copied meta-utility ends a reply
        stop=reply_stops(cfg.reply_prefix, utility_text, closes_block=False),
        closing=_one_step_closing(cfg, parent_source),
    )
    spec = SessionSpec(
        key=self_improve_key(t),
        improver_source=parent_source,
        improver_sha=parent.sha,
        initial_solution=parent_source,
        entry=IMPROVER_ENTRY,
        utility_text=utility_text,
        utility_budget=cfg.meta_utility_budget,
        seed=cfg.seed * 1000 + 500 + t,
        wall_seconds=cfg.meta_improver_seconds,
    )
    ctx.progress.note(f"t={t}: the improver improves itself")
    utility = meta_level_utility(ctx, task, parent.sha)
    outcome = ImproverSession(
        spec, lm, utility, ctx.store, channel_factory=ctx.channel_factory
    ).run()
    ctx.store.add_event(
        SELF_IMPROVEMENT_EVENT,
        spec.key,
        {"status": outcome.status, "error": outcome.error, "lm_calls": outcome.lm_calls},
        key=f"{spec.key}/outcome",
        program=parent.sha,
    )
    if outcome.result is None:
        return IterationRecord(t, parent.sha, parent.val, parent.test, False, None, None, None)
    candidate_sha = ctx.store.add_program(outcome.result, "improver", parent=parent.sha)
    if not cfg.paper_mode and same_program(outcome.result, parent_source):
        # A copy (formatting and comments aside) is no improvement: not re-scored, not adopted.
        # (The paper's rule re-scores and adopts it like any other candidate.)
        how = "unchanged" if outcome.result.strip() == parent_source.strip() else "reformatted"
        ctx.progress.note(f"t={t}: the candidate is the current improver, {how}")
        detail = {"note": f"same program as its parent ({how})"}
        ctx.store.add_event(UNCHANGED_EVENT, spec.key, detail, key=f"{spec.key}/unchanged",
                            program=candidate_sha)  # fmt: skip
        return IterationRecord(
            t, parent.sha, parent.val, parent.test, False, candidate_sha, None, None
        )
    score = meta_utility(ctx, outcome.result, task)
    candidate = Node(candidate_sha, score.val, score.test, parent.sha, score.margin)
    adopted = acceptance.accept(parent, candidate)
    if candidate.val != parent.val and within_noise(parent, candidate):
        _note_tie(ctx, spec.key, parent, candidate, adopted)
    current = candidate if adopted else parent
    return IterationRecord(
        t, current.sha, current.val, current.test, adopted, candidate_sha, score.val, score.test
    )


def _meta_reply_prefix(cfg: RunConfig, parent_source: str, t: int) -> str | tuple[str, ...]:
    """How the meta level's replies start: inside the parent before it returns, each opening
    one of `meta_steps`, when configured and possible; else at the improver's head (improvers
    run with no task packages)."""
    if cfg.continues_parent:
        steps = meta_steps(cfg, t)
        prefixes = [
            continuation_prefix(cfg.reply_prefix, parent_source, IMPROVER_ENTRY, step)
            for step in steps
        ]
        if all(prefixes):  # the parent either can be continued or cannot, whatever the step
            return tuple(p for p in prefixes if p)
    return code_reply_prefix(cfg.reply_prefix, (), IMPROVER_HEAD, IMPROVER_IMPORTS)


def _one_step_closing(cfg: RunConfig, parent_source: str) -> tuple[str, str] | None:
    """With named steps, a continued reply is one step: it ends where it opens another (None
    when the parent cannot be continued, as in `_meta_reply_prefix`)."""
    if not cfg.names_meta_steps:
        return None
    return continuation_closing(parent_source, IMPROVER_ENTRY)


def _note_tie(ctx: LoopContext, key: str, parent: Node, candidate: Node, adopted: bool) -> None:
    """Say that the scorer's timing margins, not the scores, decided this comparison."""
    margin = parent.margin + candidate.margin
    text = (
        f"candidate {candidate.val:.4f} vs parent {parent.val:.4f}: a tie within the scorer's"
        f" timing margin (+/-{margin:.4f}); {'adopted' if adopted else 'not adopted'}"
    )
    ctx.progress.note(text)
    detail = {"parent": parent.val, "candidate": candidate.val, "margin": margin, "note": text}
    ctx.store.add_event(NOISE_TIE_EVENT, key, detail, key=f"{key}/noise_tie", program=candidate.sha)


def _node(ctx: LoopContext, task: Task, record: IterationRecord, parent: str | None) -> Node:
    """The adopted improver of a stored iteration, with the timing margin of its runs."""
    source = ctx.store.program(record.improver)
    margin = 0.0 if source is None else stored_val_margin(ctx, source, task)
    return Node(record.improver, record.val, record.test, parent, margin)


def run_chain(
    ctx: LoopContext, task: Task, seed_source: str, policies: ChainPolicies
) -> list[IterationRecord]:
    """Run (or resume) the chain to its end; return every iteration, t = 0 first."""
    base = _baseline(ctx, task, seed_source)
    records = [base]
    adopted = [_node(ctx, task, base, None)]
    write_summary(ctx.store)
    t = 1
    while not policies.stopping.stop(t, adopted):
        record = ctx.store.iteration(t)
        if record is None:
            parent = policies.parent.select(adopted)
            record = improvement_step(ctx, task, parent, t, policies.acceptance)
            ctx.store.add_iteration(record)
        if record.adopted:
            adopted.append(_node(ctx, task, record, adopted[-1].sha))
        records.append(record)
        write_summary(ctx.store)
        t += 1
    return records

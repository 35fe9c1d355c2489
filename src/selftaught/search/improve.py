"""`improve_program`: improve one program once with one improver, never handing back worse;
`resume_improve` continues a killed one."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.change import program_changes
from selftaught.core.context import LoopContext
from selftaught.core.meta import improve_once, load_improver
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.improvers.catalog import DEFAULT_IMPROVER
from selftaught.search.context import loop_context
from selftaught.search.improve_run import (
    ImproveRecord,
    ImproveTracker,
    claim_improve,
    stored_improve,
    with_samples,
)
from selftaught.search.keep import ScoredProgram, keep_better
from selftaught.search.plumbing import Plumbing, open_backend
from selftaught.search.preflight import check_start
from selftaught.search.summary import write_summary
from selftaught.store.db import RunStore, SessionRecord, sha256_text
from selftaught.store.layout import CIRCUMVENTION_KINDS, STATIC_SCAN_SESSION
from selftaught.store.lock import run_dir_lock

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = ["improve_program", "resume_improve"]


def improve_program(
    source: str,
    task_name: str,
    *,
    improver: str = DEFAULT_IMPROVER,
    config: RunConfig | None = None,
    out_dir: Path | str | None = None,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Improve one program once with one improver; scores are on the held-out test split.

    Never worse: the program handed back is the improver's only when it beats the input on val
    beyond the scorer's timing margins (`search.keep`); otherwise it is the input itself and
    `improved` is False, with `reason` saying why. `candidate_val`/`candidate_test` score what
    the improver returned (None when it returned nothing: it crashed, timed out, or `error` says
    why). `config.samples` > 0 sets the run's LM budget to that many samples (`with_samples`).
    The run store goes to `out_dir` (a temporary directory when None, discarded); a killed run
    there continues with `resume_improve`, or with the same call again.
    """
    from selftaught.tasks import get_task, task_reference

    task = get_task(task_name)
    # the config saved beside the results names the task improved (not the meta-training default)
    config = (config or RunConfig()).replace(task=task_reference(task_name))
    config = with_samples(config, task.utility_budget)
    improver_source = load_improver(improver)
    record = ImproveRecord(
        task_reference(task_name), improver, sha256_text(improver_source), sha256_text(source)
    )
    return _improve(source, task, improver_source, record, config, out_dir, progress, plumbing)


def resume_improve(
    run_dir: Path | str,
    *,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
    executor: str | None = None,
) -> dict[str, Any]:
    """Continue a killed (or finished) improve run in `run_dir` with its stored inputs and
    settings. Finished samples come from its response cache and finished evaluations from its
    store, so a deterministic improver repeats no LM sample and no evaluation."""
    from selftaught.tasks import get_task

    run_dir = Path(run_dir)
    config, record, source, improver_source = stored_improve(run_dir)
    config = config.replace(executor=executor)
    task = get_task(record.task)
    return _improve(source, task, improver_source, record, config, run_dir, progress, plumbing)


def _improve(
    source: str,
    task: Task,
    improver_source: str,
    record: ImproveRecord,
    config: RunConfig,
    out_dir: Path | str | None,
    progress: ProgressSink | None,
    plumbing: Plumbing | None,
) -> dict[str, Any]:
    import tempfile

    plumbing = plumbing or Plumbing()
    # the model first: scoring the input takes a while, and a wrong model would waste it
    check_start(config, Path(out_dir) if out_dir is not None else None, plumbing)
    if out_dir is None and plumbing.backend is None:
        # No run directory to keep: use the user's shared response cache instead.
        backend = open_backend(config, None, plumbing.access)
        plumbing = dataclasses.replace(plumbing, backend=backend)
    tracker = ImproveTracker(progress or NullProgress(), record.source_sha)
    with tempfile.TemporaryDirectory(prefix="selftaught-improve-") as tmp:
        run_dir = Path(out_dir) if out_dir is not None else Path(tmp)
        run_dir.mkdir(parents=True, exist_ok=True)
        with run_dir_lock(run_dir):
            store = RunStore(run_dir)
            try:
                # claimed before the model opens: a directory of another run is refused at once
                claim_improve(store, run_dir, config, record)
                with loop_context(config, run_dir, tracker, plumbing, store) as ctx:
                    outcome = _session(ctx, task, source, improver_source, tracker)
                    write_summary(ctx.store)
            finally:
                store.close()
    return _result(task, config, *outcome)


def _session(
    ctx: LoopContext, task: Task, source: str, improver_source: str, tracker: ImproveTracker
) -> tuple[ScoredProgram, ScoredProgram | None, SessionRecord, int, int]:
    """Score the input, run the improver session, score its result; count attempts."""
    ctx.evaluator.on_scored = tracker.scored
    width = ctx.config.max_responses_per_call
    samples = ctx.config.lm_budget * width
    budget = ctx.config.utility_budget or task.utility_budget
    tracker.expect(samples=samples, evaluations=min(budget, samples) + 3)
    ctx.store.add_program(source, "solution")
    ctx.store.add_program(improver_source, "improver")
    original = _scored(ctx, task, source)
    record = improve_once(ctx, improver_source, task, source, 0, purpose="improve")
    program = ctx.store.program(record.result) if record.result else None
    candidate = _scored(ctx, task, program) if program is not None else None
    kinds = sorted(CIRCUMVENTION_KINDS)
    (attempts,) = ctx.store.query(
        "SELECT COUNT(*) FROM events WHERE session IN (?, ?) AND program = ?"
        f" AND kind IN ({','.join('?' for _ in kinds)})",
        (record.key, STATIC_SCAN_SESSION, record.improver, *kinds),
    )[0]
    # every sample the run drew, before a kill too (the run store logs each one once)
    ((samples,),) = ctx.store.query("SELECT COUNT(*) FROM lm_calls", ())
    return original, candidate, record, int(attempts), int(samples)


def _result(
    task: Task,
    config: RunConfig,
    original: ScoredProgram,
    candidate: ScoredProgram | None,
    record: SessionRecord,
    attempts: int,
    samples: int,
) -> dict[str, Any]:
    error = record.error
    if candidate is None and not error:
        error = f"the improver returned no program (status: {record.status})"
    kept = keep_better(original, candidate)
    return {
        "task": task.name,
        "split": "test",
        "improved": kept.improved,
        "reason": kept.reason,
        "score_before": original.test,
        "score_after": kept.program.test,
        "val_before": original.val,
        "val_after": kept.program.val,
        "candidate_val": candidate.val if candidate is not None else None,
        "candidate_test": candidate.test if candidate is not None else None,
        "program": kept.program.source,
        # what the handed-back program does differently from the input, in short phrases
        "changes": program_changes(original.source, kept.program.source, task.entry),
        "status": record.status,
        "error": error,
        "lm_calls": record.lm_calls,
        "lm_budget": config.lm_budget,
        "samples": samples,
        "circumvention_attempts": attempts,
    }


def _scored(ctx: LoopContext, task: Task, source: str) -> ScoredProgram:
    """Both splits of one program, through the run's evaluator (stored scores are reused)."""
    val = ctx.evaluator.evaluate(task, source, "val")
    test = ctx.evaluator.evaluate(task, source, "test")
    return ScoredProgram(source, val.score, val.margin, test.score)

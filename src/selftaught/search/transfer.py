"""`transfer`: the seed and the final improver of a run, scored on held-out tasks (Table 1)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.context import LoopContext
from selftaught.core.jobs import SessionJob
from selftaught.core.progress import ProgressSink
from selftaught.errors import ConfigError
from selftaught.search.context import loop_context, prepare_run_dir, saved_config
from selftaught.search.plumbing import Plumbing
from selftaught.search.preflight import check_start
from selftaught.search.summary import write_summary
from selftaught.store.lock import run_dir_lock

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = ["TransferRow", "transfer"]


@dataclass(frozen=True)
class TransferRow:
    """One row of the Table-1-style transfer table: test-split scores of a task's original
    solution and of what the seed and the improved improver made of it (means over runs).

    `transfer` computes them (R runs each), the report rebuilds them from the stored sessions
    (None for what is not stored; the run counts say how many were found) and the paper's
    Table 1 gives them too (`label`: its row's wording; runs not reported).
    """

    task: str
    original: float | None
    seed_improver: float | None
    improved_improver: float | None
    runs_seed: int = 0
    runs_improved: int = 0
    label: str = ""

    def scores(self) -> dict[str, Any]:
        """The row as `selftaught transfer` prints it (task and the three scores)."""
        return {
            "task": self.task,
            "original": self.original,
            "seed_improver": self.seed_improver,
            "improved_improver": self.improved_improver,
        }


def transfer(
    run_dir: Path | str,
    tasks: list[str] | None = None,
    *,
    model: str | None = None,
    executor: str | None = None,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Score the seed and the final improver on held-out tasks, as in the paper's Table 1.

    `model` overrides the run's model (its sessions are stored apart from the run model's);
    `executor` overrides where the sessions run (`local` or `ray`; results are the same).
    """
    from selftaught.tasks import get_task

    run_dir = Path(run_dir)
    plumbing = plumbing or Plumbing()
    config = saved_config(run_dir).replace(executor=executor)
    purpose = "transfer"
    if model is not None and model != config.model:
        config, purpose = config.replace(model=model), f"transfer[{model}]"
    check_start(config, run_dir, plumbing, tasks=tuple(tasks or ()))
    chosen = [get_task(name) for name in (tasks or config.transfer_tasks)]
    with run_dir_lock(run_dir):
        prepare_run_dir(config, run_dir, resume=True, executor=executor)
        return _transfer(config, run_dir, chosen, purpose, progress, plumbing)


def _transfer(
    config: RunConfig,
    run_dir: Path,
    chosen: list[Task],
    purpose: str,
    progress: ProgressSink | None,
    plumbing: Plumbing,
) -> dict[str, Any]:
    with loop_context(config, run_dir, progress, plumbing) as ctx:
        iterations = ctx.store.iterations()
        if not iterations:
            raise ConfigError(f"{run_dir} has no finished iteration yet; run or resume it first")
        seed_sha, final_sha = iterations[0].improver, iterations[-1].improver
        seed_src, final_src = ctx.store.program(seed_sha), ctx.store.program(final_sha)
        assert seed_src is not None and final_src is not None
        per_run = config.lm_budget * config.max_responses_per_call
        ctx.progress.expect(samples=2 * len(chosen) * config.runs * per_run)
        rows = _transfer_rows(ctx, chosen, (seed_src, final_src), purpose)
        write_summary(ctx.store)
    return {
        "run_dir": str(run_dir),
        "seed_improver_sha256": seed_sha,
        "improved_improver_sha256": final_sha,
        "model": config.model,
        "runs": config.runs,
        "split": "test",
        "rows": [row.scores() for row in rows],
    }


def _transfer_rows(
    ctx: LoopContext, tasks: list[Task], improvers: tuple[str, str], purpose: str
) -> list[TransferRow]:
    """Originals, then R runs of each improver on each task: one group at a time locally (a
    group's requests share LM batches), all at once on a cluster."""
    originals = {}
    for task in tasks:
        originals[task.name] = ctx.evaluator.evaluate(task, task.seed_solution, "test").score
    groups = [
        [
            SessionJob.make(source, task, task.seed_solution, r, purpose)
            for r in range(ctx.config.runs)
        ]
        for task in tasks
        for source in improvers
    ]
    if ctx.executor.samples_on_driver:  # one group at a time: its requests share LM batches
        records = []
        for group in groups:
            ctx.progress.note(f"transfer: {group[0].task.name}")
            records.append(ctx.executor.run_sessions(ctx, group))
    else:
        ctx.progress.note(f"transfer: {len(tasks)} task(s) x 2 improvers on {ctx.executor.name}")
        flat = ctx.executor.run_sessions(ctx, [job for group in groups for job in group])
        records = [flat[i : i + ctx.config.runs] for i in range(0, len(flat), ctx.config.runs)]
    means = [statistics.fmean(record.test for record in group) for group in records]
    runs = ctx.config.runs
    return [
        TransferRow(task.name, originals[task.name], means[2 * i], means[2 * i + 1], runs, runs)
        for i, task in enumerate(tasks)
    ]

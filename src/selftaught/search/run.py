"""Public entry points of the loop: `run_stop`, `improve_program` and `transfer`.

Each works on a run directory holding `config.toml`, `run.sqlite`, the LM response cache
`lm_cache.sqlite` and `summary.json`.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import CONFIG_NAME, RunConfig, continue_with, load_config, save_config
from selftaught.core.batching import BatchingBackend, StoreLoggingBackend
from selftaught.core.evaluate import Evaluator
from selftaught.core.jobs import SessionJob
from selftaught.core.meta import LoopContext, load_improver
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.errors import ConfigError
from selftaught.execute.base import Executor, make_executor
from selftaught.search.chain import ChainPolicies, run_chain
from selftaught.search.keep import ScoredProgram, keep_better
from selftaught.search.plumbing import LM_CACHE_NAME, Plumbing, open_backend
from selftaught.search.preflight import check_start
from selftaught.store.db import RunStore, holds_work
from selftaught.store.lock import run_dir_lock
from selftaught.store.summary import CIRCUMVENTION_KINDS, write_summary
from selftaught.tasks import task_reference

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = [
    "LM_CACHE_NAME",
    "Plumbing",
    "TransferRow",
    "expected_work",
    "improve_program",
    "loop_context",
    "open_backend",
    "prepare_run_dir",
    "run_stop",
    "saved_config",
    "started_run",
    "transfer",
]


def prepare_run_dir(
    config: RunConfig, run_dir: Path, *, resume: bool, executor: str | None = None
) -> RunConfig:
    """Create or reopen a run directory; returns the config the run must use.

    The task is stored as `task_reference` (a task file's absolute path). `resume=True` needs a
    stored run and uses its saved config (`config` is then ignored). Otherwise a directory that
    already holds a run is continued with `config` when it differs from the saved one only by
    growing an option of `EXTENDABLE_FIELDS` (so `make run` is idempotent and a larger T extends
    a finished run), and any other difference is refused, naming each option and both values.
    A directory whose database records no work yet (a start that failed) begins afresh.
    Execution-only options (`executor`) never make configs differ: `executor` (when given, or
    the new config's) replaces the saved one, and the config file records the one in use.
    """
    saved_path = run_dir / CONFIG_NAME
    if resume:
        return _record_execution(saved_config(run_dir), run_dir, executor)
    # a task file is stored by absolute path, so a resume from elsewhere still finds it
    config = config.replace(task=task_reference(config.task))
    if saved_path.is_file():
        saved = load_config(saved_path)
        chosen = continue_with(saved, config, run_dir) if holds_work(run_dir) else config
        chosen = chosen.replace(executor=executor)
        if chosen != saved:
            save_config(chosen, run_dir)
        return chosen
    run_dir.mkdir(parents=True, exist_ok=True)
    config = config.replace(executor=executor)
    save_config(config, run_dir)
    return config


def saved_config(run_dir: Path) -> RunConfig:
    """The config a stored run was saved with; ConfigError when `run_dir` holds no run."""
    saved_path = run_dir / CONFIG_NAME
    if not saved_path.is_file():
        raise ConfigError(f"{run_dir} holds no run to resume (no {CONFIG_NAME})")
    return load_config(saved_path)


@contextmanager
def started_run(
    config: RunConfig | None,
    run_dir: Path,
    plumbing: Plumbing,
    *,
    resume: bool,
    executor: str | None = None,
    tasks: tuple[str, ...] = (),
) -> Iterator[RunConfig]:
    """Check everything a run needs (before any write), hold the directory's writer lock, and
    prepare the directory; yields the config to run with. `config` None (or `resume=True`)
    continues the stored run with its saved config."""
    if resume or config is None:
        config, resume = saved_config(run_dir).replace(executor=executor), True
    check_start(config, run_dir, plumbing, tasks=tasks)
    with run_dir_lock(run_dir):
        yield prepare_run_dir(config, run_dir, resume=resume, executor=executor)


def _record_execution(saved: RunConfig, run_dir: Path, executor: str | None) -> RunConfig:
    if executor is None or executor == saved.executor:
        return saved
    config = saved.replace(executor=executor)
    save_config(config, run_dir)
    return config


@contextmanager
def loop_context(
    config: RunConfig,
    run_dir: Path,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> Iterator[LoopContext]:
    """Open the store, the model and the evaluator of one run directory."""
    plumbing = plumbing or Plumbing()
    progress = progress or NullProgress()
    store = RunStore(run_dir)
    executor: Executor | None = None
    try:
        executor = plumbing.executor or make_executor(config.executor, access=plumbing.access)
        backend = plumbing.backend
        if backend is None:
            backend = open_backend(config, run_dir, plumbing.access)
            plumbing.access.record_price(store, config.model)  # for the report's cost per model
        logged = StoreLoggingBackend(backend, store, on_samples=progress.lm_samples)
        evaluator = Evaluator(
            store,
            score_fn=plumbing.score_fn or executor.score,
            on_evaluation=lambda: progress.evaluations(1),
        )
        yield LoopContext(
            config,
            store,
            evaluator,
            BatchingBackend(logged, window=config.batch_window_seconds),
            progress,
            plumbing.channel_factory,
            executor,
        )
    finally:
        if executor is not None and plumbing.executor is None:
            executor.close()
        store.close()


def expected_work(config: RunConfig, task_budget: int) -> tuple[int, int]:
    """Rough totals (LM samples, evaluations) of a run, for progress bars."""
    per_run_samples = config.lm_budget * config.max_responses_per_call
    per_run_evals = min(config.utility_budget or task_budget, per_run_samples) + 2
    meta_samples = config.runs * per_run_samples
    meta_evals = config.runs * per_run_evals
    step_samples = config.meta_lm_budget * config.max_responses_per_call
    per_step = config.meta_utility_budget + 1
    samples = meta_samples + config.iterations * (step_samples + per_step * meta_samples)
    evaluations = meta_evals * (1 + config.iterations * per_step)
    return samples, evaluations


def run_stop(
    config: RunConfig,
    run_dir: Path | str,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
) -> dict[str, Any]:
    """Run (or resume) STOP into `run_dir` and return its summary (also in summary.json)."""
    from selftaught.tasks import get_task

    run_dir = Path(run_dir)
    plumbing = plumbing or Plumbing()
    with (
        started_run(config, run_dir, plumbing, resume=resume) as config,
        loop_context(config, run_dir, progress, plumbing) as ctx,
    ):
        task = get_task(config.task)
        samples, evaluations = expected_work(config, task.utility_budget)
        ctx.progress.expect(samples=samples, evaluations=evaluations)
        policies = ChainPolicies.stop_chain(config.iterations, config.paper_mode)
        run_chain(ctx, task, load_improver(config.initial_improver), policies)
        return write_summary(ctx.store)


@dataclass(frozen=True)
class TransferRow:
    """One row of the Table-1-style transfer table (test-split scores, mean over R runs)."""

    task: str
    original: float
    seed_improver: float
    improved_improver: float


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
        "rows": [row.__dict__ for row in rows],
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
    if ctx.executor.name == "local":
        records = []
        for group in groups:
            ctx.progress.note(f"transfer: {group[0].task.name}")
            records.append(ctx.executor.run_sessions(ctx, group))
    else:
        ctx.progress.note(f"transfer: {len(tasks)} task(s) x 2 improvers on {ctx.executor.name}")
        flat = ctx.executor.run_sessions(ctx, [job for group in groups for job in group])
        records = [flat[i : i + ctx.config.runs] for i in range(0, len(flat), ctx.config.runs)]
    means = [statistics.fmean(record.test for record in group) for group in records]
    return [
        TransferRow(task.name, originals[task.name], means[2 * i], means[2 * i + 1])
        for i, task in enumerate(tasks)
    ]


def improve_program(
    source: str,
    task_name: str,
    *,
    improver: str = "seed",
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
    why). The run store goes to `out_dir` (a temporary directory when None, discarded).
    """
    import tempfile

    from selftaught.core.meta import improve_once
    from selftaught.tasks import get_task

    config = config or RunConfig()
    task = get_task(task_name)
    improver_source = load_improver(improver)
    plumbing = plumbing or Plumbing()
    # the model first: scoring the input takes a while, and a wrong model would waste it
    check_start(config, Path(out_dir) if out_dir is not None else None, plumbing)
    if out_dir is None and plumbing.backend is None:
        # No run directory to keep: use the user's shared response cache instead.
        backend = open_backend(config, None, plumbing.access)
        plumbing = dataclasses.replace(plumbing, backend=backend)
    with tempfile.TemporaryDirectory(prefix="selftaught-improve-") as tmp:
        run_dir = Path(out_dir) if out_dir is not None else Path(tmp)
        counter = _CountingProgress(progress or NullProgress())
        with run_dir_lock(run_dir), loop_context(config, run_dir, counter, plumbing) as ctx:
            original = _scored(ctx, task, source)
            ctx.store.add_program(source, "solution")
            record = improve_once(ctx, improver_source, task, source, 0, purpose="improve")
            program = ctx.store.program(record.result) if record.result else None
            candidate = _scored(ctx, task, program) if program is not None else None
            kinds = sorted(CIRCUMVENTION_KINDS)
            (attempts,) = ctx.store.query(
                "SELECT COUNT(*) FROM events WHERE session IN (?, 'static-scan') AND program = ?"
                f" AND kind IN ({','.join('?' for _ in kinds)})",
                (record.key, record.improver, *kinds),
            )[0]
            write_summary(ctx.store)
    error = record.error
    if program is None and not error:
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
        "status": record.status,
        "error": error,
        "lm_calls": record.lm_calls,
        "lm_budget": config.lm_budget,
        "samples": counter.samples,
        "circumvention_attempts": int(attempts),
    }


def _scored(ctx: LoopContext, task: Task, source: str) -> ScoredProgram:
    """Both splits of one program, through the run's evaluator (stored scores are reused)."""
    val = ctx.evaluator.evaluate(task, source, "val")
    test = ctx.evaluator.evaluate(task, source, "test")
    return ScoredProgram(source, val.score, val.margin, test.score)


class _CountingProgress:
    """Forwards progress and counts LM samples (for `improve`'s report)."""

    def __init__(self, inner: ProgressSink) -> None:
        self.inner = inner
        self.samples = 0

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        self.inner.expect(samples=samples, evaluations=evaluations)

    def lm_samples(self, n: int) -> None:
        self.samples += n
        self.inner.lm_samples(n)

    def evaluations(self, n: int) -> None:
        self.inner.evaluations(n)

    def note(self, text: str) -> None:
        self.inner.note(text)

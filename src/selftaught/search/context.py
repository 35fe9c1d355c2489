"""Opening a run directory: checking, locking and preparing it, and the loop's context.

Every entry point that writes a run directory comes through here: `open_run` for a search
(`search.run`), `started_run` and `loop_context` for `transfer`, `improve` and `compare`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selftaught.config import CONFIG_NAME, RunConfig, continue_with, load_config, save_config
from selftaught.core.batching import BatchingBackend, StoreLoggingBackend
from selftaught.core.context import Executor, LoopContext
from selftaught.core.evaluate import Evaluator
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.errors import ConfigError
from selftaught.execute import make_executor
from selftaught.search.plumbing import Plumbing, open_backend
from selftaught.search.preflight import check_start
from selftaught.store.db import RunStore, holds_work
from selftaught.store.kind import claim_search
from selftaught.store.lock import run_dir_lock
from selftaught.tasks import task_reference

__all__ = [
    "expected_work",
    "loop_context",
    "open_run",
    "prepare_run_dir",
    "saved_config",
    "started_run",
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
    store: RunStore | None = None,
) -> Iterator[LoopContext]:
    """Open the model, the executor and the evaluator of one run directory, around its store.

    `store` is the run's store when the caller opened it already (`open_run`); otherwise it is
    opened here, and closed afterwards.
    """
    plumbing = plumbing or Plumbing()
    progress = progress or NullProgress()
    own_store = store is None
    store = RunStore(run_dir) if store is None else store
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
            executor,
            progress,
            plumbing.channel_factory,
        )
    finally:
        if executor is not None and plumbing.executor is None:
            executor.close()
        if own_store:
            store.close()


@contextmanager
def open_run(
    config: RunConfig | None,
    run_dir: Path | str,
    plumbing: Plumbing | None = None,
    *,
    resume: bool = False,
    progress: ProgressSink | None = None,
    claim: str | None = None,
) -> Iterator[LoopContext]:
    """The one way into a run directory: check, lock and prepare it (`started_run`), open its
    store once, claim it for the search `claim` (None: no claim, as bare `run_stop` does), then
    build the loop's context around that store.

    The claim comes before the model and the executor are opened, so a directory holding another
    search is refused before any model loads.
    """
    run_dir, plumbing = Path(run_dir), plumbing or Plumbing()
    with started_run(config, run_dir, plumbing, resume=resume) as prepared:
        store = RunStore(run_dir)
        try:
            if claim is not None:
                claim_search(store, claim)
            with loop_context(prepared, run_dir, progress, plumbing, store) as ctx:
                yield ctx
        finally:
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

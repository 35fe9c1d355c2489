"""`compare_improvers`: every improver × task × run improves the task's seed solution once.

Each run is one `SessionJob` on the run's executor (a sandboxed improver session with fresh
budgets, the result scored on the validation and the held-out test split). The output directory is
a run store: every session, evaluation and LM sample is recorded there, finished sessions are
reused when the same comparison is run again (so an interrupted comparison resumes), and the
result is saved as `compare.json` plus a plot `compare.png`.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.jobs import SessionJob
from selftaught.core.progress import ProgressSink
from selftaught.errors import ConfigError, ConfigMismatch
from selftaught.improvers.catalog import resolve_improver
from selftaught.search.context import loop_context, started_run
from selftaught.search.plumbing import Plumbing
from selftaught.store.db import Evaluation, RunStore, SessionRecord
from selftaught.store.kind import COMPARE, search_kind
from selftaught.store.layout import COMPARE_KEY, COMPARE_PLOT, COMPARE_RESULT, LM_CALL_EVENT
from selftaught.tasks.timing import versus

if TYPE_CHECKING:
    from selftaught.tasks import Task

DEFAULT_TASKS = ("parity_noise", "three_sat", "maxcut")
RESULT_NAME, PLOT_NAME = COMPARE_RESULT, COMPARE_PLOT
PURPOSE = "compare"


@dataclass(frozen=True)
class CompareRow:
    """One improver on one task: test utility over R runs, and what it cost."""

    improver: str
    task: str
    mean_test: float
    stderr_test: float | None  # None with a single run
    mean_val: float
    runs: tuple[float, ...]
    lm_calls: int
    samples: int
    failures: int  # runs whose improver returned no program (they score 0)
    margin_test: float = 0.0  # mean timing margin of the runs' test scores
    versus_original: str = "tie"  # better | worse | tie (a tie includes the scorer's margins)


def standard_error(values: list[float]) -> float | None:
    """Sample standard deviation / sqrt(n); None for fewer than two values."""
    if len(values) < 2:
        return None
    return statistics.stdev(values) / math.sqrt(len(values))


def _session_samples(store: RunStore, key: str) -> int:
    rows = store.query(
        "SELECT detail FROM events WHERE kind = ? AND session = ?", (LM_CALL_EVENT, key)
    )
    return sum(int(json.loads(detail).get("responses", 0)) for (detail,) in rows)


def _test_margin(store: RunStore, task: Task, record: SessionRecord) -> float:
    if record.result is None:
        return 0.0
    stored = store.evaluation(record.result, task.identity, "test")
    return stored.margin if stored is not None else 0.0


def _row(
    store: RunStore, name: str, task: Task, records: list[SessionRecord], original: Evaluation
) -> CompareRow:
    tests = [r.test for r in records]
    mean_test = statistics.fmean(tests)
    margin = statistics.fmean(_test_margin(store, task, r) for r in records)
    return CompareRow(
        improver=name,
        task=task.name,
        mean_test=mean_test,
        stderr_test=standard_error(tests),
        mean_val=statistics.fmean(r.val for r in records),
        runs=tuple(tests),
        lm_calls=sum(r.lm_calls for r in records),
        samples=sum(_session_samples(store, r.key) for r in records),
        failures=sum(1 for r in records if r.result is None),
        margin_test=margin,
        versus_original=versus(mean_test, margin, original.score, original.margin),
    )


def _resolve(improvers: list[str]) -> list[tuple[str, str]]:
    resolved = [resolve_improver(spec) for spec in improvers]
    names = [name for name, _ in resolved]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"improver given twice: {', '.join(duplicates)}")
    return resolved


@contextmanager
def _started_comparison(
    config: RunConfig, run_dir: Path, plumbing: Plumbing
) -> Iterator[RunConfig]:
    """`started_run` for a comparison: a directory holding one with other settings, or holding
    another kind of run (a STOP run, an improve run), is refused with advice that fits `compare`."""
    held = search_kind(run_dir)
    if held not in (None, COMPARE):
        article = "an" if held[0] in "aeiou" else "a"
        raise ConfigError(
            f"{run_dir} holds {article} {held} run, not a comparison; choose another --out"
        )
    try:
        with started_run(config, run_dir, plumbing, resume=False) as prepared:
            yield prepared
    except ConfigMismatch as exc:
        raise ConfigError(
            f"{run_dir} holds a comparison (or run) with other settings: {exc.changes}; "
            "rerun it with the same options to continue it, or choose another --out"
        ) from None


def compare_improvers(
    improvers: list[str],
    tasks: list[str] | None = None,
    *,
    runs: int = 2,
    config: RunConfig | None = None,
    out_dir: Path | str = "runs/compare",
    parallel: int | None = None,
    progress: ProgressSink | None = None,
    plumbing: Plumbing | None = None,
    plot: bool = True,
) -> dict[str, Any]:
    """Compare improvers on the same budgets; returns (and saves) the table as a dict.

    `improvers`: shipped names (see `selftaught.improvers.catalog`) or paths to improver files.
    `config` supplies the model and the per-run budgets (`lm_budget`, `max_responses_per_call`,
    `max_tokens`, `utility_budget`, `seed`, `improver_seconds`, `executor`). `parallel` sessions
    run at once (default: 4 locally, where their LM requests are batched together; with Ray,
    as many as the cluster's CPUs allow).
    """
    from selftaught.tasks import get_task

    if not improvers:
        raise ConfigError("give at least one improver")
    if runs < 1:
        raise ConfigError(f"runs must be >= 1, got {runs}")
    if parallel is not None and parallel < 1:
        raise ConfigError(f"parallel must be >= 1, got {parallel}")
    resolved = _resolve(improvers)
    chosen: list[Task] = [get_task(name) for name in (tasks or DEFAULT_TASKS)]
    base = (config or RunConfig()).replace(runs=runs)
    run_dir, plumbing = Path(out_dir), plumbing or Plumbing()
    jobs = [
        (name, source, task, r) for task in chosen for name, source in resolved for r in range(runs)
    ]
    with (
        _started_comparison(base, run_dir, plumbing) as config,
        loop_context(config, run_dir, progress, plumbing) as ctx,
    ):
        per_run = config.lm_budget * config.max_responses_per_call
        ctx.progress.expect(samples=len(jobs) * per_run)
        baseline = {
            task.name: ctx.evaluator.evaluate(task, task.seed_solution, "test") for task in chosen
        }

        session_jobs = [
            SessionJob.make(source, task, task.seed_solution, r, PURPOSE)
            for _, source, task, r in jobs
        ]
        names = {sj.key: (name, r) for sj, (name, _, _, r) in zip(session_jobs, jobs, strict=True)}

        def done(job: SessionJob, record: SessionRecord) -> None:
            name, r = names[job.key]
            ctx.progress.note(f"{name} on {job.task.name}, run {r + 1}: test {record.test:.3f}")

        width = parallel or ctx.executor.bulk_parallel
        records = ctx.executor.run_sessions(ctx, session_jobs, parallel=width, on_done=done)
        rows = []
        for task in chosen:
            for name, _ in resolved:
                mine = [
                    rec
                    for (n, _, t, _), rec in zip(jobs, records, strict=True)
                    if n == name and t.name == task.name
                ]
                rows.append(_row(ctx.store, name, task, mine, baseline[task.name]))
        result = {
            "model": config.model,
            "runs": runs,
            "split": "test",
            "budgets": {
                "lm_calls": config.lm_budget,
                "responses_per_call": config.max_responses_per_call,
                "max_tokens": config.max_tokens,
                "utility_calls": config.utility_budget or "task default",
                "improver_seconds": config.improver_seconds,
            },
            "seed": config.seed,
            "tasks": [t.name for t in chosen],
            "improvers": [name for name, _ in resolved],
            "original": {name: ev.score for name, ev in baseline.items()},
            "original_margin": {name: ev.margin for name, ev in baseline.items()},
            "rows": [{**asdict(row), "runs": list(row.runs)} for row in rows],
        }
        ctx.store.set_meta(COMPARE_KEY, json.dumps(result, sort_keys=True))
        if plot:
            result["plot"] = str(save_plot(result, run_dir / PLOT_NAME))
        (run_dir / RESULT_NAME).write_text(json.dumps(result, indent=2) + "\n")
    return result


def save_plot(result: dict[str, Any], path: Path) -> Path:
    """Grouped bars: mean test utility ± standard error per task and improver (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks, improvers = result["tasks"], result["improvers"]
    table = {(r["improver"], r["task"]): r for r in result["rows"]}
    width = 0.8 / max(1, len(improvers))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(tasks) * max(1, len(improvers)) / 3), 4.5))
    for i, name in enumerate(improvers):
        xs = [t + (i - (len(improvers) - 1) / 2) * width for t in range(len(tasks))]
        means = [table[(name, task)]["mean_test"] for task in tasks]
        errors = [table[(name, task)]["stderr_test"] or 0.0 for task in tasks]
        ax.bar(xs, means, width, yerr=errors, capsize=2, label=name)
    for t, task in enumerate(tasks):
        ax.hlines(result["original"][task], t - 0.45, t + 0.45, colors="black", linestyles="dashed")
    ax.set_xticks(range(len(tasks)), tasks)
    ax.set_ylabel("test utility (mean ± s.e.)")
    ax.set_ylim(0, 1)
    ax.set_title(
        f"{result['model']}, {result['runs']} run(s) each\ndashed line: the original solution",
        fontsize="medium",
    )
    ax.legend(fontsize="small", ncol=3, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path

"""`improve_program`: improve one program once with one improver, never handing back worse."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from selftaught.config import RunConfig
from selftaught.core.context import LoopContext
from selftaught.core.meta import improve_once, load_improver
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.search.context import loop_context
from selftaught.search.keep import ScoredProgram, keep_better
from selftaught.search.plumbing import Plumbing, open_backend
from selftaught.search.preflight import check_start
from selftaught.search.summary import write_summary
from selftaught.store.layout import CIRCUMVENTION_KINDS, STATIC_SCAN_SESSION
from selftaught.store.lock import run_dir_lock

if TYPE_CHECKING:
    from selftaught.tasks import Task

__all__ = ["improve_program"]


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
                "SELECT COUNT(*) FROM events WHERE session IN (?, ?) AND program = ?"
                f" AND kind IN ({','.join('?' for _ in kinds)})",
                (record.key, STATIC_SCAN_SESSION, record.improver, *kinds),
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

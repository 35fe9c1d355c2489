"""`score_program`: the hidden scorer. Runs a candidate on a split's instances in the sandbox.

The candidate's source goes into fresh sandboxed processes, one per instance, together with that
instance's inputs as JSON (a copy: whatever the candidate does to them cannot reach the
orchestrator's instances). Only the returned JSON answer comes back, and the score is computed
here from that answer and the hidden instance. Failures of any kind score 0 for their instance.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from selftaught.tasks import timing
from selftaught.tasks.base import Assessment, Instance, Task, check_split
from selftaught.tasks.cache import MemoryScoreCache, ScoreCache, source_digest
from selftaught.tasks.hints import explain_failure, failing_line
from selftaught.tasks.precheck import precheck
from selftaught.tasks.registry import get_task
from selftaught.tasks.result import STANDARD_FIELDS, ScoreResult

if TYPE_CHECKING:
    from selftaught.sandbox import CallResult, Limits

#: A call's wall-clock deadline: its CPU limit plus this, or twice the limit if that is longer.
WALL_MARGIN_SECONDS = 1.0
# Shared by every caller that passes no cache of its own.
DEFAULT_CACHE = MemoryScoreCache()


def task_limits(task: Task) -> Limits:
    """The sandbox limits of one call of `task`'s entry function.

    The CPU limit is the task's, plus the band within which a call over it is run again (see
    `selftaught.tasks.timing`); the scorer itself judges each call against the task's limit.
    """
    # Imported here so that task metadata stays usable even where the sandbox cannot start.
    from selftaught.sandbox import Limits

    # The task's time limit is CPU time (all the call's processes), so a loaded machine does not
    # change scores; the wall-clock deadline only stops programs that wait instead of computing.
    limit = task.time_limit_seconds
    return Limits(
        wall_seconds=limit + max(WALL_MARGIN_SECONDS, limit),
        cpu_seconds=timing.sandbox_cpu_seconds(limit),
        memory_bytes=task.memory_bytes,
        output_bytes=task.output_bytes,
    )


def score_program(
    task: Task | str,
    source: str,
    split: str = "val",
    *,
    cache: ScoreCache | None = None,
    limit: int | None = None,
    workers: int | None = None,
) -> ScoreResult:
    """Score `source` on `split` of `task` (mean instance score in [0, 1], higher is better).

    `cache` defaults to a process-wide in-memory cache; pass `NullScoreCache()` to always run.
    `limit` scores only the first `limit` instances (for quick tests; cached separately).
    `workers` caps parallel sandboxes (default: the sandbox's choice, one per core).
    """
    task = get_task(task) if isinstance(task, str) else task
    check_split(split)
    instances = task.make_instances(split, limit)
    split_key = split if limit is None else f"{split}[:{len(instances)}]"
    cache = DEFAULT_CACHE if cache is None else cache
    key = (source_digest(source) if isinstance(source, str) else "", task.identity, split_key)
    if isinstance(source, str) and (hit := cache.get(key)) is not None:
        return hit
    result = _evaluate(task, source, split, instances, workers)
    if isinstance(source, str):
        cache.put(key, result)
    return result


def _evaluate(
    task: Task, source: Any, split: str, instances: tuple[Instance, ...], workers: int | None
) -> ScoreResult:
    start = time.monotonic()
    problem = precheck(source, task.entry)
    if problem is not None:
        return _result(task, split, [0.0] * len(instances), [(None, problem)], start)
    workers = workers if task.parallel else 1
    attempts = _run_instances(task, task.sandbox_source(source), instances, workers)
    limit = task.time_limit_seconds
    calls = [timing.verdict(timing.deciding(tries), limit) for tries in attempts]
    scores: list[float] = []
    problems: list[tuple[int | None, str]] = []
    extras: list[Mapping[str, float]] = []
    for instance, call in zip(instances, calls, strict=True):
        assessment = _judge(task, instance, call)
        scores.append(assessment.score)
        extras.append(assessment.extra)
        if assessment.problem is not None:
            problems.append((instance.index, assessment.problem))
    timed_out = sum(1 for call in calls if timing.is_timeout(call))
    near = sum(1 for tries in attempts if timing.flippable(tries, limit))
    return _result(task, split, scores, problems, start, mean_extras(extras), (timed_out, near))


def _run_instances(
    task: Task, program: str, instances: tuple[Instance, ...], workers: int | None
) -> list[list[CallResult]]:
    """The runs of each instance: crashes get one more try, calls near or just over the limit
    up to `timing.MAX_ATTEMPTS` runs in all (`timing.deciding` picks the one that counts)."""
    from selftaught.sandbox import run_function_many

    limits, limit, entry = task_limits(task), task.time_limit_seconds, task.sandbox_entry
    args_list = [list(instance.args) for instance in instances]

    def rerun(indices: list[int]) -> list[CallResult]:
        return run_function_many(
            program,
            entry,
            [args_list[i] for i in indices],
            limits,
            workers=workers,
            packages=task.packages,
        )

    calls = rerun(list(range(len(args_list))))
    # A crash is the one outcome that may be the sandbox's fault rather than the program's:
    # give those instances one more try before scoring them 0.
    crashed = [i for i, call in enumerate(calls) if call.status == "crashed"]
    for i, call in zip(crashed, rerun(crashed) if crashed else [], strict=True):
        calls[i] = call
    attempts = [[call] for call in calls]
    _rerun_while(attempts, lambda tries: _worth_rerun(tries, limit), rerun)
    # On a noisy machine a call that finished within the limit may go over it in another scoring:
    # run those within the noise again too, so that such a flip counts in this scoring's margin.
    spread = timing.jitter(attempts)
    _rerun_while(attempts, lambda tries: timing.in_doubt(tries, limit, spread), rerun)
    return attempts


def _rerun_while(
    attempts: list[list[CallResult]],
    wanted: Callable[[list[CallResult]], bool],
    rerun: Callable[[list[int]], list[CallResult]],
) -> None:
    """Run instances again, a round at a time, while `wanted` says so (MAX_ATTEMPTS runs each)."""
    for _ in range(timing.MAX_ATTEMPTS - 1):
        again = [
            i
            for i, tries in enumerate(attempts)
            if len(tries) < timing.MAX_ATTEMPTS and wanted(tries)
        ]
        if not again:
            return
        for i, call in zip(again, rerun(again), strict=True):
            attempts[i].append(call)


def _worth_rerun(attempts: list[CallResult], limit: float) -> bool:
    """Still undecided: every run so far finished near or just over the limit."""
    return all(timing.undecided(call, limit) for call in attempts)


def _judge(task: Task, instance: Instance, call: CallResult) -> Assessment:
    if call.status != "ok":
        detail = _one_line((call.error or "").strip() or "no detail")
        if where := failing_line(call.error or ""):
            detail = f"{detail}, {where}"
        detail = explain_failure(detail, task)
        if detail.lower().startswith(call.status[:4]):  # "timed out: ...", "crashed: ..."
            return Assessment(0.0, detail)
        return Assessment(0.0, f"{call.status}: {detail}")
    return task.assess(instance, call.value)


def mean_extras(extras: list[Mapping[str, float]]) -> dict[str, float]:
    """Average each extra number over the instances that reported it (standard names dropped)."""
    totals: dict[str, list[float]] = {}
    for extra in extras:
        for name, value in extra.items():
            if name not in STANDARD_FIELDS:
                totals.setdefault(name, []).append(float(value))
    return {name: sum(values) / len(values) for name, values in totals.items()}


def _result(
    task: Task,
    split: str,
    scores: list[float],
    problems: list[tuple[int | None, str]],
    start: float,
    extra: Mapping[str, float] | None = None,
    timing_counts: tuple[int, int] = (0, 0),
) -> ScoreResult:
    n = len(scores)
    error = None
    failed = n if problems and problems[0][0] is None else len(problems)
    if problems:
        index, message = problems[0]
        where = "" if index is None else f" (first at instance {index})"
        error = f"{message}{where}; {failed} of {n} instances failed"
    return ScoreResult(
        task=task.name,
        split=split,
        score=sum(scores) / n if n else 0.0,
        error=error,
        seconds=time.monotonic() - start,
        instances=n,
        failed=failed,
        instance_scores=tuple(scores),
        extra=dict(extra or {}),
        timed_out=timing_counts[0],
        near_limit=timing_counts[1],
    )


def _one_line(text: str, width: int = 300) -> str:
    """The most telling line of an error (a traceback's last line), shortened."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else text
    return line if len(line) <= width else line[: width - 3] + "..."

"""Scorer overhead: sandboxed scoring vs calling the same function in-process.

Each program below runs on every validation instance of its task twice: in-process (a plain call
on a JSON copy of the inputs, the unsafe reference setup) and through `score_program` (one fresh
sandboxed process per instance; with one worker, and with the default of one worker per core).
Printed per instance: milliseconds in-process, milliseconds sandboxed, their ratio, and the added
milliseconds per call. Best of three runs each; instance generation is excluded.

Run: PYTHONPATH=src .venv/bin/python bench/bench_scorer.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from selftaught.tasks import NullScoreCache, get_task, score_program

SOLUTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "solutions"
PROGRAMS = (
    ("str_grid_dist", "seed"),
    ("maxcut", "seed"),
    ("maxcut", "reference"),
    ("quadratic_assignment", "seed"),
)
REPEATS = 3


def program_source(task_name: str, which: str) -> str:
    """The task's seed, or our reference solution from the test fixtures."""
    if which == "seed":
        return get_task(task_name).seed_solution
    return (SOLUTIONS / f"{task_name}_ref.py").read_text()


def in_process_seconds(task_name: str, source: str) -> float:
    """Best-of-REPEATS wall seconds to call the (trusted, our own) program on every instance."""
    task = get_task(task_name)
    namespace: dict[str, object] = {}
    exec(compile(source, f"<{task_name}>", "exec"), namespace)
    function = namespace[task.entry]
    copies = [json.loads(json.dumps(i.args)) for i in task.make_instances("val")]
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for args in copies:
            function(*args)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def sandboxed_seconds(task_name: str, source: str, workers: int | None) -> float:
    """Best-of-REPEATS wall seconds of `score_program` (no cache) on the val split."""
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = score_program(task_name, source, "val", cache=NullScoreCache(), workers=workers)
        best = min(best, time.perf_counter() - start)
        if result.error is not None:
            print(f"  note: {task_name}: {result.error}")
    return best


def main() -> None:
    header = (
        f"{'task':<22}{'program':<10}{'n':>4}{'in-proc ms':>11}{'1 worker ms':>12}{'ratio':>7}"
        f"{'+ms':>7}{'per-core ms':>12}{'ratio':>7}"
    )
    print(header)
    for name, which in PROGRAMS:
        source = program_source(name, which)
        n = len(get_task(name).make_instances("val"))
        inproc = in_process_seconds(name, source) / n * 1000
        serial = sandboxed_seconds(name, source, workers=1) / n * 1000
        parallel = sandboxed_seconds(name, source, workers=None) / n * 1000
        print(
            f"{name:<22}{which:<10}{n:>4}{inproc:>11.3f}{serial:>12.2f}"
            f"{serial / inproc:>10.1f}{serial - inproc:>7.2f}{parallel:>12.2f}"
            f"{parallel / inproc:>10.1f}"
        )
    print(
        "ratio = sandboxed wall ms per instance / in-process ms per instance; +ms = added ms per"
        " call with one worker; per-core = default workers (one per core)"
    )


if __name__ == "__main__":
    main()

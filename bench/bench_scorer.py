"""Scorer overhead: sandboxed scoring vs calling the same function in-process.

For each task below, the task's seed solution runs on every validation instance twice:
in-process (a plain call on a JSON copy of the inputs: the unsafe reference setup) and through
`score_program` (one fresh sandboxed process per instance, with one worker and with the default
worker count). Printed: per-instance milliseconds and the overhead ratio sandboxed / in-process.

Run: PYTHONPATH=src .venv/bin/python bench/bench_scorer.py
"""

from __future__ import annotations

import json
import time

from selftaught.tasks import NullScoreCache, get_task, score_program

TASKS = ("str_grid_dist", "maxcut")
REPEATS = 3


def in_process_seconds(task_name: str) -> tuple[float, int]:
    """Best-of-REPEATS wall seconds to call the (trusted) seed on every val instance."""
    task = get_task(task_name)
    namespace: dict[str, object] = {}
    exec(compile(task.seed_solution, f"<seed {task_name}>", "exec"), namespace)  # our own seed
    function = namespace[task.entry]
    instances = task.make_instances("val")
    copies = [json.loads(json.dumps(i.args)) for i in instances]
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        for args in copies:
            function(*args)  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best, len(instances)


def sandboxed_seconds(task_name: str, workers: int | None) -> float:
    """Best-of-REPEATS wall seconds of `score_program` (no cache) on the val split."""
    task = get_task(task_name)
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = score_program(
            task, task.seed_solution, "val", cache=NullScoreCache(), workers=workers
        )
        best = min(best, time.perf_counter() - start)
        if result.error is not None:
            print(f"  warning: {task_name}: {result.error}")
    return best


def main() -> None:
    print(
        f"{'task':<16}{'n':>5}{'in-process ms':>15}{'sandbox 1w ms':>15}{'ratio':>9}"
        f"{'sandbox ms':>12}{'ratio':>9}"
    )
    for name in TASKS:
        get_task(name).make_instances("val")  # instance generation is not scorer overhead
        inproc, n = in_process_seconds(name)
        serial = sandboxed_seconds(name, workers=1)
        parallel = sandboxed_seconds(name, workers=None)
        per = [1000 * s / n for s in (inproc, serial, parallel)]
        print(
            f"{name:<16}{n:>5}{per[0]:>15.3f}{per[1]:>15.2f}{per[1] / per[0]:>9.0f}"
            f"{per[2]:>12.2f}{per[2] / per[0]:>9.0f}"
        )
    print(
        "ratio = sandboxed wall time per instance / in-process time per instance "
        "(1w: one worker; otherwise the default, one per core)"
    )


if __name__ == "__main__":
    main()

"""Sandboxed evaluations per second with the local and the Ray executor, measured in one run.

Scores the same batch of distinct programs (the task's reference solution, or its seed, each
with its own comment so no score cache can answer) on the validation split with
`LocalExecutor().score_many` and with `RayExecutor(num_cpus=cores).score_many`, after a
warm-up of each (sandbox zygotes, Ray worker processes). Prints programs/s and
instance-evaluations/s for both and their ratio, Ray's start-up time (not in the throughput),
one instance's sandboxed cost on one worker, and the round trip of an empty Ray task.

Run: PYTHONPATH=src .venv/bin/python bench/bench_executors.py [--task T] [--programs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from selftaught.execute.local import LocalExecutor
from selftaught.tasks import NullScoreCache, Task, get_task, score_program

SOLUTIONS = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "solutions"
Score = Callable[[Task, Sequence[str], str], list]


def distinct_sources(base: str, count: int) -> list[str]:
    """`count` copies of `base` that differ only by a comment (a fresh digest each)."""
    tag = uuid.uuid4().hex
    return [f"{base}\n# bench {tag} {i}\n" for i in range(count)]


def best_seconds(score: Score, task: Task, base: str, programs: int, repeats: int) -> float:
    """Best-of-`repeats` wall seconds to score `programs` fresh programs on the val split."""
    best = float("inf")
    for _ in range(repeats):
        sources = distinct_sources(base, programs)
        start = time.perf_counter()
        results = score(task, sources, "val")
        best = min(best, time.perf_counter() - start)
        errors = {r.error for r in results if r.error}
        if errors:
            print(f"  note: {sorted(errors)[0]}")
    return best


def per_instance_ms(task: Task, base: str, rounds: int = 3) -> float:
    """Median ms of one sandboxed instance evaluation on one worker (no parallelism)."""
    n = len(task.make_instances("val"))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        score_program(task, base, "val", cache=NullScoreCache(), workers=1)
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples) * 1000


def ray_round_trip_ms(rounds: int = 20) -> float:
    """Median ms of submitting an empty Ray task and getting its answer back."""
    import ray

    noop = ray.remote(lambda text: text).options(num_cpus=1)
    ray.get(noop.remote("warm"))
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        ray.get(noop.remote("x"))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="parity_noise")
    parser.add_argument("--program", choices=("reference", "seed"), default="reference")
    parser.add_argument("--programs", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    task = get_task(args.task)
    reference = SOLUTIONS / f"{task.name}_ref.py"
    use_seed = args.program == "seed" or not reference.is_file()
    base = task.seed_solution if use_seed else reference.read_text()
    instances = len(task.make_instances("val"))
    cores = os.cpu_count() or 1
    print(
        f"task {task.name} ({'seed' if use_seed else 'reference'} program), {instances} val "
        f"instances, {args.programs} programs, best of {args.repeats}; {cores} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    local = LocalExecutor()
    local.score_many(task, distinct_sources(base, 2), "val")  # zygote start-up
    local_s = best_seconds(local.score_many, task, base, args.programs, args.repeats)
    instance_ms = per_instance_ms(task, base)

    from selftaught.execute.ray_driver import RayExecutor

    start = time.perf_counter()
    ray_executor = RayExecutor(num_cpus=cores)
    startup_s = time.perf_counter() - start
    try:
        start = time.perf_counter()
        ray_executor.score_many(task, distinct_sources(base, 2 * cores), "val")
        warmup_s = time.perf_counter() - start
        ray_s = best_seconds(ray_executor.score_many, task, base, args.programs, args.repeats)
        trip_ms = ray_round_trip_ms()
    finally:
        ray_executor.close()

    print(f"{'executor':<10}{'wall s':>9}{'programs/s':>12}{'instances/s':>13}")
    for name, seconds in (("local", local_s), ("ray", ray_s)):
        rate = args.programs / seconds
        print(f"{name:<10}{seconds:>9.2f}{rate:>12.2f}{rate * instances:>13.1f}")
    print(f"ratio ray/local throughput       : {local_s / ray_s:8.2f}x")
    print(f"ray start-up (init + doctor)     : {startup_s:8.2f} s  (not in the throughput)")
    print(f"ray first batch (worker start)   : {warmup_s:8.2f} s  ({2 * cores} programs)")
    print(f"sandboxed instance, one worker   : {instance_ms:8.2f} ms")
    print(f"empty Ray task round trip        : {trip_ms:8.2f} ms")
    print(f"load average at the end          : {os.getloadavg()[0]:8.2f}")


if __name__ == "__main__":
    main()

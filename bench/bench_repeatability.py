"""Scorer repeatability: the same program on the same split, scored N times, idle and beside load.

For every task, the seed program is scored `--repeats` times on the test split with no score cache,
first on an otherwise idle machine, then beside one busy process (a single-threaded loop that
streams through a 64 MiB array, so it competes for memory bandwidth as a model process does).
Printed per task and condition: the distinct scores seen, their spread (max - min), and how many
instance verdicts were near the time limit (when the scorer reports it).

`--near-limit` adds the hard case: each task's seed behind a deterministic pure-Python spin that
puts every instance's cost somewhere in [0.92, 1.08] x the task's CPU limit (calibrated to this
machine at start-up), so about half the instances sit within a few percent of the limit. Only
tasks whose test split costs at most `NEAR_LIMIT_MAX_SECONDS` of limit time get it.

Run: PYTHONPATH=src .venv/bin/python bench/bench_repeatability.py [--repeats 20] [--task NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from selftaught.tasks import NullScoreCache, get_task, score_program, task_names

# The loop ends when the benchmark does, however it ends (a killed benchmark runs no `finally`;
# its neighbour once streamed memory for 20 minutes beside the next measurements).
BUSY_LOOP = (
    "import array, os, sys\n"
    "parent = int(sys.argv[1])\n"
    "a = array.array('d', bytes(64 << 20))\n"
    "while os.getppid() == parent:\n"
    "    b = a[:]\n"  # a 64 MiB copy: memory traffic, not just an idle spin
    "    s = sum(a[::4096])\n"
)


NEAR_LIMIT_MAX_SECONDS = 15.0
NEAR_LIMIT_WRAPPER = """

import zlib as _zlib

_seed_entry = {entry}


def {entry}(*args):
    # Deterministic per instance: a spin of 0.92-1.08 x the CPU limit, then the seed's answer.
    share = 0.92 + 0.16 * (_zlib.crc32(repr(args).encode()) % 1000) / 1000
    for _ in range(int(share * {limit!r} * {rate!r})):
        pass
    return _seed_entry(*args)
"""


def spin_rate() -> float:
    """Iterations of an empty `for` loop per CPU second in this process (best of five)."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for _ in range(2_000_000):
            pass
        best = min(best, time.process_time() - start)
    return 2_000_000 / best


def near_limit_program(task_name: str, rate: float) -> str:
    task = get_task(task_name)
    wrapper = NEAR_LIMIT_WRAPPER.format(entry=task.entry, limit=task.time_limit_seconds, rate=rate)
    return task.seed_solution.rstrip() + "\n" + wrapper


def score_repeatedly(task_name: str, repeats: int, source: str | None = None) -> dict[str, object]:
    """Score `source` (default: the seed) `repeats` times on test; distinct scores and counts."""
    task = get_task(task_name)
    source = task.seed_solution if source is None else source
    scores: list[float] = []
    near: list[int] = []
    timed_out: list[int] = []
    start = time.monotonic()
    for _ in range(repeats):
        result = score_program(task, source, "test", cache=NullScoreCache())
        scores.append(result.score)
        near.append(int(getattr(result, "near_limit", 0)))
        timed_out.append(int(getattr(result, "timed_out", 0)))
    counts = Counter(scores)
    return {
        "task": task_name,
        "distinct": {f"{score:.6f}": n for score, n in sorted(counts.items())},
        "spread": max(scores) - min(scores),
        "near_limit_max": max(near),
        "timed_out_max": max(timed_out),
        "seconds": round(time.monotonic() - start, 1),
    }


def run_condition(
    programs: list[tuple[str, str, str | None]], repeats: int, busy: bool
) -> list[dict[str, object]]:
    """Every (label, task, source) under one condition (idle, or beside one busy process)."""
    command = [sys.executable, "-c", BUSY_LOOP, str(os.getpid())]
    neighbour = subprocess.Popen(command) if busy else None
    try:
        time.sleep(1.0 if busy else 0.0)
        rows = []
        for label, name, source in programs:
            row = score_repeatedly(name, repeats, source)
            row["program"] = label
            row["condition"] = "busy" if busy else "idle"
            row["load"] = round(os.getloadavg()[0], 2)
            rows.append(row)
            print(
                f"{name:<22}{label:<6}{row['condition']:<6}{len(row['distinct']):>9}"  # type: ignore[arg-type]
                f"{row['spread']:>10.4f}{row['near_limit_max']:>6}{row['timed_out_max']:>6}"
                f"{row['load']:>7}{row['seconds']:>8}  {row['distinct']}",
                flush=True,
            )
        return rows
    finally:
        if neighbour is not None:
            neighbour.kill()
            neighbour.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--task", action="append", help="task name or file (default: built-ins)")
    parser.add_argument("--near-limit", action="store_true", help="add near-limit programs")
    parser.add_argument(
        "--spin-rate",
        type=float,
        help="loop iterations per CPU second for the near-limit programs (default: measured now;"
        " pass the printed value to score the very same programs in another run)",
    )
    parser.add_argument("--seeds", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    args = parser.parse_args()
    tasks = args.task or list(task_names())
    programs: list[tuple[str, str, str | None]] = []
    if args.seeds:
        programs += [("seed", name, None) for name in tasks]
    if args.near_limit:
        rate = args.spin_rate or spin_rate()
        print(f"near-limit programs: --spin-rate {rate:.0f}")
        for name in tasks:
            task = get_task(name)
            if task.time_limit_seconds * task.split_sizes["test"] <= NEAR_LIMIT_MAX_SECONDS:
                programs.append(("near", name, near_limit_program(name, rate)))
    print(
        f"{'task':<22}{'prog':<6}{'cond':<6}{'distinct':>9}{'spread':>10}{'near':>6}{'t/o':>6}{'load':>7}{'s':>8}"
    )
    rows = run_condition(programs, args.repeats, busy=False)
    rows += run_condition(programs, args.repeats, busy=True)
    print("distinct = different scores seen in the repeats (1 is repeatable); spread = max - min;")
    print("near / t/o = most instances near the limit / timed out in one scoring; load = 1-min")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

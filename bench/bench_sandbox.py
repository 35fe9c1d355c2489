"""Per-evaluation overhead of the hardened sandbox, measured in one run.

Prints the median wall time of:
  - an in-process call of the same trivial function,
  - a bare `python -I -S -c pass` subprocess (no isolation at all),
  - `run_function` through every active layer (zygote fork, namespaces, uid, rlimits, seccomp),
  - the same for a numpy-using function, and per call in `run_function_many` on all cores,
and the ratios the issue asks for. Target: hardened median <= 20 ms and <= 2x the bare subprocess.

Run: PYTHONPATH=src .venv/bin/python bench/bench_sandbox.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from selftaught.sandbox import Limits, doctor, run_function, run_function_many

TRIVIAL = "def f(x):\n    return x + 1\n"
NUMPY = "import numpy as np\ndef f(x):\n    return int(np.arange(x).sum())\n"
LIMITS = Limits(wall_seconds=10)


def median_seconds(action: Callable[[], object], rounds: int) -> float:
    """Median wall-clock seconds of `action` over `rounds` runs (after one warm-up)."""
    action()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    rounds = parser.parse_args().rounds

    layers = doctor()
    active = [layer.name for layer in layers if layer.active]
    missing = [layer.name for layer in layers if not layer.active]
    print(f"active layers: {', '.join(active)}")
    if missing:
        print(f"MISSING layers: {', '.join(missing)}")

    namespace: dict[str, object] = {}
    exec(compile(TRIVIAL, "<bench>", "exec"), namespace)
    function = namespace["f"]
    in_process = median_seconds(lambda: function(1), rounds)  # type: ignore[operator]
    exe = os.path.realpath(sys.executable)
    bare = median_seconds(
        lambda: subprocess.run([exe, "-I", "-S", "-c", "pass"], check=True), max(20, rounds // 3)
    )

    def hardened_call() -> None:
        result = run_function(TRIVIAL, "f", [1], LIMITS)
        assert result.value == 2, result

    hardened = median_seconds(hardened_call, rounds)
    with_numpy = median_seconds(lambda: run_function(NUMPY, "f", [1000], LIMITS), rounds)
    batch = [[i] for i in range(4 * (os.cpu_count() or 1) * 10)]
    start = time.perf_counter()
    results = run_function_many(TRIVIAL, "f", batch, LIMITS)
    per_call_parallel = (time.perf_counter() - start) / len(batch)
    assert [r.value for r in results] == [i + 1 for i in range(len(batch))]

    overhead = hardened - in_process
    print(f"in-process call            : {in_process * 1e6:9.1f} us")
    print(f"bare `python -I -S` process: {bare * 1e3:9.2f} ms")
    print(f"hardened run_function      : {hardened * 1e3:9.2f} ms", end="")
    print(f"   (overhead {overhead * 1e3:.2f} ms)")
    print(f"hardened, importing numpy  : {with_numpy * 1e3:9.2f} ms")
    print(
        f"run_function_many, per call: {per_call_parallel * 1e3:9.2f} ms   ({os.cpu_count()} cores)"
    )
    print(f"ratio hardened / bare subprocess : {hardened / bare:8.2f}x   (target <= 2x)")
    print(f"ratio hardened / in-process call : {hardened / in_process:8.0f}x")
    print(f"hardened median <= 20 ms         : {'yes' if hardened <= 0.020 else 'NO'}")


if __name__ == "__main__":
    main()

"""Self-improvement: over S seeds of the `make run` configuration, did the improver get better?

Each seed is one STOP run (`selftaught.search.run.run_stop`, the chain with the gate) into
`--out/seed-N/`, then, when it adopted an improver, its transfer to the held-out tasks
(`search.transfer.transfer`; skipped when nothing was adopted, since that is a tie). Per
seed it reports the initial improver's and the adopted improver's val and test meta-utility, the
test gain, whether the adopted improver differs from the initial one in more than formatting and
comments (`same_program`), and on how many transfer tasks the adopted improver beat the initial
one. Overall: the mean test gain with a 95% Student-t interval over seeds, and how many seeds
gained at least 3 points with a real edit (the issue's bar). Runs resume after a kill.

Run: PYTHONPATH=src .venv/bin/python bench/bench_self_improvement.py [--seeds 5] [--out DIR]
     (default: the `make run` configuration on the embedded model; `--config FILE` overrides it)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench_efficacy import first_run_value, t_interval
from selftaught.config import RunConfig, load_config
from selftaught.core.feedback import same_program
from selftaught.search.run import run_stop
from selftaught.search.transfer import transfer
from selftaught.store.db import RunStore

REAL_GAIN = 0.03  # the bar: at least 3 points of test meta-utility
SEED_FILE = "bench_seed.json"


def run_seed(config: RunConfig, out: Path) -> dict[str, Any]:
    """One STOP run and its transfer; the row for this seed."""
    start = time.monotonic()
    summary = run_stop(config, out, resume=(out / "config.toml").is_file())
    its = summary["iterations"]
    first, last = its[0], its[-1]
    # Nothing adopted: both improvers are one program, so every transfer task would be a tie
    # drawn from the same cached samples; skipping it saves a third of a seed's time.
    adopted = first["improver_sha256"] != last["improver_sha256"]
    rows = transfer(out)["rows"] if adopted else []
    store = RunStore(out, read_only=True)
    initial = store.program(first["improver_sha256"]) or ""
    final = store.program(last["improver_sha256"]) or ""
    store.close()
    changed = summary.get("adopted_changes") or {}
    return {
        "seed": config.seed,
        "initial_val": first["meta_utility_val"],
        "initial_test": first["meta_utility_test"],
        "adopted_val": last["meta_utility_val"],
        "adopted_test": last["meta_utility_test"],
        "test_gain": last["meta_utility_test"] - first["meta_utility_test"],
        "real_edit": not same_program(initial, final),
        # a gain then is the input beating the initial improver's candidates (search.summary):
        # "code" (it returns nothing else), "runs" (every run handed it back), or None
        "returns_its_input": changed.get("returns_its_input"),
        "changes": changed.get("changes", []),
        "adopted_iterations": [it["t"] for it in its[1:] if it["adopted"]],
        "transfer_wins": transfer_wins(rows),
        "transfer_tasks": len(rows),
        "transfer": rows,
        "transfer_skipped": None if adopted else "nothing adopted: a tie on every task",
        "seconds": first_run_value(out / SEED_FILE, "seconds", round(time.monotonic() - start, 1)),
        "load": first_run_value(out / SEED_FILE, "load", round(os.getloadavg()[0], 2)),
    }


def transfer_wins(rows: list[dict[str, Any]]) -> int:
    """Transfer tasks on which the adopted improver's mean test score beat the initial one's."""
    return sum(1 for row in rows if row["improved_improver"] > row["seed_improver"])


def overall(rows: list[dict[str, Any]]) -> dict[str, Any]:
    gains = [row["test_gain"] for row in rows]
    interval = t_interval(gains)
    real = [r for r in rows if r["real_edit"] and r["test_gain"] >= REAL_GAIN]
    return {
        "seeds": len(rows),
        "mean_test_gain": statistics.fmean(gains) if gains else None,
        "gain_interval_95": interval,
        "seeds_with_real_gain": len(real),
        "seeds_with_an_edit": sum(1 for r in rows if r["real_edit"]),
        "real_gains_by_returning_the_input": sum(1 for r in real if r["returns_its_input"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--config", type=Path, help="TOML run options (default: make run's)")
    parser.add_argument("--model", help="override the model")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-self-improvement"))
    args = parser.parse_args()
    base = load_config(args.config) if args.config else RunConfig()
    base = base.replace(model=args.model)
    rows = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        row = run_seed(base.replace(seed=seed), args.out / f"seed-{seed}")
        rows.append(row)
        print(
            f"seed {seed}: initial val {row['initial_val']:.3f} test {row['initial_test']:.3f}"
            f" -> adopted val {row['adopted_val']:.3f} test {row['adopted_test']:.3f}"
            f" (gain {row['test_gain']:+.3f}, real edit: {row['real_edit']}, returns its input:"
            f" {row['returns_its_input'] or 'no'}, transfer wins"
            f" {row['transfer_wins']}/{row['transfer_tasks'] or '- (nothing adopted)'},"
            f" {row['seconds']} s,"
            f" load {row['load']})",
            flush=True,
        )
    result = {"config": base.to_dict(), "rows": rows, "overall": overall(rows)}
    print(json.dumps(result["overall"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "self_improvement.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Efficacy: do LM-written candidates work, and do improvers beat the program they start from?

For each task and improver, S seeds (independent runs) each improve the task's seed program once at
a fixed LM budget (`selftaught.search.compare.compare_improvers`). Per task and improver it reports:

- valid-candidate rate: the fraction of the model's candidate programs scored on val during the
  runs (every distinct program other than the original, as stored in the run store's
  `evaluations` table, except tuned variants) that score above 0; of those, how many changed the
  score on val (a copy of the original, however reformatted, scores exactly the same) and how many
  beat the original there; and apart, the tuned variants (a program with one numeric constant
  moved from the original or from a program scored before it, as refine's `tune_constants`
  makes them) and how many of them beat it, and the wired variants (a reply whose entry now calls
  the step it wrote and never called, as refine's `wired_variant` makes them: they define
  `<entry>_base`) and how many of them beat it;
- the test score of the program each run returned (the improver's best candidate) against the
  original's (`returned_test`, one per seed): the mean difference over seeds (`gain_mean`) with a
  95% Student-t interval (none for a single seed), and a better/worse/tie verdict that counts
  differences within the scorer's timing margins as ties (`selftaught.tasks.timing.versus`);
- wall time and tokens (prompt + completion, of every sample; `fresh` excludes cached ones).

Each (task, improver) cell is a resumable run store under `--out` (`<task>__<improver>/`): run the
same command again after a kill and finished sessions are reused, drawing no sample twice.

Profiles (budgets per run: LM calls x responses x max tokens):
  --quick   maxcut, three_sat x seed, refine x 1 seed; 2 x 4 x 384 (about 10 minutes)
  default   the 8 built-in tasks x seed, refine x 2 seeds; `improve`'s default budgets, 2 x 4 x 768
            (`--improvers refine --seeds 3` took 31 minutes on 2 cores with the embedded 1.5B
            model; at 384 tokens, seed and refine x 3 seeds took 37)
  --full    the 8 built-in tasks x every shipped improver x 3 seeds; 4 x 4 x 768 (many hours)
`--tasks`, `--task FILE` (repeatable, added), `--improvers`, `--seeds` and the budget options
override a profile.

Run: PYTHONPATH=src .venv/bin/python bench/bench_efficacy.py --quick [--model embedded]
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selftaught.config import RunConfig
from selftaught.errors import SelftaughtError
from selftaught.improvers.catalog import list_improvers, resolve_improver
from selftaught.search.compare import compare_improvers
from selftaught.store.db import RunStore, sha256_text
from selftaught.tasks import Task, get_task, score_program
from selftaught.tasks.timing import versus

STOP_TASKS = (
    "parity_noise", "parity_noiseless", "str_grid_dist", "quadratic_assignment", "three_sat",
    "maxcut",
)  # fmt: skip
BUILT_IN = (*STOP_TASKS, "circle_packing", "bin_packing")
CELL_FILE = "bench_cell.json"
KIT = Path(__file__).resolve().parents[1] / "src" / "selftaught" / "improvers"
TUNING = KIT / "kit_tuning.py"
WIRING = KIT / "kit_wiring.py"
# two-sided 95% Student-t quantiles by degrees of freedom (beyond 30: the normal's 1.96)
T_975 = {
    1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
    10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042,
}  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """What one benchmark run covers and the per-run LM budgets."""

    name: str
    tasks: tuple[str, ...]
    improvers: tuple[str, ...]
    seeds: int
    lm_budget: int
    responses: int
    max_tokens: int


# The default profile runs at `improve`'s own default budgets, so it measures what users get; at
# 384 tokens a quarter of refine's 1.5B replies were cut off, which `improve` (768) does not do.
_IMPROVE = RunConfig()
PROFILES = {
    "quick": Profile("quick", ("maxcut", "three_sat"), ("seed", "refine"), 1, 2, 4, 384),
    "default": Profile(
        "default",
        BUILT_IN,
        ("seed", "refine"),
        2,
        _IMPROVE.lm_budget,
        _IMPROVE.max_responses_per_call,
        _IMPROVE.max_tokens,
    ),
    "full": Profile("full", BUILT_IN, tuple(i.name for i in list_improvers()), 3, 4, 4, 768),
}


class PrintProgress:
    """Progress as plain lines on stderr: one per finished session, plus a sample count."""

    def __init__(self, cell: str) -> None:
        self.cell, self.samples, self.expected = cell, 0, 0

    def expect(self, *, samples: int = 0, evaluations: int = 0) -> None:
        self.expected += samples

    def lm_samples(self, n: int) -> None:
        self.samples += n
        say(f"  {self.cell}: {self.samples}/{self.expected} LM samples")

    def evaluations(self, n: int) -> None:
        return None

    def note(self, text: str) -> None:
        say(f"  {self.cell}: {text}")

    def status(self, text: str) -> None:
        return None  # transient state (a bar's caption); the lines above say enough


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def t_interval(values: list[float]) -> tuple[float, float] | None:
    """The 95% Student-t interval of the mean; None for fewer than two values."""
    if len(values) < 2:
        return None
    df = len(values) - 1
    quantile = T_975.get(df) or next((T_975[k] for k in sorted(T_975) if k >= df), 1.96)
    half = quantile * statistics.stdev(values) / math.sqrt(len(values))
    mean = statistics.fmean(values)
    return mean - half, mean + half


@dataclass(frozen=True)
class CandidateCounts:
    """Distinct programs besides the original scored on val during the runs, split into the
    model's candidates and `tuned` variants (one numeric constant moved from the original or from
    a program scored before it, as refine's `tune_constants` makes them). Of the model's
    candidates: how many score above 0 (valid), differ from the original's val score (changed:
    copies and rewrites that behave the same score exactly the same) and beat it (better on val);
    of the tuned: how many beat it.
    `unused` counts the valid ones that score the original's val score and define a function the
    entry never reaches: small models add the asked-for step as a helper and never call it."""

    scored: int
    valid: int
    changed: int
    better: int
    tuned: int
    tuned_better: int
    unused: int = 0
    wired: int = 0
    wired_better: int = 0


def is_wired(source: str, entry: str) -> bool:
    """Whether `source` is a wired variant: refine's `wired_variant` renames the entry to
    `<entry>_base` (a name the model's own replies have not used)."""
    return re.search(rf"^def {re.escape(entry)}_base_*\(", source, re.MULTILINE) is not None


@functools.cache
def _kit_function(path: Path, name: str) -> Any:
    """A function of a kit file (the kit is a sandbox file, read here as one)."""
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    return namespace[name]


def _constant_variants() -> Any:
    return _kit_function(TUNING, "constant_variants")


def unreached_functions(source: str, entry: str) -> set[str]:
    """Top-level functions of `source` that neither its entry nor its top-level code reaches
    (the kit's `unreached_functions`, which refine's wiring uses)."""
    found: set[str] = _kit_function(WIRING, "unreached_functions")(source, entry)
    return found


Scored = list[tuple[float, str]]


def _split_tuned(scored: Scored, original: str) -> tuple[Scored, Scored]:
    """(tuned, the model's) (score, source) pairs, given in the order they were scored. A program
    is tuned when it moves one constant of the original or of a program scored before it. The
    model's candidates are scored before they are tuned, so a candidate one move away from a
    later tuned variant stays the model's."""
    variants = _constant_variants()
    moved = {v.strip() for v in variants(original)}
    tuned, model = [], []
    for score, source in scored:
        (tuned if source.strip() in moved else model).append((score, source))
        moved.update(v.strip() for v in variants(source))
    return tuned, model


def candidate_counts(store: RunStore, task: Task) -> CandidateCounts:
    sha = sha256_text(task.seed_solution)
    rows = store.query(
        "SELECT e.sha256, e.score, p.source FROM evaluations e JOIN programs p"
        " ON p.sha256 = e.sha256 WHERE e.task = ? AND e.split = 'val'"
        " ORDER BY e.created, e.rowid",
        (task.identity,),
    )
    base = next((score for key, score, _ in rows if key == sha), None)
    if base is None:  # an improver that never scored its input (the paper's seed)
        base = score_program(task, task.seed_solution, "val").score
    others = [(score, source) for key, score, source in rows if key != sha]
    tuned, model = _split_tuned(others, task.seed_solution)
    wired = [(score, source) for score, source in model if is_wired(source, task.entry)]
    model = [pair for pair in model if not is_wired(pair[1], task.entry)]
    valid = [score for score, _ in model if score > 0]
    changed = [score for score in valid if abs(score - base) > 1e-12]
    better = [score for score in changed if score > base]
    tuned_better = [score for score, _ in tuned if score > base]
    unused = [
        source
        for score, source in model
        if score > 0 and abs(score - base) <= 1e-12 and unreached_functions(source, task.entry)
    ]
    return CandidateCounts(
        len(model), len(valid), len(changed), len(better), len(tuned), len(tuned_better),
        len(unused), len(wired), sum(1 for score, _ in wired if score > base),
    )  # fmt: skip


def token_counts(store: RunStore) -> dict[str, int]:
    prompt, completion, fresh = store.query(
        "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),"
        " COALESCE(SUM(CASE WHEN cached = 0 THEN prompt_tokens + completion_tokens END), 0)"
        " FROM lm_calls"
    )[0]
    return {"prompt": prompt, "completion": completion, "fresh": fresh}


def run_cell(task: str, improver: str, args: argparse.Namespace, config: RunConfig) -> dict:
    """One task x improver: S seeds in one resumable store; returns its JSON row."""
    chosen = get_task(task)
    name = f"{chosen.name}__{Path(improver).stem}"
    out = Path(args.out) / name
    say(f"{name}: {args.seeds} seed(s) ...")
    start = time.monotonic()
    result = compare_improvers(
        [improver], [task], runs=args.seeds, config=config, out_dir=out,
        progress=PrintProgress(name), plot=False,
    )  # fmt: skip
    seconds = first_run_value(out / CELL_FILE, "wall_seconds", time.monotonic() - start)
    (row,) = result["rows"]
    original = result["original"][chosen.name]
    margin = result["original_margin"][chosen.name]
    gains = [test - original for test in row["runs"]]
    store = RunStore(out, read_only=True)
    try:
        counts = candidate_counts(store, chosen)
        tokens = token_counts(store)
    finally:
        store.close()
    cell = {
        "task": chosen.name,
        "improver": row["improver"],
        "seeds": args.seeds,
        "candidates": counts.scored,
        "valid_candidates": counts.valid,
        "valid_rate": counts.valid / counts.scored if counts.scored else None,
        "changed_candidates": counts.changed,
        "better_on_val_candidates": counts.better,
        "unused_function_copies": counts.unused,
        "tuned_variants": counts.tuned,
        "tuned_better_on_val": counts.tuned_better,
        "wired_variants": counts.wired,
        "wired_better_on_val": counts.wired_better,
        "original_test": original,
        "returned_test": row["runs"],
        "mean_test": row["mean_test"],
        "gain_mean": statistics.fmean(gains),
        "gain_ci95": t_interval(gains),
        "verdict": versus(row["mean_test"], row["margin_test"], original, margin),
        "failures": row["failures"],
        "lm_calls": row["lm_calls"],
        "samples": row["samples"],
        "tokens": tokens,
        "wall_seconds": seconds,
        "store": str(out),
    }
    say(f"{name}: done in {seconds:.0f} s; {_line(cell)}")
    return cell


def first_run_value(path: Path, key: str, value: float) -> float:
    """A figure of a unit's first complete run (its wall time, the load beside it), kept in the
    JSON file at `path` under `key` (written now when absent): a resumed, finished unit reports
    it, not what its resume measured."""
    kept = json.loads(path.read_text()) if path.is_file() else {}
    if key not in kept:
        kept[key] = value
        path.write_text(json.dumps(kept) + "\n")
    return float(kept[key])


def _line(cell: dict) -> str:
    rate = "-" if cell["valid_rate"] is None else f"{cell['valid_rate']:.0%}"
    ci = cell["gain_ci95"]
    interval = "n/a (1 seed)" if ci is None else f"[{ci[0]:+.4f}, {ci[1]:+.4f}]"
    return (
        f"valid {cell['valid_candidates']}/{cell['candidates']} ({rate}; changed "
        f"{cell['changed_candidates']}, better on val {cell['better_on_val_candidates']}, "
        f"copies with an unused function {cell.get('unused_function_copies', 0)}; "
        f"tuned {cell['tuned_variants']}, better {cell['tuned_better_on_val']}; wired "
        f"{cell.get('wired_variants', 0)}, better {cell.get('wired_better_on_val', 0)}), test "
        f"{cell['original_test']:.4f} -> {cell['mean_test']:.4f} (gain {cell['gain_mean']:+.4f}, "
        f"95% CI {interval}, {cell['verdict']}), {cell['tokens']['prompt']}+"
        f"{cell['tokens']['completion']} tokens"
    )


def summary(cells: list[dict]) -> dict[str, Any]:
    """Per improver: mean valid rate over the STOP tasks, and verdict counts over all tasks."""
    out: dict[str, Any] = {}
    for improver in dict.fromkeys(c["improver"] for c in cells):
        mine = [c for c in cells if c["improver"] == improver]
        rates = [c["valid_rate"] for c in mine if c["task"] in STOP_TASKS and c["valid_rate"]
                 is not None]  # fmt: skip
        verdicts = [c["verdict"] for c in mine]
        out[improver] = {
            "valid_rate_stop_tasks": statistics.fmean(rates) if rates else None,
            "better": verdicts.count("better"),
            "tie": verdicts.count("tie"),
            "worse": verdicts.count("worse"),
            "ci_above_zero": sum(1 for c in mine if c["gain_ci95"] and c["gain_ci95"][0] > 0),
            "tasks": len(mine),
        }
    return out


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_const", const="quick", dest="profile")
    group.add_argument("--full", action="store_const", const="full", dest="profile")
    parser.add_argument("--model", default="embedded", help="model spec (default: embedded)")
    parser.add_argument("--tasks", help="comma-separated task names (replaces the profile's)")
    parser.add_argument("--task", action="append", default=[], help="a task file; repeatable")
    parser.add_argument("--improvers", help="comma-separated improvers (names or files)")
    parser.add_argument("--seeds", type=int, help="independent runs per task and improver")
    parser.add_argument("--seed", type=int, default=0, help="base seed (shifts every sample)")
    parser.add_argument("--lm-budget", type=int, help="LM calls per run")
    parser.add_argument("--responses", type=int, help="responses per LM call")
    parser.add_argument("--max-tokens", type=int, help="tokens per response")
    parser.add_argument("--utility-budget", type=int, default=0, help="0: the task's own")
    parser.add_argument("--improver-seconds", type=float, default=900.0)
    parser.add_argument(
        "--decoding", default="auto", help="auto | code | plain (for ablations; see RunConfig)"
    )
    parser.add_argument(
        "--no-guidance", action="store_true", help="no runtime contract or meta feedback (ablation)"
    )
    parser.add_argument("--out", help="run stores (default: runs/bench-efficacy-PROFILE)")
    parser.add_argument("--json", help="result file (default: OUT/efficacy.json)")
    args = parser.parse_args(argv)
    profile = PROFILES[args.profile or "default"]
    args.profile = profile.name
    args.tasks = args.tasks.split(",") if args.tasks else list(profile.tasks)
    args.tasks += args.task
    args.improvers = args.improvers.split(",") if args.improvers else list(profile.improvers)
    args.seeds = args.seeds or profile.seeds
    args.lm_budget = args.lm_budget or profile.lm_budget
    args.responses = args.responses or profile.responses
    args.max_tokens = args.max_tokens or profile.max_tokens
    args.out = args.out or f"runs/bench-efficacy-{profile.name}"
    args.json = args.json or str(Path(args.out) / "efficacy.json")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    config = RunConfig(
        model=args.model,
        seed=args.seed,
        lm_budget=args.lm_budget,
        max_responses_per_call=args.responses,
        max_tokens=args.max_tokens,
        utility_budget=args.utility_budget,
        improver_seconds=args.improver_seconds,
        decoding=args.decoding,
        guidance=not args.no_guidance,
    )
    for task in args.tasks:  # every task and improver is checked before any work starts
        get_task(task)
    for improver in args.improvers:
        resolve_improver(improver)
    load_start, started = os.getloadavg(), time.monotonic()
    say(
        f"efficacy ({args.profile}): {len(args.tasks)} task(s) x {len(args.improvers)} "
        f"improver(s) x {args.seeds} seed(s), model {args.model}, load {load_start[0]:.2f}"
    )
    cells = [
        run_cell(task, improver, args, config) for task in args.tasks for improver in args.improvers
    ]
    report = {
        "benchmark": "efficacy",
        "profile": args.profile,
        "command": [sys.argv[0], *(argv if argv is not None else sys.argv[1:])],
        "model": args.model,
        "config": {
            "seed": args.seed,
            "seeds": list(range(args.seeds)),
            "lm_calls": args.lm_budget,
            "responses_per_call": args.responses,
            "max_tokens": args.max_tokens,
            "utility_calls": args.utility_budget or "task default",
            "improver_seconds": args.improver_seconds,
        },
        "interval": "95% Student-t interval of the mean test-score gain over seeds",
        "valid_candidate": "a distinct program scored on val during the runs (not the original)"
        " that scored > 0",
        "cpu_count": os.cpu_count(),
        "load_average": {"start": list(load_start), "end": list(os.getloadavg())},
        "wall_seconds": time.monotonic() - started,
        "cells": cells,
        "summary": summary(cells),
    }
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"efficacy ({args.profile}), model {args.model}, {args.seeds} seed(s), "
        f"load average {load_start[0]:.2f} -> {report['load_average']['end'][0]:.2f}"
    )
    for cell in cells:
        print(
            f"{cell['task']:<22} {cell['improver']:<12} {_line(cell)}, {cell['wall_seconds']:.0f} s"
        )
    for improver, facts in report["summary"].items():
        print(f"{improver}: {json.dumps(facts)}")
    print(f"wrote {args.json} ({report['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SelftaughtError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)

"""bench/bench_efficacy.py end to end on replayed REAL model responses (recorded from
embedded:qwen2.5-coder-0.5b in tests/fixtures/recordings/loop_run.jsonl), with the real scorer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "tests" / "fixtures" / "recordings" / "loop_run.jsonl"
# the budgets the recording was made with (its prompts and sample keys depend on them)
ARGS = [
    "--model", f"replay:{RECORDING}", "--tasks", "parity_noise", "--improvers", "seed",
    "--seeds", "2", "--lm-budget", "1", "--responses", "2", "--max-tokens", "256",
]  # fmt: skip

pytestmark = pytest.mark.skipif(not RECORDING.is_file(), reason="recording missing")


def bench(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "bench_efficacy.py"),
            *ARGS,
            "--out",
            str(out),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_efficacy_on_replayed_responses_and_resume(tmp_path: Path) -> None:
    done = bench(tmp_path / "b")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "b" / "efficacy.json").read_text())
    assert report["model"].startswith("replay:") and report["config"]["seeds"] == [0, 1]
    assert len(report["load_average"]["start"]) == 3 and report["cpu_count"] >= 1
    (cell,) = report["cells"]
    assert cell["task"] == "parity_noise" and cell["improver"] == "seed"
    # with code decoding the 0.5B model's four replies (2 seeds x 2 responses) hold one valid
    # program, as good as the original on test: a tie, with a zero-width interval. (They differed
    # only in the copy of the utility after the program, which the reply's stop strings cut off.)
    assert cell["candidates"] == 1 and cell["valid_candidates"] == 1 and cell["valid_rate"] == 1.0
    original = cell["original_test"]
    assert original > 0 and cell["returned_test"] == [pytest.approx(original)] * 2
    assert cell["verdict"] == "tie" and cell["gain_mean"] == pytest.approx(0.0)
    assert cell["gain_ci95"] == [pytest.approx(0.0), pytest.approx(0.0)]
    assert cell["tokens"]["completion"] > 0 and cell["samples"] == 4
    assert report["summary"]["seed"]["tie"] == 1
    # it scored what the original scores on val, too: a behavioural copy, not a change
    assert cell["changed_candidates"] == 0 and cell["better_on_val_candidates"] == 0
    assert cell["tuned_variants"] == 0  # the paper's seed improver tunes nothing
    assert "parity_noise" in done.stdout and "valid 1/1 (100%; changed 0" in done.stdout
    assert "seed on parity_noise, run 1" in done.stderr  # progress

    again = bench(tmp_path / "b")  # a finished benchmark resumes without redoing anything
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = json.loads((tmp_path / "b" / "efficacy.json").read_text())
    assert resumed["cells"] == report["cells"]
    assert "LM samples" not in again.stderr


def test_a_bad_task_is_one_error_line(tmp_path: Path) -> None:
    done = bench(tmp_path / "c", "--task", str(tmp_path / "missing.py"))
    assert done.returncode == 2 and done.stderr.strip().startswith("error: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_candidates_are_split_into_the_models_tuned_and_wired_variants(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_efficacy import candidate_counts
    from selftaught.store.db import Evaluation, RunStore
    from selftaught.tasks import get_task

    task = get_task("three_sat")
    seed = task.seed_solution
    scores = {
        seed: 0.4,
        seed.replace("range(1000)", "range(2000)"): 0.6,  # tuned, better
        seed.replace("< 0.4", "< 0.7"): 0.3,  # tuned, worse
        seed + "\n# a reformatted copy\n": 0.4,  # the model's, valid, unchanged
        seed + "\ndef local_search(values):\n    return values\n": 0.4,  # unchanged, unused
        seed.replace("values[1:]", "values"): 0.0,  # the model's, invalid
        "def algorithm(clauses, n_vars):\n    return [True] * n_vars\n": 0.5,  # the model's, better
        # refine's wired variant of the unused step: apart, like the tuned ones
        seed.replace("def algorithm(", "def algorithm_base(")
        + "\ndef algorithm(clauses, n_vars):\n    return algorithm_base(clauses, n_vars)\n": 0.45,
        # tuned from the better one; then a candidate one move from the first tuned variant,
        # scored before it: the model's (tuning comes after the model's candidates)
    }
    early = seed.replace("range(1000)", "range(4000)")
    scores = {early: 0.7, **scores}
    store = RunStore(tmp_path)
    for source, score in scores.items():
        sha = store.add_program(source, "solution")
        store.add_evaluation(sha, task.identity, "val", Evaluation(score, 0.0, None))
    counts = candidate_counts(store, task)
    store.close()
    assert (counts.scored, counts.valid, counts.changed, counts.better) == (5, 4, 2, 2)
    assert (counts.tuned, counts.tuned_better) == (2, 1)
    assert counts.unused == 1  # the copy with a function nothing calls
    assert (counts.wired, counts.wired_better) == (1, 1)


def test_functions_the_entry_never_reaches() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_efficacy import unreached_functions

    program = (
        "def helper(x):\n    return inner(x)\n\n"
        "def inner(x):\n    return x\n\n"
        "def algorithm(x):\n    return helper(x)\n\n"
        "def local_search(x):\n    return step(x)\n\n"
        "def step(x):\n    return x\n\n"
        "def main():\n    return 1\n\n"
        "VALUE = main()\n"  # used by top-level code: reached
    )
    assert unreached_functions(program, "algorithm") == {"local_search", "step"}
    assert unreached_functions(program, "missing") == set()
    assert unreached_functions("def algorithm(:", "algorithm") == set()

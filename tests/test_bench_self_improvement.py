"""bench/bench_self_improvement.py end to end on replayed REAL model responses (the 0.5B model's,
recorded in tests/fixtures/recordings/loop_run.jsonl), with the real scorer and sandbox."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from execute_support import RECORDING, write_config

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not RECORDING.is_file(), reason="recording missing")


def bench(config: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    script = str(ROOT / "bench" / "bench_self_improvement.py")
    args = ["--seeds", "1", "--config", str(config), "--out", str(out)]
    return subprocess.run(
        [sys.executable, script, *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_one_seed_is_measured_and_a_finished_seed_resumes_with_its_first_wall_time(
    tmp_path: Path,
) -> None:
    config = write_config(tmp_path)
    done = bench(config, tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((tmp_path / "out" / "self_improvement.json").read_text())
    (row,) = report["rows"]
    # in this recording no candidate improver beat the seed improver: nothing gained
    assert row["initial_test"] == pytest.approx(row["adopted_test"]) and row["test_gain"] == 0
    assert row["returns_its_input"] is None
    # nothing adopted: the transfer would compare one improver with itself, so it is skipped
    assert row["transfer_tasks"] == 0 and row["transfer"] == [] and row["transfer_wins"] == 0
    assert row["transfer_skipped"] and "transfer wins 0/- (nothing adopted)" in done.stdout
    stored = sqlite3.connect(tmp_path / "out" / "seed-0" / "run.sqlite")
    assert stored.execute("SELECT COUNT(*) FROM sessions WHERE task = 'maxcut'").fetchone() == (0,)
    stored.close()
    assert report["overall"]["seeds_with_real_gain"] == 0
    assert report["overall"]["real_gains_by_returning_the_input"] == 0
    assert "returns its input: no" in done.stdout
    again = bench(config, tmp_path / "out")
    assert again.returncode == 0, again.stderr[-2000:]
    resumed = json.loads((tmp_path / "out" / "self_improvement.json").read_text())
    assert resumed["rows"][0]["seconds"] == row["seconds"]  # the first run's, not the resume's
    kept = json.loads((tmp_path / "out" / "seed-0" / "bench_seed.json").read_text())
    assert resumed["rows"][0]["load"] == row["load"] == kept["load"]  # the load beside that run
    assert resumed["rows"][0]["test_gain"] == row["test_gain"]


def test_a_transfer_win_is_a_higher_mean_test_score_than_the_initial_improvers() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_self_improvement import transfer_wins

    rows = [
        {"task": "a", "seed_improver": 0.4, "improved_improver": 0.5},
        {"task": "b", "seed_improver": 0.4, "improved_improver": 0.4},  # a tie is no win
        {"task": "c", "seed_improver": 0.6, "improved_improver": 0.3},
    ]
    assert transfer_wins(rows) == 1

"""`selftaught compare`: arithmetic, the table, the plot, user errors, and a replayed comparison
(REAL 0.5B responses recorded by tests/test_improvers_session.py, stand-in scorer)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.cli.compare_cmd import compare_table
from selftaught.config import RunConfig
from selftaught.search.compare import compare_improvers, save_plot, standard_error
from selftaught.search.plumbing import Plumbing
from selftaught.store.db import Evaluation, RunStore

RECORDINGS = Path(__file__).parent / "fixtures" / "recordings"


def test_standard_error() -> None:
    assert standard_error([0.5]) is None
    assert standard_error([0.2, 0.4]) == pytest.approx(math.sqrt(0.02) / math.sqrt(2))
    assert standard_error([0.3, 0.3, 0.3]) == 0.0


RESULT = {
    "model": "m",
    "runs": 2,
    "budgets": {"lm_calls": 2, "responses_per_call": 2, "max_tokens": 256, "utility_calls": 6},
    "tasks": ["t1", "t2"],
    "improvers": ["seed", "beam"],
    "original": {"t1": 0.1, "t2": 0.2},
    "rows": [
        {
            "improver": i,
            "task": t,
            "mean_test": m,
            "stderr_test": se,
            "lm_calls": 4,
            "samples": 8,
            "failures": f,
        }
        for i, t, m, se, f in [
            ("seed", "t1", 0.5, 0.1, 0),
            ("seed", "t2", 0.25, None, 1),
            ("beam", "t1", 0.75, 0.05, 0),
            ("beam", "t2", 0.125, 0.0, 0),
        ]
    ],
}


def test_table_and_plot(tmp_path: Path) -> None:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(compare_table(RESULT))
    text = console.export_text()
    assert "0.500 ± 0.100" in text and "0.250" in text and "0.750 ± 0.050" in text
    assert "(original)" in text and "LM 2 call(s) x 2" in text and "256 tokens" in text
    beam_line = next(line for line in text.splitlines() if line.lstrip("│ ").startswith("beam"))
    assert "8" in beam_line and "16" in beam_line  # LM calls and samples summed over tasks
    path = save_plot(RESULT, tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_user_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["compare", "--improvers", "nope", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "unknown improver 'nope'" in bad.output
    assert "Traceback" not in bad.output
    twice = runner.invoke(app, ["compare", "--improvers", "beam,beam", "--out", str(tmp_path)])
    assert twice.exit_code == 2 and "given twice" in twice.output
    runs = runner.invoke(app, ["compare", "--runs", "0", "--out", str(tmp_path)])
    assert runs.exit_code == 2 and "runs must be >= 1" in runs.output
    listing = runner.invoke(app, ["compare", "--list"])
    assert listing.exit_code == 0 and "diff_edits" in listing.output


def test_a_directory_holding_another_kind_of_run_is_refused(tmp_path: Path) -> None:
    from selftaught.store.layout import IMPROVE_KEY

    store = RunStore(tmp_path / "improve-run")
    store.set_meta(IMPROVE_KEY, "{}")  # what `improve --out` leaves
    store.close()
    out = CliRunner().invoke(app, ["compare", "--improvers", "beam", "--out", str(store.run_dir)])
    assert out.exit_code == 2 and "holds an improve run, not a comparison" in out.output


def stand_in_score(task: object, source: str, split: str) -> Evaluation:
    from test_improvers_session import stand_in_utility

    score = stand_in_utility(source)
    return Evaluation(score if split == "val" else score / 2, 0.0, None)


REPLAYED = ["beam", "bandit", "diff_edits"]


@pytest.mark.skipif(
    not all((RECORDINGS / f"improvers_{n}.jsonl").is_file() for n in REPLAYED),
    reason="recordings missing",
)
def test_replayed_comparison_is_stored_and_resumable(tmp_path: Path) -> None:
    from selftaught.lm.replay import ReplayBackend
    from test_improvers_session import LM_BUDGET, MAX_TOKENS, UTILITY_BUDGET, WIDTH

    def recorded() -> ReplayBackend:
        backend = ReplayBackend(RECORDINGS / "improvers_beam.jsonl")
        for name in REPLAYED[1:]:  # one table holding every recording
            backend._table.update(ReplayBackend(RECORDINGS / f"improvers_{name}.jsonl")._table)
        return backend

    from loop_support import local_channel_factory

    config = RunConfig(
        model="replay",
        lm_budget=LM_BUDGET,
        max_responses_per_call=WIDTH,
        max_tokens=MAX_TOKENS,
        utility_budget=UTILITY_BUDGET,
        batch_window_seconds=0.05,
        decoding="plain",  # how the recordings were made
        guidance=False,
    )
    plumbing = Plumbing(recorded(), local_channel_factory, stand_in_score)
    result = compare_improvers(
        REPLAYED, ["parity_noise"], runs=1, config=config, out_dir=tmp_path, plumbing=plumbing
    )
    rows = {r["improver"]: r for r in result["rows"]}
    assert set(rows) == set(REPLAYED)
    for row in rows.values():
        assert row["failures"] == 0 and 1 <= row["lm_calls"] <= LM_BUDGET
        assert row["samples"] <= LM_BUDGET * WIDTH and row["stderr_test"] is None
        assert row["mean_test"] >= result["original"]["parity_noise"]  # never worse
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert saved["rows"] == result["rows"] and (tmp_path / "compare.png").is_file()
    store = RunStore(tmp_path)
    assert len(store.query("SELECT key FROM sessions WHERE key LIKE 'compare/%'")) == 3
    assert json.loads(store.get_meta("compare") or "{}")["rows"] == result["rows"]
    store.close()

    # the same comparison again repeats no session and draws no sample
    class Refusing:
        spec = "refusing"
        usage = recorded().usage

        def generate(self, requests: object) -> list:
            raise AssertionError("a finished comparison asked the model again")

    again = compare_improvers(
        REPLAYED,
        ["parity_noise"],
        runs=1,
        config=config,
        out_dir=tmp_path,
        plumbing=Plumbing(Refusing(), local_channel_factory, stand_in_score),
    )
    assert again["rows"] == result["rows"]

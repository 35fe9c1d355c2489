"""`improve_program` when the improver fails: honest JSON (no misleading 0.0), exit code 0."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.cli.app import app
from selftaught.config import RunConfig
from selftaught.search.run import Plumbing, improve_program

CONFIG = RunConfig(model="scripted", max_responses_per_call=2, batch_window_seconds=0.05)
PROGRAM = "def algorithm(a, b, c):\n    return [1 for _ in c]\n"


def improve(tmp_path: Path, improver_source: str) -> dict:
    improver = tmp_path / "improver.py"
    improver.write_text(improver_source)
    plumbing = Plumbing(
        backend=ScriptedBackend("unused"),
        channel_factory=local_channel_factory,
        score_fn=marker_score,
    )
    return improve_program(
        PROGRAM,
        "parity_noise",
        improver=str(improver),
        config=CONFIG,
        out_dir=tmp_path / "run",
        plumbing=plumbing,
    )


def test_a_crashing_improver_reports_no_program_and_no_score(tmp_path: Path) -> None:
    crash = "def improve_algorithm(s, u, l):\n    raise RuntimeError('kaboom')\n"
    result = improve(tmp_path, crash)
    assert result["score_before"] == pytest.approx(0.1)  # marker_score: 0.2 val, test half
    assert result["program"] is None and result["score_after"] is None
    assert result["status"] == "error" and "kaboom" in result["error"]


def test_a_returned_program_is_scored(tmp_path: Path) -> None:
    good = "def improve_algorithm(s, u, l):\n    return s + '# GOOD\\n'\n"
    result = improve(tmp_path, good)
    assert result["program"].endswith("# GOOD\n") and result["error"] is None
    assert result["score_after"] == pytest.approx(0.3)


def test_cli_text_when_no_program_came_back(tmp_path: Path, monkeypatch) -> None:
    import selftaught.search.run as run_module

    def fake(*args, **kwargs) -> dict:
        return {
            "task": "parity_noise",
            "score_before": 0.25,
            "score_after": None,
            "program": None,
            "status": "timeout",
            "error": "improver exceeded its wall-clock limit",
            "lm_calls": 1,
            "lm_budget": 1,
            "samples": 2,
            "circumvention_attempts": 0,
        }

    monkeypatch.setattr(run_module, "improve_program", fake)
    program = tmp_path / "p.py"
    program.write_text(PROGRAM)
    result = CliRunner().invoke(app, ["improve", str(program), "--task", "parity_noise"])
    assert result.exit_code == 0, result.output
    assert "0.250 -> none" in result.output
    assert "no program returned: improver exceeded its wall-clock limit" in result.output

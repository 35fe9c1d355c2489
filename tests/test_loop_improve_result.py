"""`improve_program` never hands back a program worse than its input, and says so plainly."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from loop_support import ScriptedBackend, local_channel_factory, marker_score
from selftaught.cli.app import app
from selftaught.config import RunConfig
from selftaught.search.improve import improve_program
from selftaught.search.plumbing import Plumbing
from selftaught.store.db import Evaluation

CONFIG = RunConfig(model="scripted", max_responses_per_call=2, batch_window_seconds=0.05)
PROGRAM = "def algorithm(a, b, c):\n    return [1 for _ in c]\n"


def improve(tmp_path: Path, improver_source: str, score_fn=marker_score) -> dict:
    improver = tmp_path / "improver.py"
    improver.write_text(improver_source)
    plumbing = Plumbing(
        backend=ScriptedBackend("unused"),
        channel_factory=local_channel_factory,
        score_fn=score_fn,
    )
    return improve_program(
        PROGRAM,
        "parity_noise",
        improver=str(improver),
        config=CONFIG,
        out_dir=tmp_path / "run",
        plumbing=plumbing,
    )


def test_a_crashing_improver_hands_back_the_input(tmp_path: Path) -> None:
    crash = "def improve_algorithm(s, u, l):\n    raise RuntimeError('kaboom')\n"
    result = improve(tmp_path, crash)
    assert result["score_before"] == pytest.approx(0.1)  # marker_score: 0.2 val, test half
    assert result["improved"] is False and result["program"] == PROGRAM
    assert result["score_after"] == result["score_before"]
    assert result["candidate_val"] is None and result["candidate_test"] is None
    assert result["status"] == "error" and "kaboom" in result["error"]
    assert "no program" in result["reason"] and result["changes"] == []


def test_a_better_program_is_handed_back(tmp_path: Path) -> None:
    good = "def improve_algorithm(s, u, l):\n    return s + '# GOOD\\n'\n"
    result = improve(tmp_path, good)
    assert result["program"].endswith("# GOOD\n") and result["error"] is None
    assert result["improved"] is True and result["score_after"] == pytest.approx(0.3)
    assert result["val_before"] == pytest.approx(0.2) and result["val_after"] == pytest.approx(0.6)
    assert result["changes"] == ["`(nothing)` -> `# GOOD`"]  # a comment: only the lines differ


def worse_when_bad(task, source: str, split: str) -> Evaluation:
    """0.2 val for the input, 0.0 for a program with the BAD marker; test is val / 2."""
    val = 0.0 if "BAD" in source else 0.2
    return Evaluation(val if split == "val" else val / 2, 0.0, None)


def test_a_worse_program_is_never_handed_back(tmp_path: Path) -> None:
    bad = "def improve_algorithm(s, u, l):\n    return s + '# BAD\\n'\n"
    result = improve(tmp_path, bad, worse_when_bad)
    assert result["improved"] is False and result["program"] == PROGRAM
    assert result["score_after"] == result["score_before"] == pytest.approx(0.1)
    assert result["candidate_val"] == 0.0 and result["candidate_test"] == 0.0
    assert "scored below the input on val" in result["reason"]


def within_margin(task, source: str, split: str) -> Evaluation:
    """The GOOD program is 0.05 higher on val, but both scores carry a timing margin of 0.1."""
    val = 0.25 if "GOOD" in source else 0.2
    return Evaluation(val if split == "val" else val / 2, 0.0, None, margin=0.1)


def test_a_gain_within_the_timing_margin_is_a_tie(tmp_path: Path) -> None:
    good = "def improve_algorithm(s, u, l):\n    return s + '# GOOD\\n'\n"
    result = improve(tmp_path, good, within_margin)
    assert result["improved"] is False and result["program"] == PROGRAM
    assert result["candidate_val"] == pytest.approx(0.25)
    assert "tied with the input" in result["reason"]


def cli_result(**changes) -> dict:
    """What `improve_program` returns, as the CLI reads it: a run that kept the input."""
    result = {
        "task": "parity_noise",
        "improved": False,
        "reason": "the improver returned no program; the input is kept",
        "score_before": 0.25,
        "score_after": 0.25,
        "program": PROGRAM,
        "changes": [],
        "status": "timeout",
        "error": "improver exceeded its wall-clock limit",
        "lm_calls": 1,
        "lm_budget": 1,
        "samples": 2,
        "circumvention_attempts": 0,
    }
    return {**result, **changes}


def improve_cli(tmp_path: Path, monkeypatch, result: dict, *options: str):
    """`selftaught improve` on PROGRAM, with `improve_program` answering `result`."""
    import selftaught.search.improve as improve_module

    monkeypatch.setattr(improve_module, "improve_program", lambda *a, **k: result)
    program = tmp_path / "p.py"
    program.write_text(PROGRAM)
    return CliRunner().invoke(app, ["improve", str(program), "--task", result["task"], *options])


def test_cli_text_says_plainly_that_nothing_improved(tmp_path: Path, monkeypatch) -> None:
    result = improve_cli(tmp_path, monkeypatch, cli_result())
    assert result.exit_code == 0, result.output
    assert result.stdout == PROGRAM
    assert "0.250 -> 0.250" in result.stderr
    assert "not improved, the program returned is your input unchanged" in result.stderr
    assert "improver: improver exceeded its wall-clock limit" in result.stderr
    target = tmp_path / "out.py"
    written = improve_cli(tmp_path, monkeypatch, cli_result(), "-o", str(target))
    assert written.exit_code == 0 and target.read_text() == PROGRAM


def test_cli_text_says_when_a_val_gain_is_lower_on_test(tmp_path: Path, monkeypatch) -> None:
    kept_on_val = cli_result(
        task="quadratic_assignment",
        improved=True,
        reason="it beats the input on val (0.3511 > 0.3325)",
        score_before=0.3384,
        score_after=0.3334,
        program=PROGRAM + "# tuned\n",
        status="ok",
        error=None,
    )
    result = improve_cli(tmp_path, monkeypatch, kept_on_val)
    assert result.exit_code == 0, result.output
    assert "improved: it beats the input on val" in result.stderr
    assert "on the held-out test split it scores lower (0.3334 < 0.3384)" in result.stderr
    # an honest gain carries no such warning
    honest = improve_cli(tmp_path, monkeypatch, {**kept_on_val, "score_after": 0.35})
    assert honest.exit_code == 0 and "improved: it beats" in honest.stderr
    assert "scores lower" not in honest.stderr

"""Score caching and the `tasks`, `seed` and `score` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import selftaught.sandbox
from selftaught.cli.app import app
from selftaught.tasks import (
    MemoryScoreCache,
    NullScoreCache,
    ScoreResult,
    SqliteScoreCache,
    get_task,
    score_program,
    source_digest,
)

SOLUTIONS = Path(__file__).parent / "fixtures" / "solutions"
RESULT = ScoreResult(
    "maxcut", "val", 0.25, "timed out (first at instance 3)", 1.5, 4, 1, (0.5, 0.5, 0.0, 0.0)
)
runner = CliRunner()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_cache_round_trip(kind: str, tmp_path: Path) -> None:
    cache = MemoryScoreCache() if kind == "memory" else SqliteScoreCache(tmp_path / "s.db")
    key = (source_digest("x = 1"), "maxcut", "val")
    assert cache.get(key) is None
    cache.put(key, RESULT)
    assert cache.get(key) == RESULT
    assert cache.get((key[0], "maxcut", "test")) is None
    assert len(cache) == 1  # type: ignore[arg-type]


def test_sqlite_cache_persists(tmp_path: Path) -> None:
    key = (source_digest("y = 2"), "three_sat", "test")
    SqliteScoreCache(tmp_path / "run" / "scores.db").put(key, RESULT)
    assert SqliteScoreCache(tmp_path / "run" / "scores.db").get(key) == RESULT


def test_score_program_uses_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []
    real = selftaught.sandbox.run_function_many

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(selftaught.sandbox, "run_function_many", counting)
    source = get_task("str_grid_dist").seed_solution + "\n# cache test\n"
    cache = SqliteScoreCache(tmp_path / "scores.db")
    first = score_program("str_grid_dist", source, "val", cache=cache, limit=3)
    second = score_program("str_grid_dist", source, "val", cache=cache, limit=3)
    assert first == second and len(calls) == 1
    score_program("str_grid_dist", source, "val", cache=cache, limit=4)  # another prefix
    assert len(calls) == 2
    score_program("str_grid_dist", source, "val", cache=NullScoreCache(), limit=3)
    assert len(calls) == 3
    assert first.to_json() == {
        "task": "str_grid_dist",
        "split": "val",
        "score": first.score,
        "error": None,
        "seconds": round(first.seconds, 4),
        "instances": 3,
        "timed_out": 0,
        "near_limit": 0,
        "margin": 0.0,
    }


# --- CLI --------------------------------------------------------------------------------------


def test_tasks_command_json() -> None:
    result = runner.invoke(app, ["tasks", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.stdout)
    assert listed[0]["name"] == "parity_noise" and len(listed) == 8
    assert {"circle_packing", "bin_packing"} <= {t["name"] for t in listed}
    maxcut = next(t for t in listed if t["name"] == "maxcut")
    assert maxcut["signature"] == "algorithm(adjacency_matrix) -> list[int]"
    assert maxcut["instances"] == {"val": 100, "test": 100}
    assert maxcut["description"]


def test_tasks_command_text() -> None:
    result = runner.invoke(app, ["tasks"])
    assert result.exit_code == 0
    assert "quadratic_assignment" in result.stdout and "list[int]" in result.stdout


def test_seed_command_prints_the_seed() -> None:
    result = runner.invoke(app, ["seed", "--task", "str_grid_dist"])
    assert result.exit_code == 0
    assert result.stdout == get_task("str_grid_dist").seed_solution


@pytest.mark.parametrize(
    "argv",
    [
        ["seed", "--task", "nope"],
        ["score", "--task", "nope", "x.py"],
        ["score", "--task", "maxcut", "/no/such/file.py"],
        ["score", "--task", "maxcut", "--split", "train", "FILE"],
    ],
)
def test_user_errors_are_one_line_with_exit_2(argv: list[str], tmp_path: Path) -> None:
    program = tmp_path / "p.py"
    program.write_text("def algorithm(a):\n    return []\n")
    argv = [str(program) if a == "FILE" else a for a in argv]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output


def test_score_command_json(tmp_path: Path) -> None:
    program = tmp_path / "solution.py"
    program.write_text((SOLUTIONS / "str_grid_dist_ref.py").read_text())
    result = runner.invoke(app, ["score", "--task", "str_grid_dist", str(program), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    standard = {"task", "split", "score", "error", "seconds", "instances"}
    assert set(data) == standard | {"timed_out", "near_limit", "margin"}
    assert data["timed_out"] == 0 and data["margin"] == data["near_limit"] / 50
    assert data["task"] == "str_grid_dist" and data["split"] == "val"
    assert data["score"] == 1.0 and data["error"] is None and data["instances"] == 50


def test_score_command_text_reports_the_error(tmp_path: Path) -> None:
    program = tmp_path / "broken.py"
    program.write_text("def algorithm(t, dist):\n    return 42\n")
    result = runner.invoke(app, ["score", "--task", "str_grid_dist", str(program)])
    assert result.exit_code == 0
    assert "score 0.0000" in result.stdout and "expected a string" in result.stdout

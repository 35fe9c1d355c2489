"""`new-task`, `--task path/to/task.py` on the CLI, and the docs' worked example end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app

DOCS = Path(__file__).resolve().parents[1] / "docs" / "tasks.md"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def docs_example() -> str:
    """The first python code block after the worked-example heading of docs/tasks.md."""
    text = DOCS.read_text()
    section = text[text.index("### A worked example") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


def docs_seed_with_swaps() -> str:
    """The docs' greedy seed followed by pair swaps that shrink the difference."""
    return (
        "def algorithm(numbers):\n"
        "    sums, g = [0, 0], [0] * len(numbers)\n"
        "    for i in sorted(range(len(numbers)), key=lambda i: -numbers[i]):\n"
        "        side = 0 if sums[0] <= sums[1] else 1\n"
        "        g[i], sums[side] = side, sums[side] + numbers[i]\n"
        "    diff, improved = sums[0] - sums[1], True\n"
        "    while improved:\n"
        "        improved = False\n"
        "        for i in range(len(numbers)):\n"
        "            for j in range(len(numbers)):\n"
        "                new = diff - 2 * numbers[i] + 2 * numbers[j]\n"
        "                if g[i] == 0 and g[j] == 1 and abs(new) < abs(diff):\n"
        "                    g[i], g[j], diff, improved = 1, 0, new, True\n"
        "    return g\n"
    )


def seed_and_score(task_file: Path, tmp_path: Path, *extra: str) -> dict[str, object]:
    code, out, err = invoke("seed", "--task", str(task_file))
    assert code == 0, err
    seed = tmp_path / "seed.py"
    seed.write_text(out)
    code, out, err = invoke("score", str(seed), "--task", str(task_file), "--json", *extra)
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_the_docs_example_works_end_to_end(tmp_path: Path) -> None:
    task_file = tmp_path / "partition.py"
    task_file.write_text(docs_example())
    result = seed_and_score(task_file, tmp_path)
    assert result["task"] == "partition" and result["error"] is None
    assert result["instances"] == 10 and 0.3 < result["score"] < 0.6  # type: ignore[operator]
    # A local search does better than the greedy seed, and a broken answer scores 0.
    better = tmp_path / "better.py"
    better.write_text(docs_seed_with_swaps())
    code, out, _ = invoke("score", str(better), "--task", str(task_file), "--json")
    assert code == 0 and json.loads(out)["score"] > result["score"]  # type: ignore[operator]
    bad = tmp_path / "bad.py"
    bad.write_text("def algorithm(numbers):\n    return [2] * len(numbers)\n")
    code, out, _ = invoke("score", str(bad), "--task", str(task_file))
    assert code == 0 and "score 0.0000" in out and "must be 0 or 1" in out


def test_new_task_works_out_of_the_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke("new-task", "knap")
    assert code == 0, err
    assert "wrote knap.py" in out and "selftaught score seed.py --task knap.py" in out
    text = (tmp_path / "knap.py").read_text()
    assert 'NAME = "knap"' in text and "__NAME__" not in text and "__FILE__" not in text
    result = seed_and_score(tmp_path / "knap.py", tmp_path, "--split", "test")
    assert result["task"] == "knap" and result["error"] is None and result["instances"] == 50
    assert 0.9 < result["score"] < 1.0  # type: ignore[operator]


def test_new_task_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "mine.py"
    target.write_text("# my work\n")
    code, _, err = invoke("new-task", "mine", "--out", str(target))
    assert code == 2 and "already exists; pass --force" in err
    assert target.read_text() == "# my work\n"
    code, _, err = invoke("new-task", "mine", "--out", str(target), "--force")
    assert code == 0, err
    assert 'NAME = "mine"' in target.read_text()


def test_new_task_out_directory_and_bad_names(tmp_path: Path) -> None:
    code, _, _ = invoke("new-task", "in_dir", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "in_dir.py").is_file()
    for bad in ("my task", "1task", "a/b", ""):
        code, _, err = invoke("new-task", bad, "--out", str(tmp_path / "x.py"))
        assert code == 2 and "invalid task name" in err
    code, _, err = invoke("new-task", "ok", "--out", str(tmp_path / "ok.txt"))
    assert code == 2 and "must end in .py" in err


def test_broken_task_file_is_one_clear_line(tmp_path: Path) -> None:
    task_file = tmp_path / "partition.py"
    task_file.write_text(docs_example().replace("TIME_LIMIT_SECONDS = 1.0", "TIME_LIMIT = 1.0"))
    (tmp_path / "seed.py").write_text("def algorithm(numbers):\n    return [0] * len(numbers)\n")
    line = next(
        i for i, text in enumerate(task_file.read_text().splitlines(), 1) if "TIME_LIMIT" in text
    )
    for args in (["seed"], ["score", str(tmp_path / "seed.py")]):
        code, out, err = invoke(*args, "--task", str(task_file))
        assert code == 2 and out == ""
        assert err.strip() == (
            f"error: {task_file.resolve()}:{line}: unknown setting TIME_LIMIT;"
            " did you mean TIME_LIMIT_SECONDS?"
        )


def test_tasks_lists_the_benchmarks_and_score_reports_extras(tmp_path: Path) -> None:
    code, out, _ = invoke("tasks")
    assert code == 0 and "circle_packing" in out and "bin_packing" in out
    code, out, _ = invoke("seed", "--task", "circle_packing")
    (tmp_path / "c.py").write_text(out)
    code, out, _ = invoke("score", str(tmp_path / "c.py"), "--task", "circle_packing", "--json")
    data = json.loads(out)
    assert code == 0 and data["sum_of_radii"] == pytest.approx(26 / 12)
    code, out, _ = invoke("score", str(tmp_path / "c.py"), "--task", "circle_packing")
    assert "sum_of_radii: 2.16667" in out


@pytest.mark.parametrize(
    "command",
    [
        ["improve", "{seed}", "--task", "{task}", "--model", "replay:{tmp}/none.jsonl"],
        ["run", "--task", "{task}", "--out", "{tmp}/run", "--model", "replay:{tmp}/none.jsonl"],
        ["compare", "--tasks", "{task}", "--out", "{tmp}/cmp", "--model", "replay:{tmp}/n.jsonl"],
    ],
)
def test_loop_commands_resolve_task_files(tmp_path: Path, command: list[str]) -> None:
    """improve, run and compare reach get_task with the path: its file:line error comes back."""
    task_file = tmp_path / "partition.py"
    task_file.write_text(docs_example().replace("TIME_LIMIT_SECONDS = 1.0", "TIME_LIMIT = 1.0"))
    seed = tmp_path / "seed.py"
    seed.write_text("def algorithm(numbers):\n    return [0] * len(numbers)\n")
    args = [a.format(seed=seed, task=task_file, tmp=tmp_path) for a in command]
    code, _, err = invoke(*args)
    assert code != 0
    assert f"{task_file.resolve()}:" in err and "did you mean TIME_LIMIT_SECONDS?" in err

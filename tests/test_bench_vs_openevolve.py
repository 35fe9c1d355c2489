"""bench/bench_vs_openevolve.py's pieces that need neither the model nor OpenEvolve: the
checkpoint marks, OpenEvolve's evaluator file and config, its valid fraction and the table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "bench_vs_openevolve", ROOT / "bench" / "bench_vs_openevolve.py"
)
assert _spec is not None and _spec.loader is not None
BENCH = importlib.util.module_from_spec(_spec)
sys.modules["bench_vs_openevolve"] = BENCH
_spec.loader.exec_module(BENCH)


def test_marks_at_25_50_100_samples_or_the_whole_run() -> None:
    assert BENCH.checkpoint_marks(100, 25) == [25, 50, 100]
    assert BENCH.checkpoint_marks(50, 25) == [25, 50]
    assert BENCH.checkpoint_marks(4, 2) == [4]


def test_evaluator_file_is_python_and_calls_the_scorer() -> None:
    text = BENCH.EVALUATOR.format(python=sys.executable, score=BENCH.SCORE_SNIPPET, task="maxcut")
    compile(text, "evaluator.py", "exec")
    compile(BENCH.SCORE_SNIPPET, "snippet", "exec")
    compile(BENCH.DRIVER, "driver", "exec")
    assert "def evaluate(program_path)" in text and "'val'" in BENCH.SCORE_SNIPPET
    config = BENCH.openevolve_config("http://127.0.0.1:1/v1", 100, 25, 0)
    assert "max_iterations: 100" in config and "checkpoint_interval: 25" in config


def test_openevolve_valid_fraction_and_table(tmp_path: Path) -> None:
    programs = tmp_path / "checkpoint_4" / "programs"
    programs.mkdir(parents=True)
    for i, valid in enumerate([1.0, 1.0, 0.0, 1.0, 0.0]):
        parent = None if i == 0 else "p0"  # the input has no parent and does not count
        data = {"parent_id": parent, "metrics": {"valid": valid}}
        (programs / f"{i}.json").write_text(json.dumps(data))
    assert BENCH.valid_share(BENCH.openevolve_programs(programs), 4) == 0.5
    rows = [BENCH.Row("maxcut", "openevolve", {4: 0.5}, 0.5, 120.0)]
    rows.append(BENCH.Row("maxcut", "selftaught-embedded", {4: None}, None, 60.0))
    text = BENCH.table(rows)
    assert "best@4" in text and "0.5000" in text and "50%" in text and "2.0 min" in text


def test_server_decodes_with_every_cpu_like_the_embedded_engine() -> None:
    from selftaught.lm.threads import available_cpus

    cmd = BENCH.server_command(Path("m.gguf"), 4096, 8000)
    threads = str(available_cpus())
    assert cmd[cmd.index("--n_threads") + 1] == threads
    assert cmd[cmd.index("--n_threads_batch") + 1] == threads
    assert cmd[cmd.index("--port") + 1] == "8000"


def test_finished_rows_are_read_back_for_a_resumed_run(tmp_path: Path) -> None:
    from dataclasses import asdict

    row = BENCH.Row("bin_packing", "openevolve", {25: 0.9, 50: None}, 0.25, 600.0)
    path = tmp_path / "results.json"
    path.write_text(json.dumps([asdict(row)]))
    assert BENCH.load_rows(path) == [row]
    assert BENCH.load_rows(tmp_path / "missing.json") == []


def test_openevolve_best_at_a_mark_is_read_from_the_iteration_each_program_was_found() -> None:
    def program(name: str, found: int, score: float) -> dict[str, object]:
        return {"code": name, "iteration_found": found, "metrics": {"combined_score": score}}

    programs = [program("input", 0, 0.8), program("tie", 10, 0.8), program("late", 60, 0.9)]
    assert BENCH.best_by(programs, 25)["code"] == "input"  # a tie keeps the earliest
    assert BENCH.best_by(programs, 50)["code"] == "input"  # found at 60: not yet
    assert BENCH.best_by(programs, 100)["code"] == "late"
    assert BENCH.best_by([], 25) is None


def test_openevolve_row_rescores_the_best_at_each_mark_on_test(tmp_path: Path) -> None:
    from selftaught.tasks import get_task

    seed = get_task("circle_packing").seed_solution
    programs = tmp_path / "output" / "checkpoints" / "checkpoint_4" / "programs"
    programs.mkdir(parents=True)
    found = [(None, 0, seed, 0.82, 1.0), ("p0", 3, "def algorithm(:", 0.0, 0.0)]
    for i, (parent, at, code, score, valid) in enumerate(found):
        data = {"parent_id": parent, "iteration_found": at, "code": code,
                "metrics": {"combined_score": score, "valid": valid}}  # fmt: skip
        (programs / f"{i}.json").write_text(json.dumps(data))
    row = BENCH.openevolve_row("circle_packing", tmp_path, 4, 2, 60.0)
    assert row.best_test == {4: BENCH.test_score("circle_packing", seed)}
    assert row.best_test[4] > 0.8 and row.valid_fraction == 0.0 and row.seconds == 60.0


def test_a_task_file_gets_a_folder_named_after_its_task(tmp_path: Path) -> None:
    from selftaught.tasks.scaffold import new_task_file

    path = new_task_file("knapsack_check", tmp_path / "tasks" / "mine.py")
    out = tmp_path / "runs"
    assert BENCH.task_folder(out, str(path)) == out / "knapsack_check"
    assert BENCH.task_folder(out, "circle_packing") == out / "circle_packing"

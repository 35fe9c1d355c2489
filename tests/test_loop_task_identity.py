"""Task files in the loop: stored by absolute path, and scores keyed by the file's identity."""

from __future__ import annotations

from pathlib import Path

import pytest

from selftaught.config import RunConfig
from selftaught.core.evaluate import Evaluator
from selftaught.search.context import prepare_run_dir
from selftaught.store.db import Evaluation, RunStore
from selftaught.tasks import get_task

TASK = """\
NAME = "{name}"
DESCRIPTION = "{description}"
SIGNATURE = "algorithm(numbers) -> int"
SEED = "def algorithm(numbers):\\n    return numbers[0]\\n"
UTILITY_TEXT = "def utility(algorithm_str):\\n    return 0.0\\n"
SPLIT_SIZES = {{"val": 2, "test": 2}}


def make_instance(rng, split, index):
    numbers = [rng.randint(0, 100) for _ in range(3)]
    return (numbers,), {{"best": max(numbers)}}


def score(instance, answer):
    return 1.0 if answer == instance.hidden["best"] else 0.0
"""


def test_a_task_file_is_stored_by_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    NAME = "loop_stored_task"  # task names are global: one per test
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    work.mkdir()
    elsewhere.mkdir()
    (work / "biggest.py").write_text(
        TASK.format(name=NAME, description="Return the largest number.")
    )
    monkeypatch.chdir(work)
    config = prepare_run_dir(RunConfig(task="biggest.py"), Path("run"), resume=False)
    assert config.task == str(work / "biggest.py")
    # the same relative options start the same run again (idempotent `make run`)
    assert prepare_run_dir(RunConfig(task="biggest.py"), Path("run"), resume=False) == config
    monkeypatch.chdir(elsewhere)
    resumed = prepare_run_dir(RunConfig(), work / "run", resume=True)
    assert resumed.task == str(work / "biggest.py")
    assert get_task(resumed.task).name == NAME


def test_an_edited_task_file_is_scored_afresh(tmp_path: Path) -> None:
    NAME = "loop_edited_task"
    path = tmp_path / "biggest.py"
    calls: list[str] = []

    def score_fn(task, source: str, split: str) -> Evaluation:
        calls.append(task.identity)
        return Evaluation(float(len(calls)), 0.0, None)

    store = RunStore(tmp_path / "run")
    try:
        evaluator = Evaluator(store, score_fn=score_fn)
        program = "def algorithm(numbers):\n    return max(numbers)\n"
        path.write_text(TASK.format(name=NAME, description="Return the largest number."))
        first = get_task(path)
        assert evaluator.evaluate(first, program, "val").score == 1.0
        assert evaluator.evaluate(first, program, "val").score == 1.0  # stored: not rescored
        path.write_text(
            TASK.format(name=NAME, description="Return the largest of the numbers given.")
        )
        edited = get_task(path)
        assert edited.name == first.name and edited.identity != first.identity
        assert evaluator.evaluate(edited, program, "val").score == 2.0
        assert calls == [first.identity, edited.identity]
    finally:
        store.close()

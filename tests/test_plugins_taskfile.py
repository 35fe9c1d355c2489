"""Task files and entry-point plugins: loading, lookup by name, and readable errors."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest

from selftaught.errors import ConfigError
from selftaught.tasks import (
    NullScoreCache,
    get_task,
    list_tasks,
    load_task_file,
    score_program,
    task_reference,
)

# A small task in the documented form; tests derive broken variants from it line by line.
GOOD = """\
from selftaught.tasks import InvalidAnswer

NAME = "{name}"
DESCRIPTION = "Return the largest number."
SIGNATURE = "algorithm(numbers) -> int"
SEED = "def algorithm(numbers):\\n    return numbers[0]\\n"
UTILITY_TEXT = "def utility(algorithm_str):\\n    return 0.0\\n"
SPLIT_SIZES = {{"val": 4, "test": 6}}
TIME_LIMIT_SECONDS = 1.0


def make_instance(rng, split, index):
    numbers = [rng.randint(0, 100) for _ in range(5)]
    return (numbers,), {{"best": max(numbers)}}


def score(instance, answer):
    if not isinstance(answer, int):
        raise InvalidAnswer("expected an int")
    return 1.0 if answer == instance.hidden["best"] else 0.0
"""


def write(tmp_path: Path, text: str, name: str = "mytask.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def variant(tmp_path: Path, old: str, new: str, task: str = "broken") -> Path:
    text = GOOD.format(name=task)
    assert old in text
    return write(tmp_path, text.replace(old, new))


def line_of(path: Path, fragment: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)


def error_of(path: Path | str) -> str:
    with pytest.raises(ConfigError) as info:
        load_task_file(path)
    return str(info.value)


def test_a_task_file_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(name="largest"))
    task = get_task(str(path))
    assert task.name == "largest" and task.entry == "algorithm"
    assert task.split_sizes == {"val": 4, "test": 6}
    assert task.time_limit_seconds == 1.0 and task.memory_bytes == 512 * 1024 * 1024
    assert task.utility_budget == 25 and task.origin == str(path.resolve())
    assert len(task.make_instances("test")) == 6
    # Found by name afterwards (the run store keeps only names), and by a Path too.
    assert get_task("largest") is task
    assert get_task(path) is task
    assert task_reference(str(path)) == str(path.resolve())
    assert task_reference("maxcut") == "maxcut"


def test_task_file_scores_in_the_sandbox(tmp_path: Path) -> None:
    task = get_task(str(write(tmp_path, GOOD.format(name="largest2"))))
    seed = score_program(task, task.seed_solution, "val", cache=NullScoreCache())
    best = score_program(task, "def algorithm(numbers):\n    return max(numbers)\n", "val")
    assert best.score == 1.0 and best.error is None
    assert 0.0 <= seed.score < 1.0
    wrong = score_program(task, "def algorithm(numbers):\n    return 'x'\n", "val")
    assert wrong.score == 0.0 and wrong.error is not None and "expected an int" in wrong.error


def test_instances_depend_on_split_and_are_reproducible(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(name="largest3"))
    first = load_task_file(path).make_instances("val")
    again = load_task_file(path).make_instances("val")
    assert [i.args for i in first] == [i.args for i in again]
    test = load_task_file(path).make_instances("test")
    assert {json.dumps(i.args) for i in first}.isdisjoint(json.dumps(i.args) for i in test)


def test_editing_the_file_changes_identity_and_is_reloaded(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.format(name="edited"))
    before = get_task(str(path))
    path.write_text(path.read_text().replace('"val": 4', '"val": 3') + "\n# edited\n")
    after = get_task(str(path))
    assert after.split_sizes["val"] == 3 and before.identity != after.identity


def test_full_task_object_form(tmp_path: Path) -> None:
    text = (
        "from dataclasses import replace\n"
        "from selftaught.tasks import get_task\n"
        "TASK = replace(get_task('maxcut'), name='maxcut_copy')\n"
    )
    task = load_task_file(write(tmp_path, text))
    assert task.name == "maxcut_copy" and task.entry == "algorithm" and task.digest


@pytest.mark.parametrize(
    ("definition", "what"),
    [
        ("NAME = ", "missing NAME"),
        ("DESCRIPTION = ", "missing DESCRIPTION"),
        ("SIGNATURE = ", "missing SIGNATURE"),
        ("UTILITY_TEXT = ", "missing UTILITY_TEXT"),
        ("SEED = ", "missing SEED"),
        ("def make_instance(", "missing make_instance"),
        ("def score(", "missing score"),
    ],
)
def test_missing_names_are_named(tmp_path: Path, definition: str, what: str) -> None:
    lines = GOOD.format(name="broken").splitlines(keepends=True)
    if definition.startswith("def "):  # rename the function: nothing defines it any more
        text = "".join(lines).replace(definition, definition.replace("def ", "def unused_"))
    else:  # drop the assignment's line
        text = "".join(line for line in lines if not line.startswith(definition))
    message = error_of(write(tmp_path, text))
    assert message.startswith(f"{(tmp_path / 'mytask.py').resolve()}: {what} (")
    assert "no line of the task file defines it" in message


@pytest.mark.parametrize(
    ("old", "new", "fragment", "expect"),
    [
        (
            "TIME_LIMIT_SECONDS = 1.0",
            'TIME_LIMIT_SECONDS = "1s"',
            "TIME_LIMIT_SECONDS",
            "TIME_LIMIT_SECONDS must be a positive number",
        ),
        ("TIME_LIMIT_SECONDS = 1.0", "TIME_LIMIT_SECONDS = -1", "TIME_LIMIT_SECONDS", "positive"),
        (
            'SPLIT_SIZES = {"val": 4, "test": 6}',
            'SPLIT_SIZES = {"val": 4}',
            "SPLIT_SIZES",
            'SPLIT_SIZES must be {"val": 20, "test": 50}',
        ),
        ('NAME = "broken"', "NAME = 3", "NAME =", "NAME must be a non-empty string"),
        ('NAME = "broken"', 'NAME = "my task"', "NAME =", "must start with a letter"),
        ('NAME = "broken"', 'NAME = "maxcut"', "NAME =", "built-in task"),
        (
            "def make_instance(rng, split, index):",
            "def make_instance(rng, index):",
            "def make_instance",
            "make_instance must take 3 arguments",
        ),
        (
            "def score(instance, answer):",
            "def score(answer):",
            "def score",
            "score must take 2 arguments",
        ),
        ('SEED = "def algorithm', 'SEED = "def solve', "SEED =", "never defines 'algorithm'"),
        ('SEED = "def algorithm', 'SEED = "def algorithm(:', "SEED =", "syntax error"),
        (
            "TIME_LIMIT_SECONDS = 1.0",
            "TIME_LIMIT = 1.0",
            "TIME_LIMIT",
            "unknown setting TIME_LIMIT; did you mean TIME_LIMIT_SECONDS?",
        ),
        (
            "TIME_LIMIT_SECONDS = 1.0",
            "TIME_LIMIT_SECONDS = 1.0 +",
            "TIME_LIMIT_SECONDS",
            "syntax error in task file",
        ),
        (
            "TIME_LIMIT_SECONDS = 1.0",
            "TIME_LIMIT_SECONDS = undefined_name",
            "TIME_LIMIT_SECONDS",
            "raised NameError while loading",
        ),
        (
            "from selftaught.tasks import InvalidAnswer",
            "import no_such_module_here",
            "import no_such",
            "ModuleNotFoundError",
        ),
        ("TIME_LIMIT_SECONDS = 1.0", "TASK = 42", "TASK = 42", "TASK must be a selftaught"),
    ],
)
def test_errors_name_file_line_and_problem(
    tmp_path: Path, old: str, new: str, fragment: str, expect: str
) -> None:
    path = variant(tmp_path, old, new)
    message = error_of(path) if "maxcut" not in new else _get_error(path)
    assert f"{path.resolve()}:{line_of(path, fragment)}:" in message
    assert expect in message
    assert "\n" not in message


def _get_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        get_task(str(path))
    return str(info.value)


def test_bad_instances_are_reported_at_the_make_instance_line(tmp_path: Path) -> None:
    path = variant(tmp_path, '    return (numbers,), {"best": max(numbers)}', "    return numbers")
    task = load_task_file(path)
    with pytest.raises(ConfigError) as info:
        task.make_instances("val")
    assert f"{path.resolve()}:{line_of(path, 'def make_instance')}:" in str(info.value)
    assert "must return a pair (args, hidden)" in str(info.value)
    path = variant(
        tmp_path,
        '    return (numbers,), {"best": max(numbers)}',
        "    return (set(numbers),), {}",
        task="broken2",
    )
    with pytest.raises(ConfigError, match="plain JSON data"):
        load_task_file(path).make_instances("val")
    path = variant(tmp_path, "    numbers = [", "    numbers = 1 / 0 or [", task="broken3")
    with pytest.raises(ConfigError) as info:
        load_task_file(path).make_instances("test")
    assert f":{line_of(path, 'numbers = 1 / 0')}: make_instance('test', index 0) raised" in str(
        info.value
    )


def test_a_crashing_score_function_points_at_its_line(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        '    return 1.0 if answer == instance.hidden["best"] else 0.0',
        '    return 1.0 if answer == instance.hidden["nope"] else 0.0',
    )
    task = load_task_file(path)
    score, problem = task.judge(task.make_instances("val")[0], 5)
    assert score == 0.0 and problem is not None
    assert f"score() at {path.resolve()}:{line_of(path, 'nope')} raised KeyError" in problem


def test_a_score_returning_no_number_is_reported(tmp_path: Path) -> None:
    path = variant(
        tmp_path, '    return 1.0 if answer == instance.hidden["best"] else 0.0', "    return None"
    )
    task = load_task_file(path)
    _, problem = task.judge(task.make_instances("val")[0], 5)
    assert problem is not None and "returned None" in problem and "number in [0, 1]" in problem


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "does not exist" in error_of(tmp_path / "nope.py")
    assert "is a directory" in error_of(tmp_path)
    with pytest.raises(ConfigError, match=r"task file .*nope\.py does not exist"):
        get_task(str(tmp_path / "nope.py"))


def test_two_files_with_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    get_task(str(write(tmp_path / "a", GOOD.format(name="twin"))))
    with pytest.raises(ConfigError, match="already loaded from"):
        get_task(str(write(tmp_path / "b", GOOD.format(name="twin"))))


def test_unknown_name_mentions_task_files() -> None:
    with pytest.raises(ConfigError, match="or a task file"):
        get_task("no_such_task")


def make_plugin(root: Path, dist: str, entry: str, module: str, text: str) -> None:
    """An installed-looking distribution on sys.path with one selftaught.tasks entry point."""
    (root / f"{module}.py").write_text(text)
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[selftaught.tasks]\n{entry} = {module}\n")


def test_entry_point_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_plugin(tmp_path, "goodplugin", "plugged", "plugged_task", GOOD.format(name="plugged"))
    make_plugin(tmp_path, "badplugin", "broken_plugin", "broken_task", "NAME = 'broken_plugin'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    task = get_task("plugged")
    assert task.name == "plugged" and task.origin.endswith("plugged_task.py")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = [t.name for t in list_tasks()]
    assert "plugged" in names and "broken_plugin" not in names and "maxcut" in names
    assert any("broken_plugin" in str(w.message) and "missing" in str(w.message) for w in caught)
    with pytest.raises(ConfigError, match=r"missing DESCRIPTION .*; SIGNATURE .*; score "):
        get_task("broken_plugin")

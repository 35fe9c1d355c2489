"""The kit's objective cut from a utility's code (kit_objective.py), run from the `helpers` source
the sandbox gets, on the built-in tasks' utility texts and on task files'."""

from __future__ import annotations

import math
import types
from pathlib import Path
from typing import Any

import pytest

from selftaught.core.session import helpers_source
from selftaught.tasks import get_task, load_task_file
from selftaught.tasks.scaffold import new_task_file, render_task_file
from test_improvers_logic import load

TSP = Path(__file__).parent.parent / "bench" / "tasks" / "tsp.py"


def _template_utility() -> str:
    """The utility text of the task file `selftaught new-task` writes: a knapsack whose optimum is
    filled in by a loop after it is bound."""
    namespace: dict[str, Any] = {}
    exec(render_task_file("mine"), namespace)
    return str(namespace["UTILITY_TEXT"])


KNAPSACK = _template_utility()


@pytest.fixture(scope="module")
def kit() -> dict[str, Any]:
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    return helpers.__dict__


def objective(kit: dict[str, Any], text: str, entry: str) -> Any:
    """The derived function itself, defined beside the utility text's own helpers and imports."""
    source = kit["derived_objective"](text, entry)
    assert source is not None
    namespace: dict[str, Any] = {}
    exec(compile(text + "\n\n" + source, "utility", "exec"), namespace)
    return namespace["objective"]


def test_a_task_files_objective_scores_an_answer_as_its_scorer_does(kit: dict[str, Any]) -> None:
    task = load_task_file(TSP)
    score = objective(kit, task.utility_text, task.entry)
    instance = task.make_instances("val", limit=1)[0]
    (points,) = instance.args
    tour = list(range(len(points)))[::-1]
    assert math.isclose(score(points, tour), task.score_answer(instance, tour))
    assert score(points, [0] * len(points)) == 0.0  # not a permutation: rejected, not raised


def test_what_fills_a_needed_value_in_after_it_is_bound_comes_along(kit: dict[str, Any]) -> None:
    score = objective(kit, KNAPSACK, "algorithm")
    weights, values, rest = [10, 20, 30, *[100] * 27], [30, 40, 50, *[1] * 27], [0] * 27
    assert score(weights, values, 30, [1, 1, 0, *rest]) == 1.0  # best: 70 from items 0 and 1
    assert score(weights, values, 30, [0, 0, 1, *rest]) == 50 / 70
    assert score(weights, values, 30, [1, 1, 1, *rest]) == 0.0  # over the capacity
    assert score(weights, values, 30, [1, 1]) == 0.0  # not one choice per item
    source = kit["derived_objective"](KNAPSACK, "algorithm")
    assert source.startswith("def objective(weights, values, capacity, chosen):")
    assert "random" not in source and "capacity = sum" not in source  # the instance is an input


def test_a_counted_success_and_a_utility_without_a_loop_give_objectives(
    kit: dict[str, Any],
) -> None:
    sat = get_task("three_sat")
    solved = objective(kit, sat.utility_text, sat.entry)
    assert solved([[1, 2, -3], [-1, 2, 3]], 3, [True, True, False]) == 1
    assert solved([[1, 2, 3]], 3, [False, False, False]) == 0.0
    circles = get_task("circle_packing")
    packed = objective(kit, circles.utility_text, circles.entry)
    seed: dict[str, Any] = {}
    exec(circles.seed_solution, seed)
    assert math.isclose(packed(seed["algorithm"]()), 26 / 12 / 2.635)
    assert packed([[0.5, 0.5, 0.6]] * 26) == 0.0  # leaves the square


def test_no_objective_where_the_score_needs_hidden_truth_or_the_shape_differs(
    kit: dict[str, Any],
) -> None:
    derive = kit["derived_objective"]
    for name in ("parity_noise", "parity_noiseless"):  # the labels come from a random secret
        assert derive(get_task(name).utility_text, "algorithm") is None
    assert derive(get_task("maxcut").utility_text, "algorithm") is None  # called on A.tolist()
    assert derive(get_task("bin_packing").utility_text, "priority") is None
    assert derive("def utility(:\n", "algorithm") is None
    assert derive(KNAPSACK, "solve") is None  # no call of that entry
    # the objective's name is not one the utility's text already uses
    taken = "def objective(x):\n    return x\n" + KNAPSACK
    assert derive(taken, "algorithm").startswith("def objective_(weights,")


def test_refine_names_the_objective_shows_it_and_copies_it_into_a_program_that_calls_it() -> None:
    ns = load("refine")
    ns["extract"].__globals__["ENTRY"] = "algorithm"
    utility = types.SimpleNamespace(str=KNAPSACK)
    found = ns["objective_of"](utility)
    assert found.startswith("def objective(weights, values, capacity, chosen):")
    message = ns["tactic_message"]("def algorithm(w, v, c):\n    return []\n", 0.5, utility,
                                   ns["TACTICS"][0], found)  # fmt: skip
    assert "judged by calling objective(weights, values, capacity, chosen)" in message
    assert found in message and ns["JUDGED"] not in message
    program = "def algorithm(w, v, c):\n    return objective(w, v, c, [0])\n"
    assert found.strip() in ns["add_utility_helpers"](program, utility, found)
    ns["OBJECTIVE"] = False
    assert ns["objective_of"](utility) == ""
    assert ns["JUDGED"] in ns["tactic_message"]("p", 0.5, utility, ns["TACTICS"][0], "")


def test_the_task_file_a_user_starts_from_gets_an_objective(
    kit: dict[str, Any], tmp_path: Path
) -> None:
    task = load_task_file(new_task_file("mine", tmp_path / "mine.py"))
    score = objective(kit, task.utility_text, task.entry)
    instance = task.make_instances("val", limit=1)[0]
    weights, values, capacity = instance.args
    nothing = [0] * len(weights)
    assert score(list(weights), list(values), capacity, nothing) == 0.0
    greedy = {"algorithm": None}
    exec(task.seed_solution, greedy)
    chosen = greedy["algorithm"](list(weights), list(values), capacity)
    assert math.isclose(
        score(list(weights), list(values), capacity, chosen), task.score_answer(instance, chosen)
    )

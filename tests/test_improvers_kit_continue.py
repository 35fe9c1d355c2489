"""The kit's continued replies (kit_continue.py), run from the `helpers` source the sandbox gets,
and `Budgets.ask` sending their starts to a model with and without the `reply_starts` extension."""

from __future__ import annotations

import types
from typing import Any

import pytest

from selftaught.core.session import helpers_source

PROGRAM = """import random


def helper(xs):
    return list(xs)


def algorithm(xs):
    best = helper(xs)
    random.shuffle(best)
    return best
"""


@pytest.fixture(scope="module")
def kit() -> dict[str, Any]:
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    return helpers.__dict__


def test_a_continuation_stops_before_the_last_functions_final_return(kit: dict[str, Any]) -> None:
    start = kit["continuation"](PROGRAM, "local search: keep what gets better.")
    assert start.endswith(
        "    random.shuffle(best)\n\n    # New step: local search: keep what gets better.\n"
    )
    assert "return best" not in start and start.startswith("import random")
    # no continuation when the program does not end a function with a return, or cannot parse
    assert kit["continuation"]("def algorithm(xs):\n    print(xs)\n", "s") is None
    assert kit["continuation"]("def algorithm(:\n", "s") is None
    assert kit["continuation"]("x = 1\n", "s") is None
    # the entry must be the program's last statement: a helper after it is not continued
    assert kit["continuation"](PROGRAM + "\n\ndef later():\n    return 1\n", "s") is not None
    kit["ENTRY"] = "algorithm"  # as the harness sets it
    try:
        assert kit["continuation"](PROGRAM + "\n\ndef later():\n    return 1\n", "s") is None
        assert kit["continuation"](PROGRAM, "s") is not None
    finally:
        del kit["ENTRY"]


def test_a_second_step_is_cut_and_the_programs_own_return_closes_the_first(
    kit: dict[str, Any],
) -> None:
    start = kit["continuation"](PROGRAM, "local search")
    body = "    best.sort()\n\n    # New step: another\n    best = None\n    return best\n```\n"
    closed = kit["close_step"]("```python\n" + start + body, PROGRAM)
    code = kit["extract"](closed)
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    assert namespace["algorithm"]([3, 1, 2]) == [1, 2, 3]  # the first step kept, the second cut
    assert "another" not in code
    one_step = "```python\n" + start + "    best.sort()\n    return best\n```\n"
    assert kit["close_step"](one_step, PROGRAM) == one_step


OBJECTIVE = "def objective(xs, order):\n    return float(order == sorted(xs))\n"


def test_a_returned_expression_is_named_after_the_objectives_answer(kit: dict[str, Any]) -> None:
    program = "def algorithm(xs):\n    order = 1\n    return sorted(\n        xs\n    )\n"
    named = kit["named_return"](program, OBJECTIVE)
    assert named.endswith("    order_ = sorted(\n        xs\n    )\n    return order_\n")
    namespace: dict[str, Any] = {}
    exec(named, namespace)
    assert namespace["algorithm"]([2, 1]) == [1, 2]  # the same program
    assert kit["named_return"]("def algorithm(xs):\n    return xs[0]\n", "").count("answer") == 2
    assert kit["named_return"](PROGRAM, OBJECTIVE) == PROGRAM  # it returns a name already
    assert kit["named_return"]("def algorithm(xs):\n    print(xs)\n", OBJECTIVE).endswith(
        "print(xs)\n"
    )


def test_the_objective_is_called_on_the_entrys_own_names(kit: dict[str, Any]) -> None:
    assert kit["objective_call"](PROGRAM, OBJECTIVE) == "objective(xs, best)"
    # a returned expression, another arity, or no objective: no call
    assert kit["objective_call"]("def algorithm(xs):\n    return xs[:]\n", OBJECTIVE) is None
    assert kit["objective_call"]("def algorithm(xs, k):\n    return xs\n", OBJECTIVE) is None
    assert kit["objective_call"](PROGRAM, "") is None


def test_a_returned_parameter_gets_a_name_of_its_own(kit: dict[str, Any]) -> None:
    # a step that reassigns the answer must not change the input the objective is called on
    named = kit["named_return"]("def algorithm(t, dist):\n    return t\n", OBJECTIVE)
    assert named.endswith("    order = t\n    return order\n")


def test_the_cpu_limit_is_read_from_the_runtime_contract(kit: dict[str, Any]) -> None:
    from selftaught.tasks import get_task
    from selftaught.tasks.contract import shown_utility_text

    assert kit["cpu_limit"](shown_utility_text(get_task("maxcut"))) == 0.1
    assert kit["cpu_limit"](shown_utility_text(get_task("circle_packing"))) == 30.0
    assert kit["cpu_limit"]("def utility(s):\n    return 1.0\n") is None


SEARCHED = """import random


def algorithm(xs):
    best = list(xs)
    random.shuffle(best)
    return best
"""


def test_a_search_start_writes_the_loop_and_leaves_the_change_to_the_model(
    kit: dict[str, Any],
) -> None:
    start = kit["search_start"](SEARCHED, OBJECTIVE, 0.04)
    assert start.startswith(SEARCHED.split("    return best")[0].rstrip())
    assert "value = objective(xs, candidate)" in start and "return best" not in start
    assert start.endswith(
        "    best_value = objective(xs, best)\n"
        "    stop_at = time.process_time() + 0.04\n"
        "    while time.process_time() < stop_at:\n"
        "        candidate = copy.deepcopy(best)\n"
    )
    # what a model writes there runs, within the time, and keeps only what the objective favours
    reply = start + (
        "        i = random.randrange(len(candidate))\n"
        "        candidate[i] = -candidate[i]\n"
        "        value = objective(xs, candidate)\n"
        "        if value > best_value:\n"
        "            best, best_value = candidate, value\n"
    )
    code = kit["end_with_return"](reply, SEARCHED)
    namespace: dict[str, Any] = {}
    smaller = "def objective(xs, order):\n    return -sum(order)\n"  # higher when negated
    exec("import copy, time\n" + code + "\n" + smaller, namespace)
    assert sorted(namespace["algorithm"]([3, 1, 2])) == [-3, -2, -1]


def test_no_search_start_where_the_scaffold_would_be_wrong(kit: dict[str, Any]) -> None:
    assert kit["search_start"](SEARCHED, OBJECTIVE, 0) is None
    assert kit["search_start"](SEARCHED, "", 0.1) is None
    # the entry's own `objective` would answer the scaffold's call
    shadowing = SEARCHED.replace("    best = ", "    objective = len\n    best = ")
    assert kit["search_start"](shadowing, OBJECTIVE, 0.1) is None
    # the scaffold's names never overwrite the program's
    taken = SEARCHED.replace("    best = ", "    candidate = 1\n    best = ")
    assert "candidate_ = copy.deepcopy(best)" in kit["search_start"](taken, OBJECTIVE, 0.1)


def test_a_sequence_is_changed_at_random_positions_and_a_str_as_a_list(
    kit: dict[str, Any],
) -> None:
    from selftaught.tasks import get_task
    from selftaught.tasks.contract import shown_utility_text

    assert kit["declared_return"](shown_utility_text(get_task("str_grid_dist"))) == "str"
    assert kit["declared_return"](shown_utility_text(get_task("maxcut"))) == "list"
    assert kit["declared_return"]("def utility(s):\n    return 1.0\n") == ""
    program = "def algorithm(t):\n    s = t[::-1]\n    return s\n"
    objective = "def objective(t, s):\n    return float(s.count('B'))\n"
    start = kit["search_start"](program, objective, 0.02, returns="str")
    pair = "        i, j = random.randrange(len(candidate)), random.randrange(len(candidate))\n"
    assert start.endswith("        candidate = list(s)\n" + pair)
    assert (
        "change element i of `candidate` (flip it or move it, or swap it with element j)" in start
    )
    assert '`s, best_value = "".join(candidate), value`' in start
    reply = start + (
        "        candidate[i] = 'B'\n"
        '        value = objective(t, "".join(candidate))\n'
        "        if value > best_value:\n"
        '            s, best_value = "".join(candidate), value\n'
    )
    namespace: dict[str, Any] = {}
    exec("import copy, random, time\n" + kit["end_with_return"](reply, program) + objective,
         namespace)  # fmt: skip
    assert namespace["algorithm"]("AAAB") == "BBBB"
    # a list: the same position, copied deeply; an answer of no declared type: no position
    listed = kit["search_start"](SEARCHED, OBJECTIVE, 0.02, returns="list")
    assert listed.endswith("        candidate = copy.deepcopy(best)\n" + pair)
    assert "random.randrange" not in kit["search_start"](SEARCHED, OBJECTIVE, 0.02, returns="int")


def test_a_reply_that_stopped_inside_the_loop_gets_the_programs_return(
    kit: dict[str, Any],
) -> None:
    cut = "def algorithm(xs):\n    best = xs\n    while False:\n        pass\n"
    assert kit["end_with_return"](cut, SEARCHED).endswith("        pass\n    return best\n")
    assert kit["end_with_return"](SEARCHED, SEARCHED) == SEARCHED  # it returns already
    assert kit["end_with_return"]("def other():\n    pass\n", SEARCHED).endswith("pass\n")
    assert kit["end_with_return"]("def algorithm(:\n", SEARCHED) == "def algorithm(:\n"


class Model:
    """Records how `Budgets.ask` calls `batch_prompt`; `extension` says whether it takes starts."""

    budget = 3
    max_responses_per_call = 2

    def __init__(self, extension: bool) -> None:
        self.extension = extension
        self.seen: list[dict[str, Any]] = []

    def batch_prompt(self, expertise: str, messages: list[str], temperature: float = 0.7,
                     **options: Any) -> list[str]:  # fmt: skip
        if options and not self.extension:
            raise TypeError("batch_prompt() got an unexpected keyword argument 'reply_starts'")
        self.seen.append({"messages": messages, **options})
        return [f"reply {i}" for i in range(len(messages))]


class Utility:
    budget = 10
    uses = 0


@pytest.mark.parametrize("extension", [True, False])
def test_budgets_ask_sends_starts_when_the_model_takes_them(
    kit: dict[str, Any], extension: bool
) -> None:
    model = Model(extension)
    budgets = kit["Budgets"](Utility(), model)
    replies = budgets.ask(["a", "b", "c"], 0.5, starts=[None, "def f():\n", "dropped"])
    assert replies == ["reply 0", "reply 1"] and budgets.lm_used == 1
    expected = {"messages": ["a", "b"]}
    if extension:
        expected["reply_starts"] = [None, "def f():\n"]
    assert model.seen == [expected]
    budgets.ask(["a"], 0.5)  # no starts: the paper's call
    assert model.seen[-1] == {"messages": ["a"]}


def test_a_type_error_without_starts_is_a_failed_call_not_a_second_one(kit: dict[str, Any]) -> None:
    calls = []

    class Broken(Model):
        def batch_prompt(self, *args: Any, **options: Any) -> list[str]:
            calls.append(options)
            raise TypeError("something else went wrong")

    budgets = kit["Budgets"](Utility(), Broken(extension=True))
    assert budgets.ask(["a"], 0.5) == [] and len(calls) == 1
    budgets.ask(["a"], 0.5, starts=["x"])  # with starts: one retry, without them
    assert [("reply_starts" in c) for c in calls[1:]] == [True, False]


def test_a_new_version_is_started_below_the_program_whose_entry_is_renamed(
    kit: dict[str, Any],
) -> None:
    program = PROGRAM + "\n\ndef twice(xs):\n    return algorithm(xs) + algorithm(xs)\n"
    start = kit["versioned_start"](program, "a stronger classic algorithm.")
    assert start.endswith(
        '\n\n\ndef algorithm(xs):\n    """Improved version of `algorithm_v0`: a stronger classic '
        'algorithm."""\n'
    )
    old = start[: start.rindex("\n\n\ndef algorithm(")]
    assert "def algorithm_v0(xs):" in old and "return algorithm_v0(xs) + algorithm_v0(xs)" in old
    assert "algorithm(" not in old.replace("algorithm_v0(", "")
    # the reply goes on from there; the new version can call the old one
    reply = start + "    best = algorithm_v0(xs)\n    return sorted(best)\n"
    namespace: dict[str, Any] = {}
    exec(reply, namespace)
    assert namespace["algorithm"]([3, 1, 2]) == [1, 2, 3]
    # a name already taken is not reused; no start without an entry on lines of its own
    taken = kit["versioned_start"]("algorithm_v0 = 1\n\ndef algorithm(xs):\n    return xs\n", "")
    assert '"""Improved version of `algorithm_v0_`."""' in taken
    assert kit["versioned_start"]("def algorithm(xs): return xs\n", "n") is None
    assert kit["versioned_start"]("def other(xs):\n    return xs\n", "n") is None
    assert kit["versioned_start"]("def algorithm(:\n", "n") is None

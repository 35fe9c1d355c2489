"""Failures explained in the contract's terms: NameErrors for names of the shown utility."""

from __future__ import annotations

from dataclasses import replace

import pytest

from selftaught.tasks import get_task
from selftaught.tasks.hints import explain_failure, failing_line, utility_names


def name_error(name: str) -> str:
    return f"error: NameError: name '{name}' is not defined"


def test_the_names_a_utility_binds_each_have_their_kind() -> None:
    names = utility_names("import random as rnd\n\ndef utility(s):\n    n = 3\n    return n\n")
    assert names == {"rnd": "import", "utility": "function", "s": "name", "n": "name"}
    assert utility_names("def broken(:") == {}


def test_each_kind_of_utility_name_gets_its_own_cause() -> None:
    task = get_task("three_sat")
    said = {n: explain_failure(name_error(n), task) for n in ("utility", "random", "solved")}
    assert (
        "utility() is the utility's own function, so the program cannot call it" in said["utility"]
    )
    assert "the utility imports random; the program must import it itself" in said["random"]
    assert "'solved' is the utility's, so the program cannot use it" in said["solved"]
    for text in said.values():
        assert text.startswith("error: NameError: name ")  # the original message comes first


def test_a_parameter_of_the_entry_function_is_passed_not_looked_up() -> None:
    said = explain_failure(name_error("clauses"), get_task("three_sat"))
    assert said.endswith("('clauses' is a parameter of algorithm(): pass it to what uses it)")


def test_other_failures_are_left_as_they_are() -> None:
    task = get_task("three_sat")
    for detail in (name_error("rng"), "error: ValueError: boom", "timed out: 0.1 s"):
        assert explain_failure(detail, task) == detail


def test_the_hint_follows_the_task_s_own_utility_text() -> None:
    task = replace(get_task("three_sat"), utility_text="def utility(s):\n    secret = 1\n")
    assert "'secret' is the utility's" in explain_failure(name_error("secret"), task)
    assert explain_failure(name_error("solved"), task) == name_error("solved")


TRACEBACK = """Traceback (most recent call last):
  File "<candidate>", line 7, in algorithm
    return helper(1)
           ^^^^^^^^^
  File "<candidate>", line 4, in helper
    return x + n_train
               ^^^^^^^
  File "/usr/lib/python3.11/random.py", line 9, in choice
    raise IndexError('Cannot choose from an empty sequence')
NameError: name 'n_train' is not defined"""


def test_the_failing_line_is_the_innermost_of_the_candidate_s_own() -> None:
    assert failing_line(TRACEBACK) == "in helper(): `return x + n_train`"
    top = 'Traceback:\n  File "<candidate>", line 1, in <module>\n    import sklearn\nError'
    assert failing_line(top) == "at the top level: `import sklearn`"
    assert failing_line("timed out: exceeded the 0.1 s CPU-time limit") is None
    long = TRACEBACK.replace("x + n_train", "x" * 300)
    assert failing_line(long) == f"in helper(): `return {'x' * 90}...`"


@pytest.mark.timeout(20)
def test_a_hostile_error_of_blank_lines_is_searched_in_linear_time() -> None:
    # With `\s*` in the frame pattern this took about 850 s (quadratic); blanks only: milliseconds.
    assert failing_line("\n" * 1_000_000 + " " * 100_000) is None

"""The `evolve` improver's logic: the MAP-Elites grid, islands and migration, prompts, edits,
repairs, budgets, never-worse and determinism, with fake utilities and models."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from selftaught.improvers.catalog import get_improver
from test_improvers_logic import load

EVOLVE = load("evolve")
EVOLVE_SOURCE = get_improver("evolve").source()
SOLUTION = "def algorithm(x):\n    return x\n"


def program(k: int, loops: int = 0) -> str:
    body = "".join("    for _ in range(1):\n        x = x\n" for _ in range(loops))
    return f"def algorithm(x):\n{body}    return x + {k}\n"


class Utility:
    """Scores `return x + k` programs k/100 (the input 0.05); counts calls, errors on `crash`."""

    str = "def utility(algorithm_str): ..."

    def __init__(self, budget: int = 100) -> None:
        self.budget, self.uses, self.last_error = budget, 0, None
        self.seen: list[str] = []

    def __call__(self, source: str) -> float:
        if self.uses >= self.budget:
            raise RuntimeError("utility budget exhausted")
        self.uses += 1
        self.seen.append(source)
        self.last_error = "ZeroDivisionError: division by zero" if "crash" in source else None
        if self.last_error:
            return 0.0
        match = re.search(r"return x \+ (\d+)", source)
        return int(match[1]) / 100 if match else 0.05


class LM:
    """Answers each message with `script(call, i, message)`; logs prompts and temperatures."""

    def __init__(self, budget: int, width: int = 3, script=None) -> None:
        self.budget, self.max_responses_per_call = budget, width
        self.calls: list[tuple[float, list[str]]] = []
        self.script = script or (lambda call, i, message: f"```python\n{program(call * 10 + i)}```")

    def batch_prompt(self, expertise: str, messages: list[str], temperature: float = 0.7):
        if len(self.calls) >= self.budget:
            raise RuntimeError("language-model budget exhausted")
        assert len(messages) <= self.max_responses_per_call
        self.calls.append((temperature, list(messages)))
        return [self.script(len(self.calls), i, m) for i, m in enumerate(messages)]


# -- the grid and the islands -----------------------------------------------------------------
def test_features_bin_size_and_control_flow() -> None:
    assert EVOLVE["features"](SOLUTION) == (0, 0)
    assert EVOLVE["features"](program(1, loops=3)) == (1, 2)
    assert EVOLVE["features"]("def f(:\n") == (0, 0)  # unparsable: no control flow counted


def test_grid_keeps_the_best_of_each_cell_and_skips_failures() -> None:
    db = EVOLVE["Database"](2)
    a = db.add(program(1), 0.1, 0)
    b = db.add(program(2), 0.3, 1)
    c = db.add(program(3), 0.2, 0)
    big = db.add(program(4, loops=3), 0.05, 1)
    failed = db.add(program(5), 0.9, 0, error="SyntaxError")
    assert db.grid == {(0, 0): b, (1, 2): big}
    assert db.islands == [[a, c], [b, big]]
    assert failed not in db.valid() and db.errors == ["SyntaxError"]
    assert db.add(program(2) + "\n", 0.3, 0) == b  # the same code again is no new entry
    assert db.best() == b and db.best(0) == c


def test_migration_passes_each_islands_best_along_the_ring() -> None:
    db = EVOLVE["Database"](3)
    a = db.add(program(1), 0.1, 0)
    b = db.add(program(2), 0.2, 1)
    db.migrate()
    assert db.islands == [[a], [b, a], [b]]
    db.migrate()  # island 2 now holds b, which travels on to island 0
    assert db.islands == [[a, b], [b, a], [b]]
    db.migrate()  # nothing new: no duplicates
    assert db.islands == [[a, b], [b, a], [b]]


def test_parents_come_from_their_island_and_inspirations_from_elsewhere() -> None:
    import random

    db = EVOLVE["Database"](2)
    low = db.add(program(1), 0.1, 0)
    high = db.add(program(9), 0.9, 1)
    other_cell = db.add(program(3, loops=3), 0.3, 1)
    rng = random.Random(0)
    assert {db.parent(0, rng) for _ in range(20)} == {low}
    shown = db.inspirations(low, 0, rng, k=5)
    assert low not in shown and set(shown) == {high, other_cell}
    assert shown == db.ranked(shown)


# -- edits and diagnosis ------------------------------------------------------------------------
def test_candidate_applies_edits_or_falls_back_to_the_code() -> None:
    edit = "Idea.\n<<<<<<< SEARCH\nreturn x\n=======\nreturn x * 2\n>>>>>>> REPLACE\n"
    assert EVOLVE["candidate"](SOLUTION, edit) == "def algorithm(x):\n    return x * 2\n"
    unclosed = "<<<<<<< SEARCH\n    return x\n=======\n    return -x\n```"
    assert "return -x" in EVOLVE["candidate"](SOLUTION, unclosed)
    rewrite = "```python\ndef algorithm(x):\n    return 3\n```"
    assert EVOLVE["candidate"](SOLUTION, rewrite) == "def algorithm(x):\n    return 3"
    missing = "<<<<<<< SEARCH\nnot there\n=======\nx = 1\n>>>>>>> REPLACE"
    assert EVOLVE["candidate"](SOLUTION, missing) == ""
    # the kit's tolerant application (shared with diff_edits): a SEARCH line with a typo still
    # finds its line, and a new SEARCH closes an unclosed block before it
    typo = "<<<<<<< SEARCH\n    retrun x\n=======\n    return x + 1\n>>>>>>> REPLACE"
    assert EVOLVE["candidate"](SOLUTION, typo).endswith("    return x + 1")


def test_diagnose_finds_static_failures() -> None:
    diagnose = EVOLVE["diagnose"]
    assert EVOLVE["entry_of"](SOLUTION) == ("algorithm", 1)
    assert diagnose("", "algorithm", 1) == "the reply contained no code block"
    assert diagnose("def algorithm(x)\n    pass", "algorithm", 1).startswith("SyntaxError")
    assert "does not define" in diagnose("def other(x):\n    pass", "algorithm", 1)
    assert "takes 2 parameters" in diagnose("def algorithm(x, y):\n    pass", "algorithm", 1)
    assert diagnose(SOLUTION, "algorithm", 1) is None


# -- the whole search ---------------------------------------------------------------------------
def test_rounds_rotate_islands_and_prompts_show_parent_scores_and_inspirations() -> None:
    utility, lm = Utility(), LM(6)
    result = EVOLVE["improve_algorithm"](SOLUTION, utility, lm)
    assert [t for t, _ in lm.calls] == [0.6, 0.8, 1.0, 0.6, 0.8, 1.0]
    # the best reply of all (62), then its constant doubled while that paid, with the utility
    # budget left after the LM's (tune_constants)
    steps = int(re.search(r"return x \+ (\d+)", result)[1]) / 62
    assert result.startswith("def algorithm(x):") and steps > 1 and math.log2(steps).is_integer()
    assert program(62).rstrip("\n") in utility.seen
    last = lm.calls[-1][1][0]
    assert "Other solutions, with their scores" in last and "Here is the current solution" in last
    assert last.index("Other solutions") < last.index("Here is the current solution")


def test_failures_are_shown_and_repaired_once() -> None:
    def script(call: int, i: int, message: str) -> str:
        if call == 1:
            return "```python\ndef algorithm(x):\n    return crash\n```"
        return f"```python\n{program(call * 10 + i)}```"

    utility, lm = Utility(), LM(3, width=2, script=script)
    EVOLVE["improve_algorithm"](SOLUTION, utility, lm)
    second = lm.calls[1][1]
    assert "This solution fails: ZeroDivisionError" in second[0]  # a repair first
    assert "ZeroDivisionError" in second[1] and "Recent attempts failed" in second[1]
    repairs = [m for _, ms in lm.calls for m in ms if m.count("This solution fails")]
    assert len(repairs) == 1  # the crash, twice in one call, is one entry repaired once


@pytest.mark.parametrize(("u_budget", "lm_budget", "width"), [(5, 10, 3), (40, 4, 4), (1, 5, 2)])
def test_budgets_respected(u_budget: int, lm_budget: int, width: int) -> None:
    utility, lm = Utility(u_budget), LM(lm_budget, width)
    EVOLVE["improve_algorithm"](SOLUTION, utility, lm)
    assert utility.uses <= u_budget and len(lm.calls) <= lm_budget
    assert len(set(utility.seen)) == len(utility.seen)  # no program scored twice


def test_never_worse_than_the_input() -> None:
    lm = LM(4, script=lambda call, i, m: "```python\ndef algorithm(x):\n    return x + 1\n```")
    assert EVOLVE["improve_algorithm"](SOLUTION, Utility(), lm) == SOLUTION


def test_deterministic_given_the_same_answers_and_scores() -> None:
    runs = []
    for _ in range(2):
        lm = LM(9, width=3)
        result = EVOLVE["improve_algorithm"](SOLUTION, Utility(), lm)
        runs.append((result, lm.calls))
    assert runs[0] == runs[1]


def test_edit_prompts_stop_when_replies_never_hold_edits() -> None:
    lm = LM(30, width=4)  # replies are always whole programs (as with code decoding)
    EVOLVE["improve_algorithm"](SOLUTION, Utility(200), lm)
    asked = [m for _, ms in lm.calls for m in ms if "<<<<<<< SEARCH" in m]
    assert 1 <= len(asked) <= EVOLVE["EDIT_TRIALS"]

    def edits(call: int, i: int, message: str) -> str:
        k = call * 10 + i
        return f"<<<<<<< SEARCH\n    return x\n=======\n    return x + {k}\n>>>>>>> REPLACE"

    lm = LM(30, width=4, script=edits)
    result = EVOLVE["improve_algorithm"](SOLUTION, Utility(200), lm)
    asked = [m for _, ms in lm.calls for m in ms if "<<<<<<< SEARCH" in m]
    assert len(asked) > EVOLVE["EDIT_TRIALS"] and "return x + " in result


def test_stop_runs_with_evolve_as_the_initial_improver(tmp_path: Path) -> None:
    """STOP can improve the evolver itself: `run --initial-improver evolve` (scripted model)."""
    from loop_support import ScriptedBackend, local_channel_factory, marker_score
    from selftaught.config import RunConfig
    from selftaught.search.plumbing import Plumbing
    from selftaught.search.run import run_stop
    from selftaught.store.db import sha256_text

    config = RunConfig(model="scripted", iterations=1, runs=1, max_responses_per_call=2,
                       meta_utility_budget=1, batch_window_seconds=0.05,
                       initial_improver="evolve")  # fmt: skip
    lazy = "def improve_algorithm(initial_solution, utility, language_model):\n    return 1"
    plumbing = Plumbing(backend=ScriptedBackend(lazy), channel_factory=local_channel_factory,
                        score_fn=marker_score)  # fmt: skip
    summary = run_stop(config, tmp_path, plumbing=plumbing)
    first = summary["iterations"][0]
    assert first["improver_sha256"] == sha256_text(EVOLVE_SOURCE)
    assert first["meta_utility_val"] == 0.6  # evolve found the scripted GOOD answers
    assert len(summary["iterations"]) == 2

"""The kit's wiring of a step a reply wrote and never called (kit_wiring.py), run from the
`helpers` source the sandbox gets. The replies are shaped as the 1.5B model's were."""

from __future__ import annotations

import types
from typing import Any

import pytest

from selftaught.core.session import helpers_source

PARENT = '''def algorithm(numbers):
    """Greedy: each number into the group with the smaller sum so far."""
    sums, groups = [0, 0], []
    for n in numbers:
        side = 0 if sums[0] <= sums[1] else 1
        groups.append(side)
        sums[side] += n
    return groups
'''

# The entry is the parent's; the asked-for step sits below it, never called.
STEP_ON_THE_ANSWER = (
    PARENT
    + '''

def local_search(numbers, groups, rounds=2):
    """Move one number to the other group while that narrows the gap."""
    groups = list(groups)
    for _ in range(rounds):
        for i in range(len(numbers)):
            gap = sum(n if g else -n for n, g in zip(numbers, groups))
            if abs(gap - 2 * numbers[i] * (1 if groups[i] else -1)) < abs(gap):
                groups[i] = 1 - groups[i]
    return groups
'''
)

NEW_ENTRY_BESIDE = (
    PARENT
    + """

def flip_all(groups):
    return [1 - g for g in groups]


def algorithm_flipped(numbers):
    return flip_all(algorithm(numbers))
"""
)


@pytest.fixture(scope="module")
def kit() -> dict[str, Any]:
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    return helpers.__dict__


def entry_of(program: str) -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(program, "candidate", "exec"), namespace)
    return namespace["algorithm"]


def test_a_step_on_the_answer_gets_the_old_entrys_answer(kit: dict[str, Any]) -> None:
    wired = kit["wired_variant"](STEP_ON_THE_ANSWER, PARENT)
    assert wired.endswith(
        "def algorithm(numbers):\n"
        "    return local_search(numbers=numbers, groups=algorithm_base(numbers))\n"
    )
    numbers = [1, 1, 2]
    greedy = entry_of(PARENT)(numbers)  # [0, 1, 0]: sums 3 and 1
    searched = entry_of(wired)(numbers)
    assert searched != greedy
    assert abs(sum(n if g else -n for n, g in zip(numbers, searched, strict=True))) == 0


def test_a_new_entry_beside_the_old_one_is_called_and_its_use_of_the_old_one_kept(
    kit: dict[str, Any],
) -> None:
    wired = kit["wired_variant"](NEW_ENTRY_BESIDE, PARENT)
    assert "return flip_all(algorithm_base(numbers))" in wired  # not a call of itself
    assert wired.endswith("    return algorithm_flipped(numbers=numbers)\n")
    assert entry_of(wired)([5, 4]) == [1, 0]


def test_nothing_to_wire(kit: dict[str, Any]) -> None:
    wire = kit["wired_variant"]
    assert wire(PARENT, PARENT) is None  # nothing new
    assert wire(STEP_ON_THE_ANSWER, STEP_ON_THE_ANSWER) is None  # the parent had the function
    old_version = PARENT.replace("def algorithm(", "def algorithm_v0(") + "\n\n" + PARENT
    assert wire(old_version, PARENT) is None  # an earlier version is not a step
    two_unknowns = PARENT + "\n\ndef mix(groups, weights):\n    return groups\n"
    assert wire(two_unknowns, PARENT) is None  # which one is the answer?
    star = "def algorithm(*numbers):\n    return []\n\n\ndef step(groups):\n    return groups\n"
    assert wire(star, "") is None
    assert wire("def algorithm(:\n", PARENT) is None
    # a copy of the utility's objective shown with the utility is not a step either
    objective = "def objective(numbers, groups):\n    return 0.0\n"
    assert wire(PARENT + "\n\n" + objective, PARENT + "\n\n" + objective) is None
    assert wire(PARENT + "\n\n" + objective, PARENT) is not None


def test_a_step_that_uses_the_entrys_parameters_without_having_them_gets_them(
    kit: dict[str, Any],
) -> None:
    # the 1.5B model's shape: `numbers` is the entry's, a NameError inside the step as written
    borrowing = PARENT + (
        "\n\ndef local_search(groups, rounds=1):\n"
        "    best = min(numbers)\n"
        "    return [1 - g if n == best else g for n, g in zip(numbers, groups)][:rounds * 99]\n"
    )
    wired = kit["wired_variant"](borrowing, PARENT)
    assert "def local_search(groups, rounds=1, *, numbers):" in wired
    assert wired.endswith(
        "    return local_search(groups=algorithm_base(numbers), numbers=numbers)\n"
    )
    assert entry_of(wired)([1, 1, 2]) == [1, 0, 0]  # greedy [0, 1, 0], the 1s flipped
    no_parameters = PARENT + "\n\ndef better():\n    return [0] * len(numbers)\n"
    wired = kit["wired_variant"](no_parameters, PARENT)
    assert "def better(*, numbers):" in wired and entry_of(wired)([3, 4]) == [0, 0]
    starred = PARENT + "\n\ndef step(groups, *more):\n    return numbers\n"
    assert kit["wired_variant"](starred, PARENT) is None  # cannot take `numbers` by name

"""The kit's mechanical repairs (kit_repairs.py), run from the `helpers` source the sandbox gets."""

from __future__ import annotations

import types
from typing import Any

import pytest

from selftaught.core.session import helpers_source


@pytest.fixture(scope="module")
def kit() -> dict[str, Any]:
    helpers = types.ModuleType("helpers")
    exec(compile(helpers_source(), "helpers.py", "exec"), helpers.__dict__)
    return helpers.__dict__


def run(code: str, *args: Any) -> Any:
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["algorithm"](*args)


WRAPPED = '''def algorithm(xs):
    """The first version."""
    return sorted(xs)

def helper(xs):
    return algorithm(xs)[::-1]  # written against the first version

def algorithm(xs):  # "improved": builds on the first version
    best = algorithm(xs)
    return best if best[0] <= helper(xs)[0] else helper(xs)
'''


def test_a_version_that_calls_the_one_before_it_calls_that_one(kit: dict[str, Any]) -> None:
    with pytest.raises(RecursionError):
        run(WRAPPED, [3, 1, 2])
    fixed = kit["rename_shadowed_versions"](WRAPPED)
    assert "def algorithm_v1(xs):" in fixed
    assert "return algorithm_v1(xs)[::-1]  # written against the first version" in fixed
    assert "best = algorithm_v1(xs)" in fixed and fixed.count("def algorithm(xs):") == 1
    assert run(fixed, [3, 1, 2]) == [1, 2, 3]


def test_three_versions_each_build_on_the_one_before(kit: dict[str, Any]) -> None:
    code = (
        "def algorithm(n):\n    return n if n < 2 else algorithm(n - 1) + 1\n\n"  # recursion
        "def algorithm(n):\n    return algorithm(n) * 10\n\n"
        "def algorithm(n):\n    return algorithm(n) + 7\n"
    )
    fixed = kit["rename_shadowed_versions"](code)
    assert "def algorithm_v1(n)" in fixed and "algorithm_v1(n - 1)" in fixed
    assert "return algorithm_v1(n) * 10" in fixed and "return algorithm_v2(n) + 7" in fixed
    assert run(fixed, 3) == 37  # v1(3) = 3, v2(3) = 30, then + 7


def test_functions_defined_once_or_never_used_again_are_left_alone(kit: dict[str, Any]) -> None:
    fix = kit["rename_shadowed_versions"]
    recursive = "def algorithm(n):\n    return 1 if n == 0 else n * algorithm(n - 1)\n"
    assert fix(recursive) == recursive
    replaced = "def algorithm(x):\n    return 1\n\ndef algorithm(x):\n    return 2\n"
    assert fix(replaced) == replaced  # the first version is dead code, not a mistake
    taken = "algorithm_v1 = 5\n" + WRAPPED
    assert "def algorithm_v1_(xs):" in fix(taken)  # a name the program uses is not reused
    assert fix("def algorithm(:") == "def algorithm(:"


def test_numpy_calls_on_generators_get_lists(kit: dict[str, Any]) -> None:
    code = (
        "import numpy as xp\n"
        "def algorithm(a):\n"
        "    total = xp.sum(v * v for v in a)  # é keeps its bytes\n"
        "    top = xp.max((v for v in a), axis=0)\n"
        "    mean = xp.mean(v\n"
        "                   for v in a)\n"
        "    return float(total), int(top), float(mean), sum(v for v in a)\n"
    )
    with pytest.raises(TypeError):  # numpy 2: np.sum(generator) raises
        run(code, [1, 2, 3])
    fixed = kit["list_for_numpy_generators"](code)
    assert "xp.sum([v * v for v in a])  # é keeps its bytes" in fixed
    assert "xp.max(([v for v in a]), axis=0)" in fixed
    assert "sum(v for v in a)\n" in fixed  # the builtin takes generators: untouched
    assert run(fixed, [1, 2, 3]) == (14.0, 3, 2.0, 6)
    plain = "def algorithm(a):\n    return max(v for v in a)\n"
    assert kit["list_for_numpy_generators"](plain) == plain  # no numpy imported


def test_extract_applies_the_repairs_and_hostile_input_is_left_alone(kit: dict[str, Any]) -> None:
    reply = "```python\ndef algorithm(a):\n    return np.sum(x for x in a)\n```"
    code = kit["extract"](reply)
    assert code.startswith("import numpy as np\n") and "np.sum([x for x in a])" in code
    assert run(code, [1, 2]) == 3
    deep = "x = " + "(" * 200_000 + ")" * 200_000 + "\n"
    assert kit["repair_known_mistakes"](deep) == deep

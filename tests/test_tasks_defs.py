"""Task definitions: registry, deterministic hidden splits, graders and answer validation."""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import os
import random
import subprocess
import sys

import pytest

from selftaught.errors import ConfigError
from selftaught.tasks import (
    Instance,
    get_task,
    list_tasks,
    maxcut,
    quadratic_assignment,
    str_grid_dist,
    task_names,
    three_sat,
)

NAMES = [
    "parity_noise",
    "parity_noiseless",
    "str_grid_dist",
    "quadratic_assignment",
    "three_sat",
    "maxcut",
]
BENCHMARKS = ["circle_packing", "bin_packing"]


def digest(instances: tuple[Instance, ...]) -> str:
    payload = [(i.index, i.args, dict(i.hidden)) for i in instances]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


def test_registry_lists_the_built_in_tasks() -> None:
    assert task_names() == NAMES + BENCHMARKS
    assert [t.name for t in list_tasks()] == NAMES + BENCHMARKS
    assert get_task("maxcut").entry == "algorithm"


def test_unknown_task_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        get_task("max_cut")
    assert "max_cut" in str(info.value)
    for name in NAMES:
        assert name in str(info.value)


def test_unknown_split_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="valid splits"):
        get_task("three_sat").make_instances("train")


@pytest.mark.parametrize("name", NAMES)
def test_task_metadata_is_complete(name: str) -> None:
    task = get_task(name)
    assert task.description and task.utility_text and task.signature.startswith("algorithm(")
    assert 0 < task.time_limit_seconds <= 2 and task.utility_budget > 0
    assert set(task.split_seeds) == {"val", "test"}
    assert task.split_seeds["val"] != task.split_seeds["test"]
    ast.parse(task.utility_text)  # the LM-visible scorer is valid Python
    tree = ast.parse(task.seed_solution)
    defined = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert task.entry in defined


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_deterministic_distinct_and_sized(name: str) -> None:
    task = get_task(name)
    sizes = task.split_sizes
    if name != "maxcut":  # (maxcut's 200 graphs take seconds to build; a prefix will do)
        assert len(task.make_instances("val")) == sizes["val"]
        assert len(task.make_instances("test")) == sizes["test"]
    val, test = task.make_instances("val", 30), task.make_instances("test", 30)
    assert len(val) == min(30, sizes["val"]) and len(test) == min(30, sizes["test"])
    assert val == task.make_instances("val", 30)
    assert all(a is b for a, b in zip(val, task.make_instances("val", 30), strict=True))
    assert task.make_instances("test", 3) == test[:3]
    val_args = {json.dumps(i.args) for i in val}
    assert not val_args & {json.dumps(i.args) for i in test}
    assert len(val_args) == len(val)


def test_instances_are_identical_in_a_fresh_process() -> None:
    script = (
        "import hashlib, json\n"
        "from selftaught.tasks import get_task\n"
        "for name in ('parity_noise', 'three_sat', 'quadratic_assignment'):\n"
        "    inst = get_task(name).make_instances('test')\n"
        "    data = [(i.index, i.args, dict(i.hidden)) for i in inst]\n"
        "    print(hashlib.sha256(json.dumps(data).encode()).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    names = ("parity_noise", "three_sat", "quadratic_assignment")
    here = [digest(get_task(n).make_instances("test")) for n in names]
    assert out == here


def test_instances_cannot_be_mutated() -> None:
    instance = get_task("maxcut").make_instances("val", 1)[0]
    with pytest.raises(TypeError):
        instance.args[0][0][1] = 99  # type: ignore[index]
    with pytest.raises(TypeError):
        instance.hidden["upper_bound"] = 0  # type: ignore[index]


# --- parity -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["parity_noise", "parity_noiseless"])
def test_parity_accuracy_and_shape_hack(name: str) -> None:
    task = get_task(name)
    instance = task.make_instances("val", 1)[0]
    truth = list(instance.hidden["test_labels"])
    assert task.score_answer(instance, truth) == 1.0
    assert task.score_answer(instance, [1 - y for y in truth]) == 0.0
    half = [1 - y if i % 2 else y for i, y in enumerate(truth)]
    assert task.score_answer(instance, half) == 0.5
    assert task.score_answer(instance, [bool(y) for y in truth]) == 1.0
    # The reference's reward hack: a wrongly shaped prediction broadcast against the labels.
    assert task.score_answer(instance, [[y] for y in truth]) == 0.0
    assert task.score_answer(instance, [truth] * len(truth)) == 0.0
    assert task.score_answer(instance, truth + truth) == 0.0
    assert task.score_answer(instance, truth[:-1]) == 0.0
    assert task.score_answer(instance, [2] * len(truth)) == 0.0
    assert task.score_answer(instance, "0" * len(truth)) == 0.0
    assert task.score_answer(instance, None) == 0.0
    score, problem = task.judge(instance, truth[:-1])
    assert score == 0.0 and problem is not None and f"{len(truth)}" in problem


def test_parity_labels_follow_the_secret() -> None:
    task = get_task("parity_noiseless")
    for instance in task.make_instances("val"):
        train, labels, test = instance.args
        secret = instance.hidden["secret"]
        assert all(
            sum(a * b for a, b in zip(x, secret, strict=False)) % 2 == y
            for x, y in zip(train, labels, strict=False)
        )
        assert len(train) == 100 and len(test) == len(instance.hidden["test_labels"]) == 20


# --- string grid distance ---------------------------------------------------------------------


def test_grid_dist_definition() -> None:
    assert str_grid_dist.grid_dist("AB", "AB") == 2  # one change inside each string
    assert str_grid_dist.grid_dist("AA", "BB") == 2  # two mismatches
    assert str_grid_dist.grid_dist("ABA", "AAA") == 3


def test_str_grid_dist_scoring() -> None:
    task = get_task("str_grid_dist")
    instance = Instance(0, ("AAAA", 3))
    assert task.score_answer(instance, "ABAA") == 1.0  # 1 mismatch + 2 changes inside s
    assert task.score_answer(instance, "AAAA") == pytest.approx(0.5 - 3 / 24)
    for bad in ("AAA", "ABCA", "abaa", 1234, ["A", "B", "A", "A"], None):
        score, problem = task.judge(instance, bad)
        assert score == 0.0 and problem


def test_str_grid_dist_instances_are_achievable() -> None:
    # Every target distance is that of some string: check by brute force on the short ones.
    for instance in get_task("str_grid_dist").make_instances("val"):
        t, dist = instance.args
        if len(t) <= 10:
            strings = ("".join(p) for p in itertools.product("AB", repeat=len(t)))
            assert any(str_grid_dist.grid_dist(s, t) == dist for s in strings)


# --- quadratic assignment ---------------------------------------------------------------------


def _small_qap(n: int, seed: int) -> tuple[list[list[float]], ...]:
    rng = random.Random(seed)
    return tuple([[rng.random() for _ in range(n)] for _ in range(n)] for _ in range(3))


@pytest.mark.parametrize("seed", range(5))
def test_qap_baseline_is_the_exact_mean_and_the_bound_is_valid(seed: int) -> None:
    F, D, P = _small_qap(6, seed)
    costs = [quadratic_assignment.cost(F, D, P, list(p)) for p in itertools.permutations(range(6))]
    assert quadratic_assignment.random_cost(F, D, P) == pytest.approx(sum(costs) / len(costs))
    assert quadratic_assignment.lower_bound(F, D, P) <= min(costs) + 1e-9


def test_qap_scoring_direction_and_validation() -> None:
    task = get_task("quadratic_assignment")
    instance = task.make_instances("val", 1)[0]
    rng = random.Random(0)
    random_scores = []
    for _ in range(200):
        perm = list(range(15))
        rng.shuffle(perm)
        random_scores.append(task.score_answer(instance, perm))
    assert sum(random_scores) / len(random_scores) < 0.1  # random assignments: about 0
    # A better (lower-cost) assignment scores higher.
    F, D, P = instance.args
    ranked = sorted((quadratic_assignment.cost(F, D, P, p), p) for p in _random_perms(rng, 300))
    best, worst = ranked[0][1], ranked[-1][1]
    assert task.score_answer(instance, best) > task.score_answer(instance, worst)
    for bad in ([0] * 15, list(range(14)), list(range(1, 16)), [0.5] * 15, "0123", None):
        score, problem = task.judge(instance, bad)
        assert score == 0.0 and problem
    assert task.score_answer(instance, [float(i) for i in best]) == task.score_answer(
        instance, best
    )


def _random_perms(rng: random.Random, count: int) -> list[list[int]]:
    perms = []
    for _ in range(count):
        perm = list(range(15))
        rng.shuffle(perm)
        perms.append(perm)
    return perms


# --- 3-SAT ------------------------------------------------------------------------------------


def test_three_sat_instances_are_planted_and_well_formed() -> None:
    for instance in get_task("three_sat").make_instances("val"):
        clauses, n = instance.args
        assert 5 <= n <= 50 and len(clauses) == 4 * n
        assert all(
            len({abs(lit) for lit in c}) == 3 and all(1 <= abs(lit) <= n for lit in c)
            for c in clauses
        )
        assert three_sat.satisfies(clauses, list(instance.hidden["planted"]))


def test_three_sat_scoring() -> None:
    task = get_task("three_sat")
    instance = task.make_instances("val", 1)[0]
    clauses, n = instance.args
    planted = [bool(v) for v in instance.hidden["planted"]]
    assert task.score_answer(instance, planted) == 1.0
    assert task.score_answer(instance, [not v for v in planted]) in (0.0, 1.0)
    unsatisfying = next(
        v for v in _assignments(n) if not three_sat.satisfies(clauses, [int(x) for x in v])
    )
    assert task.score_answer(instance, unsatisfying) == 0.0
    for bad in (planted[:-1], [*planted, True], ["yes"] * n, None, {"1": True}):
        score, problem = task.judge(instance, bad)
        assert score == 0.0 and problem


def _assignments(n: int):  # type: ignore[no-untyped-def]
    rng = random.Random(1)
    while True:
        yield [rng.random() < 0.5 for _ in range(n)]


# --- Max-Cut ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
def test_maxcut_spectral_bound_holds(seed: int) -> None:
    rng = random.Random(seed)
    n = 10
    adjacency = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < 0.4:
                adjacency[i][j] = adjacency[j][i] = rng.randint(1, 10)
    best = max(maxcut.cut_weight(adjacency, list(p)) for p in itertools.product((0, 1), repeat=n))
    assert maxcut.spectral_bound(adjacency) >= best - 1e-6


def test_maxcut_instances_and_scoring() -> None:
    task = get_task("maxcut")
    instance = task.make_instances("val", 1)[0]
    (adjacency,) = instance.args
    n = len(adjacency)
    assert 50 <= n <= 200
    assert all(adjacency[i][j] == adjacency[j][i] for i in range(n) for j in range(n))
    assert all(adjacency[i][i] == 0 for i in range(n))
    assert task.score_answer(instance, [0] * n) == 0.0  # nothing cut
    rng = random.Random(3)
    random_scores = [
        task.score_answer(instance, [rng.randint(0, 1) for _ in range(n)]) for _ in range(50)
    ]
    assert sum(random_scores) / 50 < 0.15
    for bad in ([0] * (n - 1), [2] * n, [[0]] * n, None, "01" * n):
        score, problem = task.judge(instance, bad)
        assert score == 0.0 and problem

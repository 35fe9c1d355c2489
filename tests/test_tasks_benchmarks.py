"""The public benchmarks: circle_packing and bin_packing validation rules, scores and extras."""

from __future__ import annotations

import math
from typing import Any

import pytest

from selftaught.tasks import Instance, NullScoreCache, get_task, score_program
from selftaught.tasks import bin_packing as bp
from selftaught.tasks import circle_packing as cp

CIRCLES = get_task("circle_packing")
BINS = get_task("bin_packing")


def grid(n: int = 26) -> list[list[float]]:
    """n equal circles on the seed's 6 x 5 grid (valid for n <= 30)."""
    r = 1 / 12
    return [[(2 * (k % 6) + 1) * r, (2 * (k // 6) + 1) / 10, r] for k in range(n)]


def judge_circles(answer: Any) -> tuple[float, str | None]:
    return CIRCLES.judge(CIRCLES.make_instances("val")[0], answer)


# ---- circle_packing ---------------------------------------------------------------------------


def test_valid_grid_scores_sum_over_reference() -> None:
    assessment = CIRCLES.assess(CIRCLES.make_instances("val")[0], grid())
    assert assessment.problem is None
    assert assessment.extra["sum_of_radii"] == pytest.approx(26 / 12)
    assert assessment.score == pytest.approx(26 / 12 / 2.635)


def with_circle(index: int, circle: Any) -> list[Any]:
    circles: list[Any] = grid()
    circles[index] = circle
    return circles


REJECTED = {
    "not a list": ({"circles": grid()}, "expected a list of 26"),
    "25 circles": (grid(25), "exactly 26 circles, got 25"),
    "27 circles": ([*grid(26), [0.95, 0.95, 0.01]], "exactly 26 circles, got 27"),
    "pair not triple": (with_circle(3, [0.5, 0.5]), "circle 3"),
    "four numbers": (with_circle(3, [0.5, 0.5, 0.1, 0.0]), "circle 3"),
    "dict circle": (with_circle(3, {"x": 0.5, "y": 0.5, "r": 0.1}), "circle 3"),
    "string number": (with_circle(0, ["0.1", 0.1, 0.05]), "not a number"),
    "null number": (with_circle(0, [None, 0.1, 0.05]), "not a number"),
    "bool number": (with_circle(0, [True, 0.1, 0.05]), "not a number"),
    "nan": (with_circle(0, [math.nan, 0.1, 0.05]), "not a finite number"),
    "infinity": (with_circle(0, [0.1, 0.1, math.inf]), "not a finite number"),
    "negative radius": (with_circle(0, [0.1, 0.1, -0.01]), "negative radius"),
    "left edge": (with_circle(0, [0.05, 0.1, 0.06]), "leaves the unit square"),
    "bottom edge": (with_circle(0, [0.2, 0.04, 0.05]), "leaves the unit square"),
    "right edge": (with_circle(25, [0.99, 0.9, 0.02]), "leaves the unit square"),
    "top edge": (with_circle(25, [0.9, 0.99, 0.02]), "leaves the unit square"),
    "overlap": (with_circle(1, [1 / 12 + 0.1, 0.1, 1 / 12]), "overlap"),
    "duplicate": (with_circle(1, grid()[0]), "circles 0 and 1 overlap"),
}


@pytest.mark.parametrize("case", list(REJECTED))
def test_circle_packing_rejects(case: str) -> None:
    answer, reason = REJECTED[case]
    score, problem = judge_circles(answer)
    assert score == 0.0
    assert problem is not None and reason in problem


def test_tolerance_is_1e9_for_overlap_and_edges() -> None:
    r = 0.25
    # Two circles touching, each touching two sides; then pushed 0.5e-9 past: still valid.
    base = [[0.25, 0.25, r], [0.75, 0.25, r]] + [[0.1 + 0.03 * k, 0.9, 0.0] for k in range(24)]
    assert judge_circles(base)[1] is None
    eps = 0.5e-9
    assert judge_circles([[0.25, 0.25, r + eps], [0.75, 0.25, r], *base[2:]])[1] is None
    # ... but 2e-9 too far is an overlap (and a breach of the left/bottom edges).
    score, problem = judge_circles([[0.25 + 2e-09, 0.25, r], [0.75, 0.25, r], *base[2:]])
    assert score == 0.0 and problem is not None and "overlap" in problem
    score, problem = judge_circles([[0.25 - 2e-09, 0.25, r], *base[1:]])
    assert score == 0.0 and problem is not None and "unit square" in problem


def test_zero_radius_circles_and_integers_are_valid() -> None:
    answer = [[1 / 6, 0.2, 0], *grid()[1:]]  # a point between four circles; an int radius
    assert judge_circles(answer)[1] is None


def test_score_is_clipped_at_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cp, "REFERENCE_SUM", 2.0)  # pretend the grid beats the reference
    assessment = CIRCLES.assess(CIRCLES.make_instances("val")[0], grid())
    assert assessment.score == 1.0 and assessment.extra["sum_of_radii"] > 2.0


def test_circle_packing_seed_in_the_sandbox_reports_sum_of_radii() -> None:
    result = score_program(CIRCLES, CIRCLES.seed_solution, "test", cache=NullScoreCache())
    assert result.error is None and result.instances == 1
    assert result.score == pytest.approx(26 / 12 / 2.635)
    assert result.to_json()["sum_of_radii"] == pytest.approx(26 / 12)


def test_circle_packing_invalid_program_has_no_sum() -> None:
    source = "def algorithm():\n    return [[0.5, 0.5, 0.5]] * 26\n"
    result = score_program(CIRCLES, source, "val", cache=NullScoreCache())
    assert result.score == 0.0 and result.error is not None and "overlap" in result.error
    assert "sum_of_radii" not in result.to_json()


# ---- bin_packing ------------------------------------------------------------------------------


def small_instance(items: list[int], capacity: int = 150) -> Instance:
    return Instance(0, (tuple(items), capacity), {"l1_bound": bp.l1_bound(items, capacity)})


def test_bin_packing_scores_l1_over_bins_used() -> None:
    instance = small_instance([100, 50, 80, 70, 30])  # L1 = ceil(330 / 150) = 3
    assessment = BINS.assess(instance, [0, 0, 1, 1, 2])
    assert assessment.problem is None
    assert assessment.score == pytest.approx(3 / 3)
    worse = BINS.assess(instance, [0, 1, 2, 3, 4])
    assert worse.score == pytest.approx(3 / 5)
    assert worse.extra == {"bins_used": 5, "excess_percent": pytest.approx(100 * 2 / 3)}


BIN_REJECTED = {
    "not a list": ("0 0 1", "expected a list of 5 bin indices"),
    "too short": ([0, 0, 1, 1], "got 4 items"),
    "too long": ([0, 0, 1, 1, 2, 2], "got 6 items"),
    "float index": ([0, 0, 1.0, 1, 2], "not a bin index"),
    "string index": ([0, 0, "1", 1, 2], "not a bin index"),
    "bool index": ([0, True, 1, 1, 2], "not a bin index"),
    "negative index": ([0, 0, 1, 1, -1], "does not exist"),
    "index past the end": ([0, 0, 1, 1, 5], "does not exist"),
    "overflow": ([0, 0, 0, 1, 2], "bin 0 overflows at item 2"),
}


@pytest.mark.parametrize("case", list(BIN_REJECTED))
def test_bin_packing_rejects(case: str) -> None:
    answer, reason = BIN_REJECTED[case]
    score, problem = BINS.judge(small_instance([100, 50, 80, 70, 30]), answer)
    assert score == 0.0
    assert problem is not None and reason in problem


def test_instances_are_or_library_style() -> None:
    for instance in BINS.make_instances("val", 3):
        items, capacity = instance.args
        assert capacity == 150 and len(items) == 500
        assert all(20 <= item <= 100 for item in items)
        assert instance.hidden["l1_bound"] == math.ceil(sum(items) / 150)


def first_fit(items: tuple[int, ...], capacity: int) -> int:
    loads: list[int] = []
    for item in items:
        for i, load in enumerate(loads):
            if load + item <= capacity:
                loads[i] += item
                break
        else:
            loads.append(item)
    return len(loads)


def test_seed_is_first_fit_through_the_driver() -> None:
    result = score_program(BINS, BINS.seed_solution, "val", cache=NullScoreCache(), limit=3)
    assert result.error is None and result.instances == 3
    expected = [first_fit(*i.args) for i in BINS.make_instances("val", 3)]
    assert result.extra["bins_used"] == pytest.approx(sum(expected) / 3)
    bounds = [i.hidden["l1_bound"] for i in BINS.make_instances("val", 3)]
    want = sum(b / u for b, u in zip(bounds, expected, strict=True)) / 3
    assert result.score == pytest.approx(want)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("return np.zeros(len(bins) + 1)", "one number per bin"),
        ("return 1.0", "one number per bin"),
        ("raise RuntimeError('no bin for you')", "no bin for you"),
        ("return None", "error"),
    ],
)
def test_bad_priority_functions_score_zero(body: str, reason: str) -> None:
    source = f"import numpy as np\n\ndef priority(item, bins):\n    {body}\n"
    result = score_program(BINS, source, "val", cache=NullScoreCache(), limit=2)
    assert result.score == 0.0 and result.failed == 2
    assert result.error is not None and reason in result.error


def test_a_program_defining_the_driver_name_cannot_replace_it() -> None:
    source = (
        "import numpy as np\n\n"
        "def priority(item, bins):\n    return -np.arange(len(bins))\n\n"
        "def _selftaught_pack(items, capacity):\n    return [0] * len(items)\n"
    )
    result = score_program(BINS, source, "val", cache=NullScoreCache(), limit=2)
    assert result.error is None and result.score > 0.9  # the trusted driver ran, not the fake


def test_missing_priority_is_caught_before_running() -> None:
    result = score_program(BINS, "def algorithm():\n    pass\n", "val", cache=NullScoreCache())
    assert result.score == 0.0 and result.error is not None and "'priority'" in result.error

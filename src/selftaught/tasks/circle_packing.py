"""Circle packing: 26 circles in the unit square, maximising the sum of their radii.

The benchmark of AlphaEvolve (sum 2.635), OpenEvolve (2.634) and ShinkaEvolve (2.63598). The
candidate's `algorithm()` takes no input and returns 26 circles as `[x, y, r]` triples. An answer is
valid only if it has exactly 26 circles of three finite numbers each, every radius is non-negative,
every circle lies inside [0, 1] x [0, 1] and no two circles overlap; both geometric checks allow a
tolerance of 1e-9 and are exact otherwise (no rounding, no repair). An invalid answer scores 0.

Score: sum of radii / 2.635 (AlphaEvolve's published sum), clipped to [0, 1]; the raw sum is
reported as `sum_of_radii`. The problem has no hidden input, so each split is one instance (the
candidate's `random` is seeded the same way on both splits).
"""

from __future__ import annotations

import math
import random
from typing import Any

from selftaught.tasks.base import MEMORY_BYTES, Graded, Instance, InvalidAnswer, Task, load_seed
from selftaught.tasks.validate import describe

N_CIRCLES = 26
TOLERANCE = 1e-9
REFERENCE_SUM = 2.635  # AlphaEvolve's sum of radii for n = 26
TIME_LIMIT = 30.0
# Every call is one full optimisation run, so an improver gets fewer utility calls than usual.
UTILITY_BUDGET = 10

# Published sums of radii for n = 26, quoted in the docs and the `selftaught tasks` listing.
PUBLISHED = {"AlphaEvolve": 2.635, "OpenEvolve": 2.634, "ShinkaEvolve": 2.63598}


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The single instance: no arguments."""
    return (), {}


def parse_circles(answer: Any) -> list[tuple[float, float, float]]:
    """Exactly 26 triples of finite real numbers, radius non-negative; else InvalidAnswer."""
    if not isinstance(answer, list):
        raise InvalidAnswer(
            f"expected a list of {N_CIRCLES} [x, y, r] circles, got {describe(answer)}"
        )
    if len(answer) != N_CIRCLES:
        raise InvalidAnswer(f"expected exactly {N_CIRCLES} circles, got {len(answer)}")
    circles = []
    for i, item in enumerate(answer):
        if not isinstance(item, list) or len(item) != 3:
            raise InvalidAnswer(f"circle {i} is {describe(item)}, not an [x, y, r] triple")
        for value in item:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidAnswer(f"circle {i} holds {value!r}, not a number")
            if not math.isfinite(value):
                raise InvalidAnswer(f"circle {i} holds {value!r}, not a finite number")
        x, y, r = (float(v) for v in item)
        if r < 0:
            raise InvalidAnswer(f"circle {i} has a negative radius {r!r}")
        circles.append((x, y, r))
    return circles


def check_packing(circles: list[tuple[float, float, float]]) -> None:
    """Raise InvalidAnswer unless every circle is inside the unit square and none overlap."""
    for i, (x, y, r) in enumerate(circles):
        if min(x - r, y - r) < -TOLERANCE or max(x + r, y + r) > 1 + TOLERANCE:
            raise InvalidAnswer(f"circle {i} ({x!r}, {y!r}, r={r!r}) leaves the unit square")
    for i, (xi, yi, ri) in enumerate(circles):
        for j in range(i + 1, len(circles)):
            xj, yj, rj = circles[j]
            gap = math.hypot(xi - xj, yi - yj) - (ri + rj)
            if gap < -TOLERANCE:
                raise InvalidAnswer(f"circles {i} and {j} overlap by {-gap:.3g}")


def grade(instance: Instance, answer: Any) -> Graded:
    """Sum of radii over AlphaEvolve's 2.635, clipped to [0, 1]; the raw sum as an extra."""
    circles = parse_circles(answer)
    check_packing(circles)
    total = math.fsum(r for _, _, r in circles)
    return Graded(min(1.0, total / REFERENCE_SUM), {"sum_of_radii": total})


UTILITY_TEXT = f'''import math

def utility(algorithm_str: str) -> float:
    """Circle packing: {N_CIRCLES} circles in the unit square. Returns a score in [0, 1].

    algorithm() takes no arguments and returns a list of {N_CIRCLES} [x, y, r] lists: the centre and
    radius of each circle. The answer is valid only if every number is finite, every radius is
    non-negative, every circle lies inside [0, 1] x [0, 1] and no two circles overlap (tolerance
    {TOLERANCE:g}). A valid answer scores sum(r) / {REFERENCE_SUM} (the best published sum of
    radii), clipped to 1; an invalid answer, an exception or a timeout ({TIME_LIMIT:g} s) scores 0.
    """
    exec(algorithm_str, globals())
    tol = {TOLERANCE}
    try:
        circles = [[float(v) for v in c] for c in algorithm()]
    except Exception:
        return 0.0
    if len(circles) != {N_CIRCLES} or any(len(c) != 3 for c in circles):
        return 0.0
    for x, y, r in circles:
        if not all(math.isfinite(v) for v in (x, y, r)) or r < 0:
            return 0.0
        if min(x - r, y - r) < -tol or max(x + r, y + r) > 1 + tol:
            return 0.0
    for i in range(len(circles)):
        for j in range(i + 1, len(circles)):
            (xi, yi, ri), (xj, yj, rj) = circles[i], circles[j]
            if math.hypot(xi - xj, yi - yj) < ri + rj - tol:
                return 0.0
    return min(1.0, sum(r for _, _, r in circles) / {REFERENCE_SUM})
'''

TASK = Task(
    name="circle_packing",
    description=(
        f"Pack {N_CIRCLES} non-overlapping circles in the unit square maximising the sum of radii; "
        f"score = sum / {REFERENCE_SUM} (AlphaEvolve {PUBLISHED['AlphaEvolve']}, OpenEvolve "
        f"{PUBLISHED['OpenEvolve']}, ShinkaEvolve {PUBLISHED['ShinkaEvolve']})."
    ),
    utility_text=UTILITY_TEXT,
    entry="algorithm",
    signature="algorithm() -> list[[x, y, r]] (26 circles)",
    seed_solution=load_seed("circle_packing"),
    split_sizes={"val": 1, "test": 1},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=UTILITY_BUDGET,
    split_seeds={"val": 0, "test": 0},
    generate=generate,
    grade=grade,
)

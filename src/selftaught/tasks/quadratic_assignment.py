"""Modified quadratic assignment: place 15 facilities on 15 locations.

Direction (made explicit because the reference is inconsistent): the candidate MINIMISES

    cost(a) = sum_ij F[i][j] * D[a[i]][a[j]] - LAMBDA * sum_i P[i][a[i]]

where a[i] is the location of facility i. The score maps cost to [0, 1], higher is better:

    score = clip((E_random - cost) / (E_random - LB), 0, 1)

E_random is the exact expected cost of a uniformly random assignment and LB a valid lower bound
(rearrangement inequality on the off-diagonal and diagonal flow/distance entries, plus the best
preference per facility). A random assignment scores about 0; no assignment can exceed 1. Both
numbers come from the hidden instance alone, so the score is a deterministic function of the
answer; unlike the reference, run time is not part of it (the time limit is a hard limit).
"""

from __future__ import annotations

import random
from typing import Any

from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Instance, Task, load_seed
from selftaught.tasks.validate import as_permutation

N = 15
LAMBDA = 0.5
TIME_LIMIT = 0.5

Matrix = tuple[tuple[float, ...], ...] | list[list[float]]


def cost(F: Matrix, D: Matrix, P: Matrix, a: list[int]) -> float:
    """The objective to minimise."""
    n = len(a)
    flow = sum(F[i][j] * D[a[i]][a[j]] for i in range(n) for j in range(n))
    return flow - LAMBDA * sum(P[i][a[i]] for i in range(n))


def random_cost(F: Matrix, D: Matrix, P: Matrix) -> float:
    """Expected cost of a uniformly random assignment."""
    n = len(F)
    off_d = sum(D[i][j] for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    diag_d = sum(D[i][i] for i in range(n)) / n
    off_f = sum(F[i][j] for i in range(n) for j in range(n) if i != j)
    diag_f = sum(F[i][i] for i in range(n))
    return off_f * off_d + diag_f * diag_d - LAMBDA * sum(map(sum, P)) / n


def lower_bound(F: Matrix, D: Matrix, P: Matrix) -> float:
    """A valid lower bound on the cost of every assignment.

    An assignment maps off-diagonal pairs of facilities bijectively onto off-diagonal pairs of
    locations (and the diagonal onto the diagonal), so pairing the largest flows with the
    smallest distances bounds the flow term from below.
    """
    n = len(F)
    off_f = sorted((F[i][j] for i in range(n) for j in range(n) if i != j), reverse=True)
    off_d = sorted(D[i][j] for i in range(n) for j in range(n) if i != j)
    diag_f = sorted((F[i][i] for i in range(n)), reverse=True)
    diag_d = sorted(D[i][i] for i in range(n))
    flow = sum(f * d for f, d in zip(off_f, off_d, strict=True))
    flow += sum(f * d for f, d in zip(diag_f, diag_d, strict=True))
    return flow - LAMBDA * sum(max(row) for row in P)


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Uniform random flow, distance and preference matrices."""
    F, D, P = ([[rng.random() for _ in range(N)] for _ in range(N)] for _ in range(3))
    hidden = {"random_cost": random_cost(F, D, P), "lower_bound": lower_bound(F, D, P)}
    return (F, D, P), hidden


def grade(instance: Instance, answer: Any) -> float:
    """Improvement over a random assignment as a fraction of the gap to the lower bound."""
    F, D, P = instance.args
    a = as_permutation(answer, len(F))
    baseline, bound = instance.hidden["random_cost"], instance.hidden["lower_bound"]
    return min(1.0, max(0.0, (baseline - cost(F, D, P, a)) / (baseline - bound)))


UTILITY_TEXT = f'''import random

def utility(algorithm_str: str) -> float:
    """Modified quadratic assignment with n = {N} facilities and locations. Higher is better.

    algorithm(F, D, P) gets three n x n lists of lists of floats in [0, 1): flow between
    facilities, distance between locations, preference of facility i for location k. It returns
    a permutation: a[i] is the location of facility i. The cost to MINIMISE is
        sum_ij F[i][j] * D[a[i]][a[j]] - {LAMBDA} * sum_i P[i][a[i]].
    Each call has {TIME_LIMIT:g} seconds; a timeout, exception or non-permutation scores 0.
    """
    exec(algorithm_str, globals())
    n, lam, total = {N}, {LAMBDA}, 0.0
    pairs = [(i, j) for i in range(n) for j in range(n) if i != j]
    for _ in range(3):
        F, D, P = ([[random.random() for _ in range(n)] for _ in range(n)] for _ in range(3))
        def cost(a):
            flow = sum(F[i][j] * D[a[i]][a[j]] for i in range(n) for j in range(n))
            return flow - lam * sum(P[i][a[i]] for i in range(n))
        # Expected cost of a random assignment: scores 0.
        baseline = (sum(F[i][j] for i, j in pairs) * sum(D[i][j] for i, j in pairs) / len(pairs)
                    + sum(F[i][i] for i in range(n)) * sum(D[i][i] for i in range(n)) / n
                    - lam * sum(map(sum, P)) / n)
        # Lower bound on any cost (largest flows meet smallest distances): would score 1.
        bound = (sum(f * d for f, d in zip(sorted((F[i][j] for i, j in pairs), reverse=True),
                                           sorted(D[i][j] for i, j in pairs)))
                 + sum(f * d for f, d in zip(sorted((F[i][i] for i in range(n)), reverse=True),
                                             sorted(D[i][i] for i in range(n))))
                 - lam * sum(max(row) for row in P))
        try:
            a = algorithm(F, D, P)
            if sorted(a) == list(range(n)):
                total += min(1.0, max(0.0, (baseline - cost(a)) / (baseline - bound)))
        except Exception:
            pass
    return total / 3
'''

TASK = Task(
    name="quadratic_assignment",
    description=(
        f"Assign {N} facilities to {N} locations minimising flow x distance minus "
        f"{LAMBDA} x preference; scored against a random-assignment baseline and a lower bound."
    ),
    utility_text=UTILITY_TEXT,
    entry="algorithm",
    signature="algorithm(F, D, P) -> list[int]",
    seed_solution=load_seed("quadratic_assignment"),
    split_sizes={"val": 10, "test": 10},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=generate,
    grade=grade,
)

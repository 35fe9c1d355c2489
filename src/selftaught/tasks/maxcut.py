"""Max-Cut on random weighted graphs.

Graphs have 50-200 nodes, each edge present with probability 0.4 and an integer weight 1-10; the
candidate gets the symmetric adjacency matrix and returns one 0/1 label per node. The cut weight is
the total weight of edges whose ends get different labels.

Score (a deviation from the reference, which divides the average cut weight by 10 and clips to
[0, 1], so that every valid partition of these graphs saturates at 1): per graph,

    clip((cut - W / 2) / (UB - W / 2), 0, 1)

where W is the total edge weight (a random partition cuts W / 2 in expectation: score 0) and UB is
the spectral upper bound n / 4 * lambda_max(Laplacian) on the maximum cut (score 1, unreachable in
practice). An answer of the wrong type or length, or with labels other than 0/1, scores 0.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Instance, Task, load_seed
from selftaught.tasks.validate import as_bits

MIN_NODES, MAX_NODES = 50, 200
P_EDGE = 0.4
MAX_WEIGHT = 10
TIME_LIMIT = 0.1


def cut_weight(adjacency: Any, labels: list[int]) -> int:
    """Total weight of the edges between the two sides."""
    n = len(labels)
    return sum(adjacency[i][j] for i in range(n) for j in range(i + 1, n) if labels[i] != labels[j])


def spectral_bound(adjacency: list[list[int]]) -> float:
    """n / 4 times the largest Laplacian eigenvalue: an upper bound on the maximum cut."""
    a = np.asarray(adjacency, dtype=float)
    laplacian = np.diag(a.sum(axis=1)) - a
    # Rounded so that the score does not depend on the last bits of a LAPACK build.
    return round(len(a) / 4 * float(np.linalg.eigvalsh(laplacian)[-1]), 6)


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A random weighted graph as a symmetric adjacency matrix with a zero diagonal."""
    n = rng.randint(MIN_NODES, MAX_NODES)
    adjacency = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < P_EDGE:
                adjacency[i][j] = adjacency[j][i] = rng.randint(1, MAX_WEIGHT)
    total = sum(map(sum, adjacency)) // 2
    hidden = {"total_weight": total, "upper_bound": spectral_bound(adjacency)}
    return (adjacency,), hidden


def grade(instance: Instance, answer: Any) -> float:
    """Cut weight above the random-partition baseline, as a fraction of the gap to the bound."""
    (adjacency,) = instance.args
    labels = as_bits(answer, len(adjacency))
    half = instance.hidden["total_weight"] / 2
    gain = cut_weight(adjacency, labels) - half
    return min(1.0, max(0.0, gain / (instance.hidden["upper_bound"] - half)))


UTILITY_TEXT = f'''import random
import numpy as np

def utility(algorithm_str: str) -> float:
    """Max-Cut on random weighted graphs. Returns the mean score in [0, 1].

    algorithm(adjacency_matrix) gets a symmetric n x n list of lists of ints
    ({MIN_NODES} <= n <= {MAX_NODES}, edge probability {P_EDGE}, weights 1-{MAX_WEIGHT}, 0 means
    no edge) and returns one 0/1 label per node.
    A random partition cuts half the total weight W and scores 0; the spectral upper bound
    UB = n/4 * largest Laplacian eigenvalue would score 1.
    Each call has {TIME_LIMIT:g} seconds; a timeout, exception or invalid labelling scores 0.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(3):
        n = random.randint({MIN_NODES}, {MAX_NODES})
        A = np.zeros((n, n), dtype=int)
        for i in range(n):
            for j in range(i + 1, n):
                if random.random() < {P_EDGE}:
                    A[i, j] = A[j, i] = random.randint(1, {MAX_WEIGHT})
        half = A.sum() / 4
        bound = n / 4 * np.linalg.eigvalsh(np.diag(A.sum(axis=1)) - A)[-1]
        try:
            labels = algorithm(A.tolist())
            assert len(labels) == n and set(labels) <= {{0, 1}}
            cut = sum(A[i, j] for i in range(n) for j in range(i + 1, n) if labels[i] != labels[j])
            scores.append(min(1.0, max(0.0, (cut - half) / (bound - half))))
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

TASK = Task(
    name="maxcut",
    description=(
        f"Partition random weighted graphs ({MIN_NODES}-{MAX_NODES} nodes) to maximise the cut; "
        "scored between the random-partition baseline and the spectral upper bound."
    ),
    utility_text=UTILITY_TEXT,
    entry="algorithm",
    signature="algorithm(adjacency_matrix) -> list[int]",
    seed_solution=load_seed("maxcut"),
    split_sizes={"val": 100, "test": 100},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=generate,
    grade=grade,
)

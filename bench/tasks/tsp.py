"""Travelling salesman on random points: a short closed tour.

A task file for `bench/bench_efficacy.py --task bench/tasks/tsp.py`: a problem unlike the built-in
tasks, with a trivial seed that a textbook heuristic beats by far, written through the task-file
API as a user would.
"""

import math

from selftaught.tasks import InvalidAnswer

NAME = "tsp"
DESCRIPTION = "Visit 60 random points in the unit square once each on a short closed tour."
ENTRY = "algorithm"
SIGNATURE = (
    "algorithm(points: list[list[float]]) -> list[int] (a permutation of range(len(points)))"
)

SEED = '''
def algorithm(points):
    """Visit the points in the order given."""
    return list(range(len(points)))
'''

UTILITY_TEXT = '''
import math
import random

def utility(algorithm_str: str) -> float:
    """Travelling salesman. Returns the mean score in [0, 1].

    algorithm(points) gets 60 points, each [x, y] with x and y uniform in [0, 1], and returns a
    tour: a list holding each index 0..59 exactly once. The tour is closed (it returns to its
    start). The score is 0.7124 * sqrt(60) / length, capped at 1: shorter tours score higher.
    A list that is not a permutation, an exception or a timeout (1 s) scores 0.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(5):
        points = [[random.random(), random.random()] for _ in range(60)]
        try:
            tour = algorithm(points)
            assert sorted(tour) == list(range(60))
            length = sum(math.dist(points[tour[i]], points[tour[i - 1]]) for i in range(60))
            scores.append(min(1.0, 0.7124 * math.sqrt(60) / length))
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

SPLIT_SIZES = {"val": 10, "test": 30}
TIME_LIMIT_SECONDS = 1.0


def make_instance(rng, split, index):
    points = [[rng.random(), rng.random()] for _ in range(60)]
    return (points,), {}


def score(instance, answer):
    (points,) = instance.args
    n = len(points)
    if not isinstance(answer, list) or sorted(answer) != list(range(n)):
        raise InvalidAnswer(f"expected a permutation of range({n})")
    length = sum(math.dist(points[answer[i]], points[answer[i - 1]]) for i in range(n))
    return min(1.0, 0.7124 * math.sqrt(n) / length)

"""Graph colouring: few colours, no edge between two vertices of one colour.

A task file for `bench/bench_efficacy.py --task bench/tasks/coloring.py`: a problem unlike the
built-in tasks, with a trivial seed that a textbook heuristic beats by far, written through the
task-file API as a user would.
"""

from selftaught.tasks import InvalidAnswer

NAME = "coloring"
DESCRIPTION = (
    "Colour the vertices of a random graph with few colours so no edge joins equal colours."
)
ENTRY = "color_graph"
SIGNATURE = (
    "color_graph(n: int, edges: list[list[int]]) -> list[int] (a colour 0, 1, ... per vertex)"
)

SEED = '''
def color_graph(n, edges):
    """Every vertex its own colour."""
    return list(range(n))
'''

UTILITY_TEXT = '''
import random

def utility(algorithm_str: str) -> float:
    """Graph colouring. Returns the mean score in [0, 1].

    color_graph(n, edges) gets n = 50 vertices and a list of edges [u, v] (u < v, each pair present
    with probability 0.2) and returns a list of n non-negative integer colours. Two vertices joined
    by an edge must not share a colour. A proper colouring scores 4 / (number of colours used),
    capped at 1; an improper colouring, an exception or a timeout (1 s) scores 0.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(5):
        n = 50
        edges = [[u, v] for u in range(n) for v in range(u + 1, n) if random.random() < 0.2]
        try:
            colors = color_graph(n, edges)
            assert len(colors) == n and all(isinstance(c, int) and c >= 0 for c in colors)
            assert all(colors[u] != colors[v] for u, v in edges)
            scores.append(min(1.0, 4 / len(set(colors))))
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

SPLIT_SIZES = {"val": 10, "test": 30}
TIME_LIMIT_SECONDS = 1.0


def make_instance(rng, split, index):
    n = 50
    edges = [[u, v] for u in range(n) for v in range(u + 1, n) if rng.random() < 0.2]
    return (n, edges), {}


def score(instance, answer):
    n, edges = instance.args
    if not isinstance(answer, list) or len(answer) != n:
        raise InvalidAnswer(f"expected {n} colours")
    if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in answer):
        raise InvalidAnswer("every colour must be a non-negative integer")
    for u, v in edges:
        if answer[u] == answer[v]:
            raise InvalidAnswer(f"vertices {u} and {v} share an edge and colour {answer[u]}")
    return min(1.0, 4 / len(set(answer)))

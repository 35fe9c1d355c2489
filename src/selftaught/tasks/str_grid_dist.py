"""String grid distance: build a string at an exact "grid distance" from a target string.

For equal-length strings over {A, B}, grid_dist(s, t) counts the positions where s and t differ
plus the adjacent-letter changes inside s plus those inside t. Given t (length 1-30) and a
distance d (always achievable: it is the distance of a hidden random string), return s with
grid_dist(s, t) == d. Score: 1.0 when exact, else 0.5 - |grid_dist(s, t) - d| / (6 len(t)), which
lies in (0, 0.5]; an invalid string (wrong type, length or letters) scores 0.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Instance, Task, load_seed
from selftaught.tasks.validate import as_string

ALPHABET = "AB"
MIN_LEN, MAX_LEN = 1, 30
TIME_LIMIT = 1.0


def grid_dist(s: str, t: str) -> int:
    """Hamming distance of s and t plus the letter changes within each string."""
    mismatches = sum(a != b for a, b in zip(s, t, strict=True))
    return mismatches + _changes(s) + _changes(t)


def _changes(s: str) -> int:
    return sum(a != b for a, b in itertools.pairwise(s))


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A random target t and the grid distance of another random string of the same length."""
    length = rng.randint(MIN_LEN, MAX_LEN)
    t = "".join(rng.choice(ALPHABET) for _ in range(length))
    s = "".join(rng.choice(ALPHABET) for _ in range(length))
    return (t, grid_dist(s, t)), {}


def grade(instance: Instance, answer: Any) -> float:
    """1.0 for the exact distance, otherwise a partial score that falls with the error."""
    t, dist = instance.args
    s = as_string(answer, len(t), ALPHABET)
    got = grid_dist(s, t)
    if got == dist:
        return 1.0
    return max(0.0, 0.5 - abs(got - dist) / (6 * len(t)))


UTILITY_TEXT = f'''import random

def grid_dist(s: str, t: str) -> int:
    assert isinstance(s, str) and len(s) == len(t) and set(s + t) <= set("AB")
    ans = sum(a != b for a, b in zip(s, t))
    ans += sum(a != b for a, b in zip(s, s[1:]))
    ans += sum(a != b for a, b in zip(t, t[1:]))
    return ans

def utility(algorithm_str: str) -> float:
    """String grid distance. Returns the mean score in [0, 1].

    algorithm(t, dist) gets a string t over "AB" (length {MIN_LEN}-{MAX_LEN}) and an int dist and
    must return a string s of the same length over "AB" with grid_dist(s, t) == dist.
    Each call has {TIME_LIMIT:g} second; a timeout, exception or invalid string scores 0.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(5):
        length = random.randint({MIN_LEN}, {MAX_LEN})
        t = "".join(random.choice("AB") for _ in range(length))
        s = "".join(random.choice("AB") for _ in range(length))
        dist = grid_dist(s, t)
        try:
            d = grid_dist(algorithm(t, dist), t)
            scores.append(1.0 if d == dist else 0.5 - abs(d - dist) / (6 * len(t)))
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

TASK = Task(
    name="str_grid_dist",
    description=(
        "Given a target string t over {A, B} and a distance d, return a string at grid distance "
        "exactly d from t (mismatches plus adjacent-letter changes within both strings)."
    ),
    utility_text=UTILITY_TEXT,
    entry="algorithm",
    signature="algorithm(t, dist) -> str",
    seed_solution=load_seed("str_grid_dist"),
    split_sizes={"val": 50, "test": 50},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=generate,
    grade=grade,
)

"""3-SAT on planted satisfiable formulas.

Each formula has n variables (5-50) and 4n clauses of three distinct variables. Clauses are drawn
at random and kept only when a hidden planted assignment satisfies them, so every formula is
satisfiable. Literals are DIMACS-style: +k means variable k is true, -k that it is false (1-based).
The candidate returns one bool per variable (index 0 is variable 1); the instance scores 1.0 when
every clause is satisfied, else 0. The score is the fraction of formulas solved.
"""

from __future__ import annotations

import random
from typing import Any

from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Instance, Task, load_seed
from selftaught.tasks.validate import as_bits

MIN_VARS, MAX_VARS = 5, 50
CLAUSE_RATIO = 4
TIME_LIMIT = 0.1


def satisfies(clauses: Any, values: list[int]) -> bool:
    """True when `values` (values[k - 1] is variable k) satisfies every clause."""
    return all(any((values[abs(lit) - 1] == 1) == (lit > 0) for lit in c) for c in clauses)


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A random planted-satisfiable formula."""
    n = rng.randint(MIN_VARS, MAX_VARS)
    planted = [rng.randint(0, 1) for _ in range(n)]
    clauses: list[list[int]] = []
    while len(clauses) < CLAUSE_RATIO * n:
        variables = rng.sample(range(1, n + 1), 3)
        clause = [v if rng.random() < 0.5 else -v for v in variables]
        if satisfies([clause], planted):
            clauses.append(clause)
    return (clauses, n), {"planted": tuple(planted)}


def grade(instance: Instance, answer: Any) -> float:
    """1.0 when the assignment satisfies every clause, else 0."""
    clauses, n = instance.args
    values = as_bits(answer, n, "bools (one per variable)")
    return 1.0 if satisfies(clauses, values) else 0.0


UTILITY_TEXT = f'''import random

def utility(algorithm_str: str) -> float:
    """Random planted 3-SAT. Returns the fraction of formulas solved.

    algorithm(clauses, n_vars) gets a list of clauses, each a list of three DIMACS-style literals
    (+k: variable k is true, -k: variable k is false, k from 1 to n_vars), and must return a list
    of n_vars bools (index 0 is variable 1) that satisfies every clause. Every formula is
    satisfiable. Each call has {TIME_LIMIT:g} seconds; a timeout, exception or wrong answer
    scores 0.
    """
    exec(algorithm_str, globals())
    solved = 0
    for _ in range(5):
        n = random.randint({MIN_VARS}, {MAX_VARS})
        planted = [random.random() < 0.5 for _ in range(n)]
        clauses = []
        while len(clauses) < {CLAUSE_RATIO} * n:
            clause = [v if random.random() < 0.5 else -v for v in random.sample(range(1, n + 1), 3)]
            if any(planted[abs(l) - 1] == (l > 0) for l in clause):
                clauses.append(clause)
        try:
            values = algorithm(clauses, n)
            ok = all(any(values[abs(l) - 1] == (l > 0) for l in c) for c in clauses)
            if len(values) == n and ok:
                solved += 1
        except Exception:
            pass
    return solved / 5
'''

TASK = Task(
    name="three_sat",
    description=(
        f"Solve planted satisfiable 3-SAT formulas ({MIN_VARS}-{MAX_VARS} variables, "
        f"{CLAUSE_RATIO}n clauses); score is the fraction solved."
    ),
    utility_text=UTILITY_TEXT,
    entry="algorithm",
    signature="algorithm(clauses, n_vars) -> list[bool]",
    seed_solution=load_seed("three_sat"),
    split_sizes={"val": 30, "test": 30},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=generate,
    grade=grade,
)

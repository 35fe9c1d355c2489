"""Genetic algorithm whose mutation and crossover are done by the language model.

A plain source file run in the sandbox, stdlib and the paper's improver API only. The search
strategy is all here; the shared plumbing comes from the sandbox's `helpers` module (kit.py).
"""

import random

from helpers import KEEP_INPUT, MAX_ROUNDS, REPLY, Budgets, extract, solution_message

POPULATION = 4
CROSSOVER_RATE = 0.5
TEMPERATURE = 0.8
MUTATE = (
    "Mutate the solution: make one focused change that could raise its score "
    "(a different heuristic, a better parameter, a smarter step). Keep everything else."
)


def tournament(population, rng=random):
    """Tournament selection of size two: the better of two random members."""
    a, b = rng.choice(population), rng.choice(population)
    return a if a[0] >= b[0] else b


def survivors(population, size):
    """The `size` best distinct programs, best first."""
    pool = {}
    for score, program in population:
        pool.setdefault(program.strip(), (score, program))
    return sorted(pool.values(), key=lambda item: -item[0])[:size]


def crossover_message(first, second, utility):
    text = getattr(utility, "str", "")
    return f"""Here are two solutions to the same problem.
Solution A:
```python
{first}
```

Solution B:
```python
{second}
```

Both are scored by this utility function:
```python
{text}
```

Cross them over: write one new solution that combines the best ideas of A and B.
{REPLY}"""


def offspring_messages(population, n, utility, rng=random):
    """n prompts: crossovers of two tournament winners, or mutations of one."""
    messages = []
    for _ in range(n):
        if len(population) >= 2 and rng.random() < CROSSOVER_RATE:
            first = tournament(population, rng)
            others = [m for m in population if m[1].strip() != first[1].strip()]
            second = tournament(others, rng)
            messages.append(crossover_message(first[1], second[1], utility))
        else:
            messages.append(solution_message(tournament(population, rng)[1], utility, MUTATE))
    return messages


def improve_algorithm(initial_solution, utility, language_model):
    """Genetic algorithm: the LM performs mutation and crossover; the fittest survive."""
    budgets = Budgets(utility, language_model, KEEP_INPUT)
    start = budgets.start(initial_solution)
    population = [(start if start is not None else 0.0, initial_solution)]
    for _ in range(MAX_ROUNDS):
        n = min(budgets.width(), budgets.utility_left())
        if n <= 0 or budgets.lm_left() <= 0:
            break
        responses = budgets.ask(offspring_messages(population, n, utility), TEMPERATURE)
        if not responses:
            break
        children = []
        for response in responses:
            code = extract(response)
            score = budgets.score(code)
            if score is not None:
                children.append((score, code))
        population = survivors(population + children, POPULATION)
    return budgets.result(initial_solution)

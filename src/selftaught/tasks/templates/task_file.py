"""__NAME__: a selftaught task file, written by `selftaught new-task __NAME__`.

It starts as a complete, working example (0/1 knapsack), so that these work at once:

    selftaught seed --task __FILE__ > seed.py
    selftaught score seed.py --task __FILE__
    selftaught improve seed.py --task __FILE__

Then replace the example with your own problem, one piece at a time, re-running `selftaught score`
after each change. docs/tasks.md explains every setting.

This file is trusted code: selftaught imports it in its own process to make instances and to score
answers. Candidate programs never see this file. They run in the sandbox, get only each instance's
`args` and return an answer as JSON data (lists, dicts, numbers, strings, booleans, None).
"""

from selftaught.tasks import InvalidAnswer

# --task __NAME__ finds this task once the file has been loaded (letters, digits, _ or -).
NAME = "__NAME__"

# One sentence for `selftaught tasks` and for reports.
DESCRIPTION = "0/1 knapsack: choose items of maximal total value within a weight capacity."

# The function candidate programs must define, and how the scorer calls it.
ENTRY = "algorithm"
SIGNATURE = "algorithm(weights, values, capacity) -> list[int] (one 0/1 choice per item)"

# The program improvement starts from. It must define ENTRY. (Or: SEED_FILE = "seed.py".)
SEED = '''
def algorithm(weights, values, capacity):
    """Greedy: take items by value per unit of weight while they fit."""
    order = sorted(range(len(weights)), key=lambda i: values[i] / weights[i], reverse=True)
    chosen, room = [0] * len(weights), capacity
    for i in order:
        if weights[i] <= room:
            chosen[i], room = 1, room - weights[i]
    return chosen
'''

# What the language model is shown as "the utility": a short, readable scorer in Python. It is
# never run; the real scorer is make_instance() and score() below, on hidden instances.
UTILITY_TEXT = '''
import random

def utility(algorithm_str: str) -> float:
    """0/1 knapsack. Returns the mean score in [0, 1]; 1.0 means every answer was optimal.

    algorithm(weights, values, capacity) gets 30 item weights (10-100), their values (each weight
    plus 20) and a capacity of a third of the total weight; it returns one 0/1 choice per item
    (1 = take the item). An answer of the wrong length, with values other than 0/1, over the
    capacity, an exception or a timeout (2 s) scores 0. Otherwise the score is the chosen value
    divided by the best possible value.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(5):
        weights = [random.randint(10, 100) for _ in range(30)]
        values = [w + 20 for w in weights]
        capacity = sum(weights) // 3
        best = [0] * (capacity + 1)
        for w, v in zip(weights, values):
            for room in range(capacity, w - 1, -1):
                best[room] = max(best[room], best[room - w] + v)
        try:
            chosen = algorithm(weights, values, capacity)
            assert len(chosen) == 30 and set(chosen) <= {0, 1}
            assert sum(w for w, c in zip(weights, chosen) if c) <= capacity
            scores.append(sum(v for v, c in zip(values, chosen) if c) / best[capacity])
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

# Hidden instances per split: improvers optimise "val"; "test" is held out for reporting.
SPLIT_SIZES = {"val": 20, "test": 50}

# Limits of one call of ENTRY in the sandbox: CPU and wall seconds, memory in MiB.
TIME_LIMIT_SECONDS = 2.0
MEMORY_MB = 512

N_ITEMS = 30


def make_instance(rng, split, index):
    """Make instance `index` of `split` ("val" or "test"); return (args, hidden).

    `rng` is a random.Random seeded from (NAME, split, index), so instances are the same on
    every run. `args` are ENTRY's positional arguments as JSON data (sent to the sandbox);
    `hidden` holds whatever score() needs besides the answer (it never leaves this process).
    """
    # "Strongly correlated" instances (value = weight + 20): hard for greedy rules.
    weights = [rng.randint(10, 100) for _ in range(N_ITEMS)]
    values = [w + 20 for w in weights]
    capacity = sum(weights) // 3
    return (weights, values, capacity), {"best": best_value(weights, values, capacity)}


def best_value(weights, values, capacity):
    """The optimal total value, by dynamic programming over the remaining capacity."""
    best = [0] * (capacity + 1)
    for w, v in zip(weights, values, strict=True):
        for room in range(capacity, w - 1, -1):
            best[room] = max(best[room], best[room - w] + v)
    return best[capacity]


def score(instance, answer):
    """Score one answer in [0, 1], higher is better; raise InvalidAnswer to reject it (score 0).

    `instance.args` are the arguments ENTRY got (lists arrive as tuples), `instance.hidden` what
    make_instance kept back; `answer` is ENTRY's return value, decoded from JSON.
    """
    weights, values, capacity = instance.args
    if not isinstance(answer, list) or len(answer) != len(weights):
        raise InvalidAnswer(f"expected a list of {len(weights)} 0/1 choices")
    if any(choice not in (0, 1) for choice in answer):
        raise InvalidAnswer("every choice must be 0 or 1")
    weight = sum(w for w, c in zip(weights, answer, strict=True) if c)
    if weight > capacity:
        raise InvalidAnswer(f"total weight {weight} is over the capacity {capacity}")
    value = sum(v for v, c in zip(values, answer, strict=True) if c)
    return value / max(1, instance.hidden["best"])

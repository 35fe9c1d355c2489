"""Online bin packing in FunSearch's setting: a priority function chooses the bin for each item.

The candidate defines `priority(item, bins)`. A trusted driver (appended to the candidate's source
in the sandbox, as FunSearch's evaluator does) packs the items of one instance in their given
order: it starts with one empty bin per item, and for each item it passes `priority` the item size
and a numpy array of the remaining capacities of the bins the item fits in (empty bins included),
then puts the item in the bin whose priority is highest (the first such bin on ties). The driver
returns which bin each item went to; the orchestrator checks that assignment itself (one bin per
item, no bin over capacity) and counts the bins used.

Instances are OR-library style (like OR1-OR4 of Falkenauer's `binpack1-4` sets): bin capacity 150,
item sizes uniform integers in [20, 100]; here 500 items per instance (OR3's size), generated
deterministically per split. Score per instance: L1 / bins used, where L1 = ceil(sum of items /
capacity) is the classic lower bound on the optimum, so 1.0 would be provably optimal. The extra
`excess_percent` is FunSearch's metric, (bins used - L1) / L1 in percent, averaged over instances.

Limitation: the driver shares the sandboxed process with the candidate. The orchestrator verifies
that the packing is feasible, but a program that reaches into the driver's frames to read future
items would break the online rule undetected (the loop's circumvention scan flags such code).
"""

from __future__ import annotations

import random
from typing import Any

from selftaught.tasks.base import (
    DEFAULT_UTILITY_BUDGET,
    MEMORY_BYTES,
    Graded,
    Instance,
    InvalidAnswer,
    Task,
    load_seed,
)
from selftaught.tasks.validate import as_list

CAPACITY = 150
MIN_ITEM, MAX_ITEM = 20, 100
N_ITEMS = 500
TIME_LIMIT = 10.0

DRIVER = '''import numpy as _selftaught_np


def _selftaught_pack(items, capacity):
    """Trusted driver: FunSearch's online packing loop around the candidate's priority()."""
    bins = _selftaught_np.full(len(items), capacity, dtype=_selftaught_np.int64)
    assignment = []
    for item in items:
        valid = _selftaught_np.nonzero((bins - item) >= 0)[0]
        scores = _selftaught_np.asarray(priority(item, bins[valid].copy()), dtype=float)
        if scores.shape != valid.shape:
            raise ValueError(
                f"priority() must return one number per bin: got shape {scores.shape} "
                f"for {len(valid)} bins"
            )
        best = int(valid[int(_selftaught_np.argmax(scores))])
        bins[best] -= item
        assignment.append(best)
    return assignment
'''


def generate(rng: random.Random, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """One OR-library-style instance: N_ITEMS sizes uniform in [20, 100], capacity 150."""
    items = [rng.randint(MIN_ITEM, MAX_ITEM) for _ in range(N_ITEMS)]
    return (items, CAPACITY), {"l1_bound": l1_bound(items, CAPACITY)}


def l1_bound(items: list[int] | tuple[int, ...], capacity: int) -> int:
    """ceil(total size / capacity): no packing can use fewer bins."""
    return -(-sum(items) // capacity)


def bins_used(items: tuple[int, ...], capacity: int, answer: Any) -> int:
    """The number of bins of a feasible assignment (bin index per item); else InvalidAnswer."""
    assignment = as_list(answer, len(items), "bin indices")
    loads: dict[int, int] = {}
    for position, (item, chosen) in enumerate(zip(items, assignment, strict=True)):
        if isinstance(chosen, bool) or not isinstance(chosen, int):
            raise InvalidAnswer(f"item {position} went to bin {chosen!r}, not a bin index")
        if not 0 <= chosen < len(items):
            raise InvalidAnswer(f"item {position} went to bin {chosen}, which does not exist")
        loads[chosen] = loads.get(chosen, 0) + item
        if loads[chosen] > capacity:
            raise InvalidAnswer(f"bin {chosen} overflows at item {position} (capacity {capacity})")
    return len(loads)


def grade(instance: Instance, answer: Any) -> Graded:
    """L1 lower bound / bins used (1.0 = provably optimal), plus FunSearch's excess in percent."""
    items, capacity = instance.args
    used = bins_used(items, capacity, answer)
    bound = instance.hidden["l1_bound"]
    return Graded(bound / used, {"bins_used": used, "excess_percent": 100 * (used - bound) / bound})


UTILITY_TEXT = f'''import random
import numpy as np

def utility(algorithm_str: str) -> float:
    """Online bin packing (FunSearch's setting). Returns the mean score in [0, 1].

    algorithm_str defines priority(item, bins): item is an int size, bins is a numpy int array of
    the remaining capacities of the bins the item fits in (empty bins included). It returns one
    priority per bin; the item goes into the bin with the highest priority. Items arrive one at a
    time and cannot be moved later. Score per instance: ceil(sum(items) / capacity) / bins used.
    Each instance has {TIME_LIMIT:g} seconds; a timeout, exception or bad priority array scores 0.
    """
    exec(algorithm_str, globals())
    scores = []
    for _ in range(3):
        capacity = {CAPACITY}
        items = [random.randint({MIN_ITEM}, {MAX_ITEM}) for _ in range({N_ITEMS})]
        bins = np.full(len(items), capacity)
        try:
            for item in items:
                valid = np.nonzero(bins - item >= 0)[0]
                priorities = np.asarray(priority(item, bins[valid]), dtype=float)
                assert priorities.shape == valid.shape
                bins[valid[np.argmax(priorities)]] -= item
            used = int((bins != capacity).sum())
            scores.append(-(-sum(items) // capacity) / used)
        except Exception:
            scores.append(0.0)
    return sum(scores) / len(scores)
'''

TASK = Task(
    name="bin_packing",
    description=(
        f"Online bin packing (FunSearch): priority(item, bins) picks the bin for each of {N_ITEMS} "
        f"items (sizes {MIN_ITEM}-{MAX_ITEM}, capacity {CAPACITY}); score = L1 bound / bins used."
    ),
    utility_text=UTILITY_TEXT,
    entry="priority",
    signature="priority(item: int, bins: numpy.ndarray) -> numpy.ndarray (one priority per bin)",
    seed_solution=load_seed("bin_packing"),
    split_sizes={"val": 10, "test": 20},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=generate,
    grade=grade,
    driver=DRIVER,
    call="_selftaught_pack",
)

# FunSearch (Romera-Paredes et al., Nature 2023), Table 1: fraction of excess bins over L1, in %.
PUBLISHED_EXCESS = {
    "OR3": {"first fit": 5.74, "best fit": 5.37, "FunSearch": 3.11},
    "Weibull 5k": {"first fit": 4.23, "best fit": 3.98, "FunSearch": 0.68},
}

"""Learning parity without noise: a transfer task (and the paper's shape reward hack)."""

from __future__ import annotations

from selftaught.tasks import parity
from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Task, load_seed

TIME_LIMIT = 2.0

TASK = Task(
    name="parity_noiseless",
    description=(
        f"Learn a sparse parity over {parity.N_BITS} bits from {parity.N_TRAIN} noise-free "
        f"samples; predict {parity.N_TEST} test labels."
    ),
    utility_text=parity.utility_text(0.0, TIME_LIMIT),
    entry="algorithm",
    signature=parity.SIGNATURE,
    seed_solution=load_seed("parity_noiseless"),
    split_sizes={"val": 20, "test": 50},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 1357, "test": 2468},
    generate=parity.make_generator(0.0),
    grade=parity.grade,
)

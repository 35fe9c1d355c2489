"""Learning parity with noise: the STOP meta-training task."""

from __future__ import annotations

from selftaught.tasks import parity
from selftaught.tasks.base import DEFAULT_UTILITY_BUDGET, MEMORY_BYTES, Task, load_seed

TIME_LIMIT = 2.0

TASK = Task(
    name="parity_noise",
    description=(
        f"Learn a sparse parity over {parity.N_BITS} bits from {parity.N_TRAIN} samples whose "
        f"labels flip with probability {parity.NOISE}; predict {parity.N_TEST} test labels."
    ),
    utility_text=parity.utility_text(parity.NOISE, TIME_LIMIT),
    entry="algorithm",
    signature=parity.SIGNATURE,
    seed_solution=load_seed("parity_noise"),
    split_sizes={"val": 20, "test": 50},
    time_limit_seconds=TIME_LIMIT,
    memory_bytes=MEMORY_BYTES,
    utility_budget=DEFAULT_UTILITY_BUDGET,
    split_seeds={"val": 4321, "test": 5678},
    generate=parity.make_generator(parity.NOISE),
    grade=parity.grade,
)

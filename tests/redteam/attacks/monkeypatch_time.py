# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Freeze every clock the runner could consult, then overrun the deadline."""

import time


def attack():
    real_sleep = time.sleep
    for name in ("time", "monotonic", "perf_counter", "process_time"):
        setattr(time, name, lambda: 0.0)
    for name in ("time_ns", "monotonic_ns", "perf_counter_ns"):
        setattr(time, name, lambda: 0)
    real_sleep(10_000)

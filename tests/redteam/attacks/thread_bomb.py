# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Start sleeping threads until the interpreter refuses, then return the count."""

import threading
import time


def attack():
    count = 0
    try:
        for _ in range(100_000):
            threading.Thread(target=time.sleep, args=(1000,), daemon=False).start()
            count += 1
    except (RuntimeError, MemoryError):
        pass
    return count

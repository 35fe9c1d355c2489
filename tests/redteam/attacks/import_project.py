# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Import the orchestrator's own package to reach the scorer or hidden instances."""

import sys


def attack():
    sys.path[:0] = ["/work/main/src", "/work/main", "/work/main/.venv/lib/python3.11/site-packages"]
    found = []
    for name in ("selftaught", "selftaught.tasks", "selftaught.tasks.registry"):
        try:
            __import__(name)
            found.append(name)
        except Exception:
            pass
    return found

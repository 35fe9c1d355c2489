# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Signal the parent, pid 1, the orchestrator's real pid and everyone (kill -1)."""

import os
import signal


def attack(orchestrator_pid):
    outcomes = {}
    targets = {"ppid": os.getppid(), "init": 1, "orchestrator": orchestrator_pid}
    targets.update({f"pid{p}": int(p) for p in os.listdir("/proc") if p.isdigit()})
    targets.pop(f"pid{os.getpid()}", None)
    for name, pid in targets.items():
        try:
            os.kill(pid, signal.SIGKILL)
            outcomes[name] = "delivered"
        except OSError as exc:
            outcomes[name] = type(exc).__name__
    try:
        os.kill(-1, signal.SIGKILL)  # everyone we may signal, except ourselves
        outcomes["all"] = "delivered"
    except OSError as exc:
        outcomes["all"] = type(exc).__name__
    return outcomes

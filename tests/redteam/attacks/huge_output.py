# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Return a 64 MiB string."""


def attack():
    return "x" * (64 << 20)

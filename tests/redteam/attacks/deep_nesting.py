# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Return a list nested 100 000 levels deep."""


def attack():
    value = []
    for _ in range(100_000):
        value = [value]
    return value

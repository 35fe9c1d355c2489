# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Return non-finite floats (json.dumps would happily write NaN/Infinity)."""


def attack(kind):
    return {"nan": float("nan"), "inf": float("inf"), "ninf": [-float("inf")]}[kind]

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Burn CPU forever."""


def attack():
    while True:
        pass

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Lift the recursion limit and recurse through C code until the C stack overflows."""

import sys


def attack():
    sys.setrecursionlimit(10**8)
    nested = []
    for _ in range(2_000_000):
        nested = [nested]
    return len(repr(nested))  # repr recurses in C, guarded only by the (lifted) limit

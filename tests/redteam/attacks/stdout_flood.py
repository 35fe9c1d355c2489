# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Flood stdout forever."""

import sys


def attack():
    chunk = "x" * (1 << 20)
    while True:
        sys.stdout.write(chunk)

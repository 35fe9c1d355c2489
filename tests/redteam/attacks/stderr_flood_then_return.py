# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Write 64 MiB to stderr, then return a small value: the result must survive the flood."""

import os


def attack():
    chunk = b"e" * (1 << 20)
    for _ in range(64):
        os.write(2, chunk)
    return 42

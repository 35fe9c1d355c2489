# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Sleep instead of computing: no CPU used, so only the wall clock can stop it."""

import time


def attack():
    time.sleep(10_000)

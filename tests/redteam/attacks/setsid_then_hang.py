# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""A setsid grandchild holds the pipes while the call itself hangs past the deadline."""

import os
import time


def attack():
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
    time.sleep(10_000)

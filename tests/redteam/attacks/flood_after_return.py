# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Return at once, leaving a setsid daemon that floods the shared output pipe at full speed."""

import os


def attack():
    if os.fork() == 0:
        os.setsid()
        chunk = b"z" * 65536
        while True:
            try:
                os.write(1, chunk)
            except OSError:
                os._exit(0)
    return "returned"

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Classic daemon: double fork + setsid, then report success immediately."""

import os
import time


def attack():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(0, 1024)
            while True:
                time.sleep(1)
        os._exit(0)
    os.waitpid(pid, 0)
    return "daemon started"

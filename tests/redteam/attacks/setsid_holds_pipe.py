# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""A setsid child that keeps stdout/stderr open (the output pipe) and outlives the call."""

import subprocess
import sys


def attack():
    subprocess.Popen(
        [
            sys.executable,
            "-S",
            "-c",
            "import time\nwhile True: print('x', flush=True); time.sleep(0.01)",
        ],
        start_new_session=True,
    )
    return "child detached"

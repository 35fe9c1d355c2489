# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Stay under the per-process address-space limit but fork many children that each fill
memory, so only the slot's memory cgroup can stop the total; then wait for them."""

import os


def attack():
    children = []
    for _ in range(8):
        pid = os.fork()
        if pid == 0:
            hoard = []
            try:
                for _ in range(130):
                    hoard.append(bytearray(1 << 20))  # touched pages: real memory
            except MemoryError:
                pass
            import time

            time.sleep(2)  # hold it, so that all children are alive at once
            os._exit(0)
        children.append(pid)
    killed = 0
    for pid in children:
        _pid, status = os.waitpid(pid, 0)
        killed += os.WIFSIGNALED(status)
    return killed

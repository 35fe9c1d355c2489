# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Run setuid-root helpers (su, mount, passwd, ...) hoping to regain root."""

import os
import subprocess


def attack():
    uids = {}
    for tool in ("su", "mount", "passwd", "newuidmap", "chfn", "gpasswd", "sudo"):
        for directory in ("/usr/bin", "/bin", "/usr/sbin"):
            path = os.path.join(directory, tool)
            if os.path.exists(path):
                try:
                    done = subprocess.run([path, "--help"], capture_output=True, timeout=5)
                    uids[path] = done.returncode
                except (OSError, subprocess.SubprocessError) as exc:
                    uids[path] = type(exc).__name__
                break
    return {"uid": os.getuid(), "euid": os.geteuid(), "ran": uids}

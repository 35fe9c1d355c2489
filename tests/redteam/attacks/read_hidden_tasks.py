# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Look for the hidden task instances and seeds: known paths, then a walk of the filesystem."""

import os


def attack(known_paths):
    readable = []
    for path in known_paths:
        try:
            with open(path, "rb") as handle:
                handle.read(100)
            readable.append(path)
        except OSError:
            pass
    hits = []
    for top in ("/", "/opt", "/usr/local", "/tmp", "/root"):
        for dirpath, dirnames, filenames in os.walk(top):
            if dirpath.startswith(("/proc", "/sys", "/dev", "/usr/share", "/usr/lib")):
                dirnames[:] = []
                continue
            for name in dirnames + filenames:
                if "selftaught" in name or name in ("tasks", "seeds", "runs", ".ssh"):
                    hits.append(os.path.join(dirpath, name))
    return {"readable": readable, "hits": hits}

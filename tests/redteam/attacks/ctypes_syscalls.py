# ruff: noqa  (hostile payload: data for the sandbox, not project code)
"""Raw syscalls through ctypes: mount, unshare, setns, bpf, keyctl, io_uring, modules, reboot."""

import ctypes
import os

# x86_64 syscall numbers
CALLS = {
    "mount": (165, (b"none", b"/tmp", b"tmpfs", 0, None)),
    "umount2": (166, (b"/proc", 2)),
    "unshare_newns": (272, (0x00020000,)),
    "unshare_newuser": (272, (0x10000000,)),
    "unshare_newnet": (272, (0x40000000,)),
    "setns": (308, (3, 0)),
    "bpf": (321, (0, None, 0)),
    "keyctl": (250, (0, 0)),
    "add_key": (248, (b"user", b"k", b"v", 1, -2)),
    "io_uring_setup": (425, (8, None)),
    "perf_event_open": (298, (None, 0, -1, -1, 0)),
    "init_module": (175, (None, 0, b"")),
    "finit_module": (313, (0, b"", 0)),
    "reboot": (169, (0xFEE1DEAD, 672274793, 0x4321FEDC, None)),
    "pivot_root": (155, (b"/tmp", b"/tmp")),
    "chroot": (161, (b"/tmp",)),
    "userfaultfd": (323, (0,)),
    "clone_newuser": (56, (0x10000000 | 17, None, None, None, None)),
}


def attack():
    libc = ctypes.CDLL(None, use_errno=True)
    outcomes = {}
    for name, (number, args) in CALLS.items():
        ctypes.set_errno(0)
        result = libc.syscall(number, *args)
        if result == 0 and name == "clone_newuser":
            os._exit(0)  # we are the new child: leave quietly
        outcomes[name] = "ok" if result >= 0 else os.strerror(ctypes.get_errno())
    return outcomes

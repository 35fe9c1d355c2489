"""The seccomp filter for untrusted children, compiled once in the orchestrator with pyseccomp.

The zygote receives the raw BPF program and installs it in each child with a single prctl, so
libseccomp never needs to be present inside the sandbox. Default action: allow; the listed calls
fail with EPERM (clone3 with ENOSYS so libc falls back to clone, whose flags we can inspect).
"""

from __future__ import annotations

import errno
import socket
import tempfile

DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsmount",
    "fsconfig", "fspick", "mount_setattr",
    "unshare", "setns",
    "bpf", "perf_event_open", "userfaultfd",
    "keyctl", "add_key", "request_key",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "reboot", "swapon", "swapoff", "acct", "quotactl",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "personality", "vhangup", "syslog",
)  # fmt: skip

# Namespace-creating clone flags: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
CLONE_NAMESPACE_FLAGS = (
    0x00020000,
    0x02000000,
    0x04000000,
    0x08000000,
    0x10000000,
    0x20000000,
    0x40000000,
    0x80,
)


class SeccompUnavailable(RuntimeError):
    """pyseccomp or libseccomp is missing, so no filter can be compiled."""


def build_filter_bpf() -> bytes:
    """Compile the deny-list filter to raw BPF for this machine's architecture."""
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as exc:  # OSError: libseccomp.so missing
        raise SeccompUnavailable(f"pyseccomp is not usable: {exc}") from exc
    deny = seccomp.ERRNO(errno.EPERM)
    flt = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in DENIED_SYSCALLS:
        try:
            flt.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):
            continue  # a call this kernel/arch does not have
    flt.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in CLONE_NAMESPACE_FLAGS:  # one rule per bit: the rules OR together
        flt.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    for name in ("socket", "socketpair"):
        flt.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
    with tempfile.TemporaryFile() as handle:
        flt.export_bpf(handle)
        handle.flush()
        handle.seek(0)
        data = handle.read()
    if not data or len(data) % 8:
        raise SeccompUnavailable("libseccomp produced an empty or malformed BPF program")
    return data


def describe() -> str:
    """One line for `selftaught doctor`."""
    return f"denies {len(DENIED_SYSCALLS)} syscalls, namespace clone flags, non-AF_UNIX sockets"


__all__ = ["DENIED_SYSCALLS", "SeccompUnavailable", "build_filter_bpf", "describe"]

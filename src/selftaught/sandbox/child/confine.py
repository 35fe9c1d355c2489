"""Confinement steps applied in each forked child before untrusted code runs (stdlib only).

Order matters: steps that need privileges (a private /tmp mount, rlimits above the zygote's, uid
change) come first; `no_new_privs` and the seccomp filter come last, once nothing privileged is
left to do.
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
from typing import Any

CLONE_NEWNS = 0x00020000
MS_NOSUID = 0x2
MS_NODEV = 0x4
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
PR_SET_DUMPABLE = 4
SHM_BYTES = 16 * 1024 * 1024

_libc = ctypes.CDLL(None, use_errno=True)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class SeccompProgram:
    """A compiled BPF program kept alive in the zygote so children only pay for one prctl."""

    def __init__(self, bpf: bytes) -> None:
        if len(bpf) % 8 or not bpf:
            raise ValueError("a BPF program is a non-empty multiple of 8 bytes")
        self._buffer = ctypes.create_string_buffer(bpf, len(bpf))
        self._prog = _SockFprog(len(bpf) // 8, ctypes.addressof(self._buffer))

    def load(self) -> None:
        """Install the filter on the calling thread (requires no_new_privs or CAP_SYS_ADMIN)."""
        if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0):
            raise OSError(ctypes.get_errno(), "seccomp filter refused")


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def private_tmp(size_bytes: int, inodes: int, uid: int | None, gid: int | None) -> None:
    """Give this child its own empty, size- and inode-bounded /tmp and /dev/shm (freed when it
    dies)."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    owner = f",uid={uid},gid={gid}" if uid is not None else ""
    options = f"size={size_bytes},nr_inodes={inodes},mode=0700{owner}".encode()
    _check(
        _libc.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options),
        "mount tmpfs on /tmp",
    )
    if os.path.isdir("/dev/shm"):  # POSIX semaphores (multiprocessing) need a writable one
        shm = f"size={SHM_BYTES},nr_inodes=256,mode=0700{owner}".encode()
        _check(
            _libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV, shm),
            "mount tmpfs on /dev/shm",
        )


def _set_limit(kind: int, soft: int, hard: int | None = None) -> None:
    hard = soft if hard is None else hard
    _cur_soft, cur_hard = resource.getrlimit(kind)
    if cur_hard != resource.RLIM_INFINITY:
        hard = min(hard, cur_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def address_space_in_use() -> int:
    """Virtual memory already mapped by this process (the interpreter, preloaded modules)."""
    with open("/proc/self/statm", "rb") as handle:
        pages = int(handle.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def apply_rlimits(cfg: dict[str, Any], limits: dict[str, Any]) -> None:
    """CPU (SIGXCPU at the soft limit, SIGKILL one second later), AS, FSIZE, NOFILE, NPROC, CORE."""
    cpu = max(1, math.ceil(limits["cpu"]))
    _set_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
    _set_limit(resource.RLIMIT_AS, address_space_in_use() + int(limits["memory"]))
    _set_limit(resource.RLIMIT_FSIZE, int(cfg["fsize"]))
    _set_limit(resource.RLIMIT_NOFILE, int(cfg["nofile"]))
    _set_limit(resource.RLIMIT_NPROC, int(cfg["nproc"]))
    _set_limit(resource.RLIMIT_CORE, 0)


def drop_privileges(uid: int, gid: int) -> None:
    """Become the slot's unprivileged uid for good: no groups, no capabilities left."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def no_new_privs() -> None:
    """Forbid regaining privileges through exec (setuid binaries, file capabilities)."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def prefer_oom_kill() -> None:
    """Make this child, not the zygote, the memory cgroup's first OOM victim."""
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write("1000")
    except OSError:
        pass


def confine(cfg: dict[str, Any], limits: dict[str, Any], seccomp: SeccompProgram | None) -> None:
    """Apply every configured layer; raise if one that the zygote promised cannot be applied."""
    os.setsid()
    uid, gid = cfg.get("uid"), cfg.get("gid")
    if cfg.get("private_tmp"):
        private_tmp(int(cfg["tmp_bytes"]), int(cfg["tmp_inodes"]), uid, gid)
    prefer_oom_kill()
    apply_rlimits(cfg, limits)
    if uid is not None and gid is not None:
        drop_privileges(uid, gid)
    os.chdir("/tmp")  # after the uid change: the fresh /tmp is private to the slot's uid
    no_new_privs()
    if seccomp is not None:
        seccomp.load()

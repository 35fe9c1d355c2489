"""Detects which isolation layers this machine offers and builds the command that starts a zygote.

Layers, outermost first: bubblewrap namespaces (mount, pid, net, ipc, uts; read-only minimal
filesystem; die-with-parent; new session; cleared environment), an unprivileged uid per slot, a
private per-evaluation tmpfs, rlimits, cgroups v1, seccomp. A missing layer is reported once and
the next one still applies.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selftaught.sandbox import cgroups
from selftaught.sandbox.packages import importable_packages, package_binds, package_set
from selftaught.sandbox.seccomp_filter import SeccompUnavailable, build_filter_bpf

log = logging.getLogger("selftaught.sandbox")

CHILD_DIR = Path(__file__).resolve().parent / "child"
INSIDE_LIB = "/opt/selftaught/lib"
INSIDE_SITE = "/opt/selftaught/site"
UID_BASE = 100_000
SLOTS_PER_ORCHESTRATOR = 32
TMP_BYTES = 64 * 1024 * 1024
TMP_INODES = 4096
FSIZE_BYTES = 64 * 1024 * 1024
NOFILE = 256
NPROC = 64
PIDS_MAX = 96
ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MALLOC_ARENA_MAX": "2",
}
ROOT_DIRS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SANDBOX_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_SYS_ADMIN")


@dataclass(frozen=True)
class LayerStatus:
    """One isolation layer: whether it is active and why (or why not)."""

    name: str
    active: bool
    detail: str


@dataclass(frozen=True)
class Plan:
    """Everything needed to start zygotes on this machine, for one set of extra packages."""

    prefix: tuple[str, ...]
    python: str
    zygote: str
    config: dict[str, Any]
    layers: tuple[LayerStatus, ...]
    env: dict[str, str] = field(default_factory=lambda: dict(ENV))
    packages: tuple[str, ...] = ()

    def slot_uid(self, slot: int) -> int | None:
        """The unprivileged uid of a slot, or None when we cannot switch uids."""
        if not self.config.get("switch_uid"):
            return None
        return UID_BASE + (os.getpid() % 10_000) * SLOTS_PER_ORCHESTRATOR + slot

    def zygote_config(self, slot: int) -> dict[str, Any]:
        """The init frame for the zygote of `slot`."""
        uid = self.slot_uid(slot)
        return {**self.config, "uid": uid, "gid": uid}


def _package_binds(extra: tuple[str, ...]) -> list[tuple[str, str]]:
    """Bind mounts of numpy and the extra packages into the sandbox's site directory."""
    return [
        (source, f"{INSIDE_SITE}/{name}")
        for source, name in package_binds(importable_packages(extra))
    ]


def _python() -> tuple[str, Path]:
    return os.path.realpath(sys.executable), Path(os.path.realpath(sys.base_prefix))


def bwrap_args(root: bool, extra: tuple[str, ...] = ()) -> list[str]:
    """The bubblewrap command line (without the program to run); `extra` packages are mounted
    read-only beside numpy."""
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--die-with-parent", "--new-session", "--clearenv"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts"]
    args += ["--unshare-cgroup-try", "--ro-bind", "/usr", "/usr"]
    for name in ROOT_DIRS:
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    _exe, prefix = _python()
    binds = [(str(CHILD_DIR), INSIDE_LIB), *_package_binds(extra)]
    if not str(prefix).startswith("/usr/"):
        binds.append((str(prefix), str(prefix)))
    made: set[str] = set()
    for source, target in binds:
        args += _parent_dirs(target, made)
        args += ["--ro-bind", source, target]
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp"]
    args += ["--chdir", "/tmp"]
    if root:
        args += ["--cap-drop", "ALL"]
        for cap in SANDBOX_CAPS:
            args += ["--cap-add", cap]
    else:
        args += ["--unshare-user", "--disable-userns"]
    for key, value in ENV.items():
        args += ["--setenv", key, value]
    return args


def _parent_dirs(target: str, made: set[str]) -> list[str]:
    """World-readable parents for a bind target (bubblewrap would create them 0700)."""
    args: list[str] = []
    parts = Path(target).parts[1:-1]
    for depth in range(1, len(parts) + 1):
        path = "/" + "/".join(parts[:depth])
        if path not in made:
            made.add(path)
            args += ["--perms", "0755", "--dir", path]
    return args


@functools.cache
def _bwrap_probe(root: bool) -> str | None:
    """None when bubblewrap can start our interpreter here, else the reason it cannot."""
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (apt install bubblewrap)"
    exe, _prefix = _python()
    argv = [*bwrap_args(root), exe, "-s", "-S", "-c", "import os; os.listdir('/tmp')"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap failed to start: {exc}"
    if done.returncode != 0:
        return f"bwrap failed: {done.stderr.decode(errors='replace').strip()[:300]}"
    return None


DISABLE_ENV = "SELFTAUGHT_SANDBOX_DISABLE"
LAYER_NAMES = (
    "bubblewrap", "network", "uid", "private-tmp", "rlimits", "cgroup-memory", "cgroup-pids",
    "seccomp",
)  # fmt: skip


def disabled_layers() -> set[str]:
    """Layers switched off on purpose (comma list in $SELFTAUGHT_SANDBOX_DISABLE), for tests and
    for debugging; `rlimits` cannot be switched off."""
    names = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
    unknown = names - set(LAYER_NAMES)
    if unknown:
        log.warning("%s: unknown layer name(s) %s", DISABLE_ENV, ", ".join(sorted(unknown)))
    return names - {"rlimits"}


def _detect(root: bool, off: set[str]) -> tuple[dict[str, tuple[bool, str]], str | None]:
    """(layer -> (active, detail), compiled seccomp filter as hex)."""
    why_off = f"disabled by {DISABLE_ENV}"
    found: dict[str, tuple[bool, str]] = {}
    problem = why_off if "bubblewrap" in off else _bwrap_probe(root)
    found["bubblewrap"] = (
        problem is None,
        problem
        or "mount, pid, net, ipc, uts namespaces; read-only /usr, python, numpy "
        "and a task's declared packages only",
    )
    found["network"] = (problem is None, problem or "empty network namespace")
    found["uid"] = (root, "each slot runs as its own unprivileged uid" if root else "not root")
    tmp = f"fresh tmpfs /tmp per evaluation ({TMP_BYTES >> 20} MiB, {TMP_INODES} inodes)"
    found["private-tmp"] = (root, tmp if root else "needs root (CAP_SYS_ADMIN)")
    found["rlimits"] = (True, "CPU, AS, FSIZE, NOFILE, NPROC, CORE")
    for controller in cgroups.CONTROLLERS:
        base = cgroups.controller_base(controller)
        detail = f"per-slot cgroup under {base}" if base else f"cgroup v1 {controller} not writable"
        found[f"cgroup-{controller}"] = (base is not None, detail)
    seccomp_hex = None
    found["seccomp"] = (False, why_off)
    if "seccomp" not in off:
        try:
            seccomp_hex = build_filter_bpf().hex()
            found["seccomp"] = (True, "deny-list BPF filter (pyseccomp)")
        except SeccompUnavailable as exc:
            found["seccomp"] = (False, str(exc))
    for name in off:
        if name in found:
            found[name] = (False, why_off)
    if "bubblewrap" in off:
        found["network"] = (False, "needs bubblewrap")
    return found, seccomp_hex


@functools.cache
def _detected() -> tuple[tuple[LayerStatus, ...], bool, dict[str, bool], str | None]:
    """(layers, root, layer -> active, seccomp filter): detected once per process; a warning is
    logged once about each missing layer."""
    root = os.geteuid() == 0
    found, seccomp_hex = _detect(root, disabled_layers())
    layers = tuple(LayerStatus(name, *found[name]) for name in LAYER_NAMES)
    for layer in layers:
        if not layer.active:
            log.warning("sandbox layer %r is not active: %s", layer.name, layer.detail)
    return layers, root, {name: active for name, (active, _) in found.items()}, seccomp_hex


@functools.cache
def plan(extra: tuple[str, ...] = ()) -> Plan:
    """How to start zygotes whose candidates may import numpy plus the `extra` packages (a
    task's declared ones, see `selftaught.sandbox.packages`)."""
    extra = package_set(extra)
    layers, root, active, seccomp_hex = _detected()
    exe, _prefix = _python()
    use_bwrap = active["bubblewrap"]
    config = {
        "switch_uid": active["uid"],
        "private_tmp": active["private-tmp"],
        "tmp_bytes": TMP_BYTES,
        "tmp_inodes": TMP_INODES,
        "fsize": FSIZE_BYTES,
        "nofile": NOFILE,
        "nproc": NPROC,
        "pidns": use_bwrap,
        "seccomp": seccomp_hex,
        "paths": [INSIDE_SITE] if use_bwrap else _host_paths(extra),
        # preloaded in the zygote, so a forked candidate finds them imported already
        "preload": [*importable_packages(extra), "numpy.random"],
        "cgroups": [c for c in cgroups.CONTROLLERS if active[f"cgroup-{c}"]],
    }
    prefix = tuple(bwrap_args(root, extra)) if use_bwrap else ()
    zygote = f"{INSIDE_LIB}/zygote.py" if use_bwrap else str(CHILD_DIR / "zygote.py")
    return Plan(prefix, exe, zygote, config, layers, packages=extra)


def _host_paths(extra: tuple[str, ...]) -> list[str]:
    """Without bubblewrap, the sandbox packages are imported from where they are installed."""
    return sorted({str(Path(source).parent) for source, _target in _package_binds(extra)})

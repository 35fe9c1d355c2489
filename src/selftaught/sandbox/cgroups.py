"""Per-slot cgroup v1 memory and pids controllers, created only where the hierarchy is writable.

The cgroup is a backstop under the rlimits: the memory controller also counts page cache and tmpfs
pages, the pids controller caps fork and thread bombs even for root-owned processes, and its
`cgroup.procs` lists every process of the slot for the final sweep.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("memory", "pids")


def _own_path(controller: str) -> str:
    """This process's cgroup path in a v1 hierarchy (from /proc/self/cgroup)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _num, names, path = line.split(":", 2)
            if controller in names.split(","):
                return path
    return "/"


def controller_base(controller: str) -> Path | None:
    """Where this process may create child cgroups for `controller`, or None when it cannot."""
    mount = CGROUP_ROOT / controller
    if not (mount / "cgroup.procs").exists():
        return None
    base = mount / _own_path(controller).lstrip("/")
    if not base.is_dir():
        base = mount
    return base if os.access(base, os.W_OK) else None


@dataclass
class SlotCgroup:
    """The cgroup directories of one sandbox slot (one per available controller)."""

    dirs: dict[str, Path]
    memory_limit: int = 0

    def join_command(self) -> list[str]:
        """A shell prefix that moves itself into the cgroups and then execs the rest of argv."""
        targets = " ".join(f"'{d / 'cgroup.procs'}'" for d in self.dirs.values())
        script = f'for f in {targets}; do echo $$ > "$f" || exit 97; done; exec "$@"'
        return ["/bin/sh", "-c", script, "sh"]

    def set_memory(self, limit: int) -> None:
        """Set the memory (and memory+swap, where accounted) hard limit; skipped when unchanged.

        memsw must stay >= the memory limit, so the order of the writes depends on the direction;
        trying memory, memsw, memory again covers both without reading the current values.
        """
        path = self.dirs.get("memory")
        if path is None or limit == self.memory_limit:
            return
        for name in (
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.limit_in_bytes",
        ):
            with contextlib.suppress(OSError):
                (path / name).write_text(str(limit))
        self.memory_limit = limit

    def oom_kills(self) -> int:
        """How many processes the kernel's OOM killer has killed in this cgroup so far."""
        path = self.dirs.get("memory")
        if path is None:
            return 0
        with contextlib.suppress(OSError, ValueError):
            for line in (path / "memory.oom_control").read_text().splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
        return 0

    def procs(self) -> set[int]:
        """Every process currently in any of the slot's cgroups."""
        found: set[int] = set()
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                found.update(int(p) for p in (path / "cgroup.procs").read_text().split())
        return found

    def remove(self) -> None:
        """Delete the (empty) cgroup directories."""
        for path in self.dirs.values():
            with contextlib.suppress(OSError):
                path.rmdir()


def _remove_stale(base: Path) -> None:
    """Remove empty slot cgroups left behind by orchestrators that died (name has their pid)."""
    for path in base.glob("selftaught-*-*"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            with contextlib.suppress(OSError):
                path.rmdir()


def create(
    name: str, memory_limit: int, pids_max: int, controllers: tuple[str, ...] = CONTROLLERS
) -> SlotCgroup | None:
    """Create `name` under every writable controller asked for; None when none is available."""
    dirs: dict[str, Path] = {}
    for controller in controllers:
        base = controller_base(controller)
        if base is None:
            continue
        _remove_stale(base)
        path = base / name
        try:
            path.mkdir(exist_ok=True)
            if controller == "pids":
                (path / "pids.max").write_text(str(pids_max))
        except OSError:
            continue
        dirs[controller] = path
    if not dirs:
        return None
    group = SlotCgroup(dirs)
    group.set_memory(memory_limit)
    return group

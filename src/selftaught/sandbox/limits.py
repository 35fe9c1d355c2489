"""The sandbox's public records: resource limits in, call results out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "memory", "invalid_output", "crashed"]
STATUSES: tuple[Status, ...] = ("ok", "error", "timeout", "memory", "invalid_output", "crashed")

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Per-call resource limits for untrusted code.

    wall_seconds: wall-clock deadline for the whole evaluation (pipes included).
    cpu_seconds: CPU-time limit; defaults to wall_seconds. Set below wall_seconds, it is watched
        across every process of the evaluation (to a few ms), so the verdict does not depend on
        machine load; RLIMIT_CPU (whole seconds, per process) backs it up.
    memory_bytes: address space the program may add on top of the interpreter (RLIMIT_AS), also
        the basis of the slot's memory cgroup limit.
    output_bytes: the largest JSON result (or session message) accepted from the child.
    """

    wall_seconds: float
    cpu_seconds: float | None = None
    memory_bytes: int = 512 * MiB
    output_bytes: int = 1 * MiB

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")
        if self.memory_bytes < 16 * MiB:
            raise ValueError(
                f"Limits.memory_bytes must be at least 16 MiB, got {self.memory_bytes}"
            )
        if self.output_bytes < 64:
            raise ValueError(f"Limits.output_bytes must be at least 64, got {self.output_bytes}")

    @property
    def cpu(self) -> float:
        """The effective CPU limit in seconds."""
        return self.cpu_seconds if self.cpu_seconds is not None else self.wall_seconds

    def as_job(self) -> dict[str, Any]:
        """The JSON form the zygote understands."""
        return {
            "wall": self.wall_seconds,
            "cpu": self.cpu,
            "memory": self.memory_bytes,
            "output": self.output_bytes,
        }


@dataclass(frozen=True)
class CallResult:
    """The outcome of one untrusted call.

    status: ok | error | timeout | memory | invalid_output | crashed.
    value: the decoded JSON return value (only meaningful when status is ok).
    error: a short human- and LM-readable explanation (None when ok).
    seconds: wall-clock seconds the evaluation took, measured outside the untrusted process.
    cpu_seconds: CPU time the evaluation used (user + system, its processes), measured outside
        the untrusted process; 0 when the sandbox could not measure it.
    """

    status: Status
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the call returned a valid JSON value."""
        return self.status == "ok"

"""`doctor()`: which isolation layers are active, confirmed by a probe run inside the sandbox;
`package_statuses()`: which packages candidates can import there."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from selftaught.sandbox.api import run_function
from selftaught.sandbox.launcher import TMP_BYTES, LayerStatus, plan
from selftaught.sandbox.limits import Limits
from selftaught.sandbox.packages import importable_packages

PROBE_SOURCE = """
import os, resource

def _status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return line.split()[1]
    return ""

def probe():
    tmp = os.statvfs("/tmp")
    with open("/proc/net/dev") as handle:
        interfaces = [line.split(":")[0].strip() for line in handle if ":" in line]
    limits = {name: resource.getrlimit(getattr(resource, "RLIMIT_" + name))[1]
              for name in ("CPU", "AS", "FSIZE", "NOFILE", "NPROC", "CORE")}
    return {
        "uid": os.getuid(),
        "seccomp": _status("Seccomp"),
        "no_new_privs": _status("NoNewPrivs"),
        "cap_eff": _status("CapEff"),
        "project_visible": os.path.exists("/work") or os.path.exists("/home"),
        "root_entries": sorted(os.listdir("/")),
        "interfaces": interfaces,
        "tmp_bytes": tmp.f_blocks * tmp.f_frsize,
        "rlimits": limits,
        "pid": os.getpid(),
    }
"""


def _confirm(layer: LayerStatus, facts: dict[str, Any]) -> LayerStatus:
    """Downgrade a layer the probe could not observe from inside the sandbox."""
    checks = {
        "bubblewrap": not facts["project_visible"] and "home" not in facts["root_entries"],
        "network": set(facts["interfaces"]) <= {"lo"},
        "uid": facts["uid"] != 0 and int(facts["cap_eff"] or "0", 16) == 0,
        "private-tmp": 0 < facts["tmp_bytes"] <= TMP_BYTES,
        "rlimits": all(v != -1 for v in facts["rlimits"].values()),
        "seccomp": facts["seccomp"] == "2",
    }
    ok = checks.get(layer.name, True)
    if layer.active and not ok:
        return replace(layer, active=False, detail=f"{layer.detail} (NOT observed by the probe)")
    return layer


def doctor() -> list[LayerStatus]:
    """Report each isolation layer, confirmed from inside a sandboxed probe process."""
    layers = list(plan().layers)
    result = run_function(PROBE_SOURCE, "probe", [], Limits(wall_seconds=30))
    if not result.ok or not isinstance(result.value, dict):
        layers = [replace(layer, active=False) if layer.name != "rlimits" else layer
                  for layer in layers]  # fmt: skip
        return [*layers, LayerStatus("zygote", False, f"probe failed: {result.error}")]
    layers = [_confirm(layer, result.value) for layer in layers]
    detail = f"pre-started zygote forks each evaluation (probe: {result.seconds * 1000:.1f} ms)"
    return [*layers, LayerStatus("zygote", True, detail)]


@dataclass(frozen=True)
class PackageStatus:
    """One package candidates may import: whether an import inside the sandbox worked, and its
    version (or the import error)."""

    name: str
    importable: bool
    detail: str


PACKAGE_PROBE = """
import importlib

def probe(names):
    found = {}
    for name in names:
        try:
            module = importlib.import_module(name)
            found[name] = [True, str(getattr(module, "__version__", "") or "")]
        except BaseException as exc:
            found[name] = [False, (type(exc).__name__ + ": " + str(exc))[:300]]
    return found
"""


def package_statuses(extra: tuple[str, ...] = ()) -> list[PackageStatus]:
    """Import numpy and the `extra` packages (a task's declared ones) inside a sandbox that
    mounts exactly those, and report each."""
    names = list(importable_packages(extra))
    result = run_function(PACKAGE_PROBE, "probe", [names], Limits(wall_seconds=60), packages=extra)
    if not result.ok or not isinstance(result.value, dict):
        return [PackageStatus(name, False, f"probe failed: {result.error}") for name in names]
    return [PackageStatus(name, *result.value[name]) for name in names]

"""Which installed packages candidate programs may import, and where they live on the host.

The standard library is always importable in the sandbox, and so is numpy. A task may declare
more (`Task.packages`, a task file's `PACKAGES`): each is an import name of a package installed in
the orchestrator's Python environment, and the sandbox of that task's candidates mounts exactly
those package directories, read-only, beside numpy. Nothing else of site-packages is visible.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

#: Importable by every candidate of every task (besides the standard library).
BASE_PACKAGES: tuple[str, ...] = ("numpy",)
#: Never mountable: the orchestrator's own code (it holds built-in tasks' instance generators).
REFUSED = frozenset({"selftaught"})
_INSTALL_DIRS = ("site-packages", "dist-packages")


def package_set(extra: Iterable[str]) -> tuple[str, ...]:
    """The canonical key of a task's extra packages: sorted, without duplicates or numpy."""
    return tuple(sorted(set(extra) - set(BASE_PACKAGES)))


def importable_packages(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The modules a candidate can import besides the standard library: numpy, then the task's
    declared packages (`extra`), in order and without duplicates."""
    return tuple(dict.fromkeys([*BASE_PACKAGES, *extra]))


def package_problem(name: object) -> str | None:
    """Why `name` cannot be made importable in the sandbox, or None when it can.

    It must be a top-level import name (`yaml`, not `PyYAML` or `yaml.constructor`) of a package
    installed in this Python environment's site-packages, and not part of the standard library.
    """
    if not isinstance(name, str) or not name.isidentifier():
        return f"{name!r} is not an import name (such as 'scipy' or 'yaml')"
    if name in sys.stdlib_module_names:
        return f"{name!r} is in the standard library, which candidates can always import"
    if name in REFUSED:
        return f"{name!r} cannot be made importable in the sandbox"
    spec = importlib.util.find_spec(name)
    if spec is None:
        return (
            f"package {name!r} is not installed in selftaught's Python environment "
            f"({sys.executable}); install it there, e.g. `{sys.executable} -m pip install ...`"
        )
    locations = _locations(spec)
    if len(locations) != 1:
        return f"package {name!r} is a namespace package spread over several directories"
    if not set(_INSTALL_DIRS) & set(locations[0].parts):
        return f"{name!r} at {locations[0]} is not an installed package (not in site-packages)"
    return None


def package_binds(names: Iterable[str]) -> list[tuple[str, str]]:
    """(host path, name inside the sandbox's site directory) for each installed package, with
    the vendored shared libraries some wheels keep beside it (`numpy.libs`, `scipy.libs`)."""
    binds: list[tuple[str, str]] = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None:
            continue
        for path in _locations(spec)[:1]:
            binds.append((str(path), path.name))
            for libs in _vendored_libs(name, path.parent):
                binds.append((str(libs), libs.name))
    return list(dict.fromkeys(binds))


def _locations(spec: importlib.machinery.ModuleSpec) -> list[Path]:
    """A package's directory (or directories), or a single-file module's file."""
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    return [Path(spec.origin).resolve()] if spec.origin else []


def _vendored_libs(name: str, site: Path) -> list[Path]:
    """`<name>.libs` or `<distribution>.libs` directories beside the package (auditwheel)."""
    owners = _distributions().get(name, [])
    candidates = {name, *owners, *(owner.lower() for owner in owners)}
    return [site / f"{c}.libs" for c in sorted(candidates) if (site / f"{c}.libs").is_dir()]


@functools.cache
def _distributions() -> dict[str, list[str]]:
    return dict(importlib.metadata.packages_distributions())

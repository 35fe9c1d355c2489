"""Checks that a path can be written, made before anything is written.

A command that will write a directory or a file checks it first, so that an impossible path fails
with one clear line and leaves nothing behind (no half-made directory, no empty run). The checks
look at the path's text (length limits) and at its nearest existing ancestor (a directory, on a
writable file system, that this user may write); they create nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from selftaught.errors import ConfigError

#: Fallbacks for systems that do not report their limits through `os.pathconf`.
NAME_MAX = 255
PATH_MAX = 4096


def _limits(existing: Path) -> tuple[int, int]:
    try:
        return os.pathconf(existing, "PC_NAME_MAX"), os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        return NAME_MAX, PATH_MAX


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError:  # missing, or a name too long to look up
        return False
    return True


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if _exists(candidate):
            return candidate
    return Path("/")


def _check_length(path: Path, existing: Path, what: str) -> None:
    name_max, path_max = _limits(existing)
    if len(os.fsencode(path)) >= path_max:
        shown = f"{str(path)[:60]}..."
        raise ConfigError(f"{what} path is too long ({len(str(path))} characters): {shown}")
    for part in path.parts:
        if len(os.fsencode(part)) > name_max:
            raise ConfigError(
                f"{what} path has a name longer than {name_max} bytes: {part[:40]}..."
            )


def _check_ancestor(path: Path, existing: Path, what: str) -> None:
    if not existing.is_dir():
        raise ConfigError(f"cannot create {what} {path}: {existing} is not a directory")
    if os.statvfs(existing).f_flag & os.ST_RDONLY:
        raise ConfigError(f"cannot create {what} {path}: {existing} is on a read-only file system")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot create {what} {path}: no permission to write in {existing}")


def check_writable_dir(path: Path | str, what: str = "directory") -> Path:
    """Raise ConfigError unless `path` is, or can be created as, a writable directory."""
    path = Path(path).expanduser().absolute()
    existing = _nearest_existing(path)
    _check_length(path, existing, what)
    if existing == path:
        if not path.is_dir():
            raise ConfigError(f"{what} {path} exists and is not a directory")
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            raise ConfigError(f"{what} {path} is on a read-only file system")
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"no permission to write in {what} {path}")
        return path
    _check_ancestor(path, existing, what)
    return path


def check_writable_file(path: Path | str, what: str = "file") -> Path:
    """Raise ConfigError unless `path` can be written as a file (its folder may not exist yet)."""
    path = Path(path).expanduser().absolute()
    existing = _nearest_existing(path)
    _check_length(path, existing, what)
    if existing == path and path.is_dir():
        raise ConfigError(f"{what} {path} is a directory")
    if existing == path:
        if not os.access(path, os.W_OK) or os.statvfs(path).f_flag & os.ST_RDONLY:
            raise ConfigError(f"no permission to write {what} {path}")
        return path
    _check_ancestor(path, existing, what)
    return path

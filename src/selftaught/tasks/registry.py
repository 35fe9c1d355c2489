"""Finding tasks: built-ins, task files and installed plugins (`get_task`, `list_tasks`).

`get_task` accepts a built-in name, a path to a task file (anything ending in `.py` or containing
a path separator) or the name of an entry point in the `selftaught.tasks` group. A task file, once
loaded, is also found by its NAME for the rest of the process, so code that keeps only
`task.name` (the run store, a resumed session) can look it up again.
"""

from __future__ import annotations

import importlib.metadata
import threading
import types
import warnings
from pathlib import Path

from selftaught.errors import ConfigError
from selftaught.tasks import (
    bin_packing,
    circle_packing,
    maxcut,
    parity_noise,
    parity_noiseless,
    quadratic_assignment,
    str_grid_dist,
    three_sat,
)
from selftaught.tasks.base import Task
from selftaught.tasks.plugin import is_task_path, load_task_file, task_from_module

ENTRY_POINT_GROUP = "selftaught.tasks"

_TASKS: dict[str, Task] = {
    module.TASK.name: module.TASK
    for module in (
        parity_noise,
        parity_noiseless,
        str_grid_dist,
        quadratic_assignment,
        three_sat,
        maxcut,
        circle_packing,
        bin_packing,
    )
}

# Tasks loaded from files or plugins in this process, by name; task files by path and stat.
_LOADED: dict[str, Task] = {}
_PLUGINS: dict[str, Task] = {}
_FILES: dict[Path, tuple[tuple[int, int], Task]] = {}
_LOCK = threading.RLock()


def list_tasks() -> list[Task]:
    """Built-in tasks (meta-training task parity_noise first), then installed plugins.

    A plugin that fails to load is skipped with a warning naming it and the reason.
    """
    tasks = list(_TASKS.values())
    for name in plugin_names():
        try:
            tasks.append(_plugin(name))
        except ConfigError as exc:
            warnings.warn(f"skipping task plugin {name!r}: {exc}", stacklevel=2)
    return tasks


def task_names() -> list[str]:
    """The built-in names accepted by `get_task` (task files and plugins come on top)."""
    return list(_TASKS)


def plugin_names() -> list[str]:
    """Names of the entry points in the `selftaught.tasks` group, sorted."""
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    return sorted({ep.name for ep in eps if ep.name not in _TASKS})


def get_task(name_or_path: str | Path) -> Task:
    """The task called `name_or_path`, or the task defined by that file; ConfigError otherwise."""
    if isinstance(name_or_path, Path) or is_task_path(str(name_or_path)):
        with _LOCK:  # the loop's threads may load the same file at once
            return _register(_task_file(Path(name_or_path).expanduser()))
    name = str(name_or_path)
    if name in _TASKS:
        return _TASKS[name]
    if name in _LOADED:
        return _LOADED[name]
    if name in plugin_names():
        with _LOCK:
            return _plugin(name)
    valid = ", ".join([*_TASKS, *plugin_names()])
    raise ConfigError(
        f"unknown task {name!r}; valid tasks: {valid} (or a task file: --task path/to/task.py)"
    )


def task_reference(name_or_path: str | Path) -> str:
    """What to store to find a task again later: a task file's absolute path, else the name."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or is_task_path(text):
        return str(Path(text).expanduser().resolve())
    return text


def _task_file(path: Path) -> Task:
    """Load a task file, or reuse it when unchanged since it was last loaded."""
    try:
        stat = path.resolve().stat()
        key = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        return load_task_file(path, reserved=_TASKS)  # (raises the readable "does not exist")
    cached = _FILES.get(path.resolve())
    if cached is not None and cached[0] == key:
        return cached[1]
    task = load_task_file(path, reserved=_TASKS)
    _FILES[path.resolve()] = (key, task)
    return task


def _register(task: Task) -> Task:
    if task.name in _TASKS:
        raise ConfigError(
            f"{task.origin}: NAME {task.name!r} is a built-in task's name; choose another"
        )
    previous = _LOADED.get(task.name)
    if previous is not None and previous.origin != task.origin:
        raise ConfigError(
            f"{task.origin}: a different task named {task.name!r} is already loaded from"
            f" {previous.origin}; give one of them another NAME"
        )
    _LOADED[task.name] = task
    return task


def _plugin(name: str) -> Task:
    if name in _PLUGINS:
        return _PLUGINS[name]
    (ep,) = [e for e in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if e.name == name]
    origin = f"entry point {ep.name} = {ep.value}"
    try:
        obj = ep.load()
    except Exception as exc:
        raise ConfigError(f"{origin}: cannot load: {type(exc).__name__}: {exc}") from None
    if callable(obj) and not isinstance(obj, Task | types.ModuleType):
        obj = obj()
    if isinstance(obj, types.ModuleType):
        task = task_from_module(obj, origin, reserved=_TASKS)
    elif isinstance(obj, Task):
        task = obj
    else:
        raise ConfigError(f"{origin}: expected a module or a Task, got {type(obj).__name__}")
    if task.name != name:
        raise ConfigError(f"{origin}: the task is named {task.name!r}; name the entry point so")
    _PLUGINS[name] = _register(task)
    return task

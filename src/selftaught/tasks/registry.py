"""The registry of built-in tasks: `get_task` and `list_tasks`."""

from __future__ import annotations

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


def list_tasks() -> list[Task]:
    """All built-in tasks, meta-training task (parity_noise) first."""
    return list(_TASKS.values())


def task_names() -> list[str]:
    """The names accepted by `get_task`."""
    return list(_TASKS)


def get_task(name: str) -> Task:
    """The task called `name`; raises ConfigError naming the valid tasks otherwise."""
    try:
        return _TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task {name!r}; valid tasks: {', '.join(_TASKS)}") from None

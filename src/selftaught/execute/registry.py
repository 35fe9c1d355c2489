"""The table of executors: a name (`RunConfig.executor`, `--executor`) -> its class.

Adding an executor is one module with a class that satisfies `selftaught.core.context.Executor`
plus one line here (and its name in `selftaught.config.EXECUTORS`, which validates configs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from selftaught.config import EXECUTORS
from selftaught.core.context import Executor
from selftaught.errors import ConfigError

if TYPE_CHECKING:
    from selftaught.lm.factory import ModelAccess

__all__ = ["EXECUTORS", "EXECUTOR_CLASSES", "executor_class", "make_executor"]


def _local() -> type[Executor]:
    from selftaught.execute.local import LocalExecutor

    return LocalExecutor


def _ray() -> type[Executor]:
    # imported on first use: the driver module is only needed when a run asks for Ray
    from selftaught.execute.ray_driver import RayExecutor

    return RayExecutor


#: name -> the executor's class, loaded on first use. Keys match `config.EXECUTORS`.
EXECUTOR_CLASSES: dict[str, Callable[[], type[Executor]]] = {"local": _local, "ray": _ray}


def executor_class(name: str) -> type[Executor]:
    """The class of the executor called `name`; ConfigError naming the valid ones otherwise."""
    if name not in EXECUTOR_CLASSES:
        raise ConfigError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")
    return EXECUTOR_CLASSES[name]()


def make_executor(
    name: str, *, address: str | None = None, access: ModelAccess | None = None
) -> Executor:
    """The executor called `name` (`local` or `ray`); ConfigError for anything else.

    `address` is the cluster to join, for executors that join one (Ray: default `RAY_ADDRESS`,
    else a local Ray instance). `access` is how workers reach the model (its server URL and
    concurrency travel with each session).
    """
    return executor_class(name).open(address, access)

"""The executor seam: a small protocol that the loop, `compare` and the benchmarks call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from selftaught.config import EXECUTORS
from selftaught.errors import ConfigError

if TYPE_CHECKING:
    from selftaught.core.jobs import SessionJob
    from selftaught.core.meta import LoopContext
    from selftaught.lm.factory import ModelAccess
    from selftaught.store.db import Evaluation, SessionRecord
    from selftaught.tasks import Task
__all__ = ["EXECUTORS", "Executor", "SessionDone", "make_executor"]

#: Called on the driver as each session finishes (in completion order).
SessionDone = Callable[["SessionJob", "SessionRecord"], None]


class Executor(Protocol):
    """Runs improver sessions and sandboxed evaluations, locally or on a cluster.

    Implementations never write the run store from anywhere but the calling process, reuse
    stored sessions instead of repeating them, and return results in the order of the jobs.
    """

    name: str

    def run_sessions(
        self,
        ctx: LoopContext,
        jobs: Sequence[SessionJob],
        *,
        parallel: int | None = None,
        on_done: SessionDone | None = None,
    ) -> list[SessionRecord]:
        """Run every job (at most `parallel` at once where the executor decides that)."""
        ...

    def score(self, task: Task, source: str, split: str) -> Evaluation:
        """Score one program on one split of a task, in the sandbox."""
        ...

    def score_many(self, task: Task, sources: Sequence[str], split: str) -> list[Evaluation]:
        """Score many programs; results in the order of `sources`."""
        ...

    def close(self) -> None:
        """Release what the executor started (threads, a local Ray instance)."""
        ...


def make_executor(
    name: str, *, address: str | None = None, access: ModelAccess | None = None
) -> Executor:
    """The executor called `name` (`local` or `ray`); ConfigError for anything else.

    `address` is the Ray cluster to join (default: `RAY_ADDRESS`, else a local Ray instance).
    `access` is how workers reach the model (its server URL and concurrency travel with each
    session).
    """
    if name == "local":
        from selftaught.execute.local import LocalExecutor

        return LocalExecutor()
    if name == "ray":
        from selftaught.execute.ray_driver import RayExecutor

        return RayExecutor(address=address, access=access)
    raise ConfigError(f"unknown executor {name!r}; valid: {', '.join(EXECUTORS)}")

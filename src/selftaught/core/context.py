"""The loop's context and the executor seam, which are typed against each other.

`LoopContext` carries every service an improver run needs on the trusted side, the executor
included; the `Executor` protocol receives that context. Both live here, in `core`, so the
implementations (`selftaught.execute`) build on `core` and `core` never names one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Protocol, Self

from selftaught.config import RunConfig
from selftaught.core.batching import BatchingBackend
from selftaught.core.evaluate import Evaluator
from selftaught.core.jobs import SessionContext, SessionJob, downstream_offset
from selftaught.core.progress import NullProgress, ProgressSink
from selftaught.core.session import ChannelFactory, sandbox_channel_factory
from selftaught.store.db import RunStore
from selftaught.store.layout import meta_start

if TYPE_CHECKING:
    from selftaught.lm.factory import ModelAccess
    from selftaught.store.db import Evaluation, SessionRecord
    from selftaught.tasks import Task

__all__ = ["Executor", "LoopContext", "NodeLayers", "SessionDone"]

#: One node's sandbox layers as (node, ((layer, active, detail), ...)), as `doctor` reports them.
NodeLayers = tuple[str, tuple[tuple[str, bool, str], ...]]

#: Called on the driver as each session finishes (in completion order).
SessionDone = Callable[["SessionJob", "SessionRecord"], None]


class Executor(Protocol):
    """Runs improver sessions and sandboxed evaluations, locally or on a cluster.

    Implementations never write the run store from anywhere but the calling process, reuse
    stored sessions instead of repeating them, and return results in the order of the jobs.

    Callers ask the class attributes instead of testing `name`:
    `samples_on_driver` is True when sessions draw their samples from this process's model (so
    jobs whose prompts batch together are best run together, and the model must be open here);
    `bulk_parallel` is how many sessions a caller with many independent jobs should run at once
    (None: hand them all over, the executor schedules them).
    """

    name: ClassVar[str]
    samples_on_driver: ClassVar[bool]
    bulk_parallel: ClassVar[int | None]

    @classmethod
    def open(cls, address: str | None = None, access: ModelAccess | None = None) -> Self:
        """A new executor; `address` is the cluster to join, for executors that join one, and
        `access` how its workers reach the model (server URL, concurrency), for executors whose
        workers open the model themselves."""
        ...

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

    def node_layers(self) -> list[NodeLayers] | None:
        """The sandbox layers of each node the sessions run on, as (node, layers); None when
        they run on this machine (then `selftaught.sandbox.doctor()` describes it)."""
        ...

    def close(self) -> None:
        """Release what the executor started (threads, a local Ray instance)."""
        ...


@dataclass
class LoopContext:
    """Everything an improver run needs on the trusted side.

    The executor is always given (`selftaught.search.context.loop_context` makes the config's
    one), so `core` never names an implementation of it.
    """

    config: RunConfig
    store: RunStore
    evaluator: Evaluator
    backend: BatchingBackend
    executor: Executor
    progress: ProgressSink = field(default_factory=NullProgress)
    channel_factory: ChannelFactory = sandbox_channel_factory

    @property
    def sessions(self) -> SessionContext:
        """The part of this context that runs one improver session."""
        return SessionContext(
            self.config, self.store, self.evaluator, self.backend, self.channel_factory
        )

    def downstream_offset(self, run_index: int) -> int:
        return downstream_offset(self.config, run_index)

    def meta_offset(self, t: int) -> int:
        return meta_start(self.config.seed, t)

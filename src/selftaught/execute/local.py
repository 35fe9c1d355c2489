"""The default executor: sessions in threads of this process, evaluations on local cores."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ClassVar, Self

from selftaught.core.jobs import SessionJob, run_session_here

if TYPE_CHECKING:
    from selftaught.core.context import LoopContext, SessionDone
    from selftaught.lm.factory import ModelAccess
    from selftaught.store.db import Evaluation, SessionRecord
    from selftaught.tasks import Task


class LocalExecutor:
    """Each session runs in a thread with its own sandbox; concurrent sessions share LM batches.

    Evaluations spread one program's instances over the local cores (`score_program`).
    """

    name: ClassVar[str] = "local"
    #: Every session samples from this process's (batching) model.
    samples_on_driver: ClassVar[bool] = True
    #: Many independent sessions (`compare`) run four at a time: they share this machine's cores,
    #: and four concurrent sessions already fill the model's batches.
    bulk_parallel: ClassVar[int | None] = 4

    @classmethod
    def open(cls, address: str | None = None, access: ModelAccess | None = None) -> Self:
        """A local executor (`address` and `access` are for cluster executors: a local one joins
        nothing, and its sessions use the driver's model)."""
        return cls()

    def run_sessions(
        self,
        ctx: LoopContext,
        jobs: Sequence[SessionJob],
        *,
        parallel: int | None = None,
        on_done: SessionDone | None = None,
    ) -> list[SessionRecord]:
        if not jobs:
            return []
        width = max(1, min(parallel or len(jobs), len(jobs)))
        sessions = ctx.sessions
        # Declaring every participant before any starts lets their first requests share a batch;
        # with fewer threads than jobs each thread declares itself while it runs.
        upfront = width == len(jobs)
        if upfront:
            ctx.backend.join(len(jobs))

        def one(job: SessionJob) -> SessionRecord:
            if not upfront:
                ctx.backend.join()
            try:
                record = run_session_here(sessions, job)
            finally:
                ctx.backend.leave()
            if on_done is not None:
                on_done(job, record)
            return record

        if width == 1:
            return [one(job) for job in jobs]
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="improver-run") as pool:
            return list(pool.map(one, jobs))

    def score(self, task: Task, source: str, split: str) -> Evaluation:
        from selftaught.core.evaluate import score_in_sandbox

        return score_in_sandbox(task, source, split)

    def score_many(self, task: Task, sources: Sequence[str], split: str) -> list[Evaluation]:
        # one program at a time: score_program already spreads its instances over the cores
        return [self.score(task, source, split) for source in sources]

    def node_layers(self) -> None:
        return None  # sessions run on this machine: `selftaught.sandbox.doctor()` describes it

    def close(self) -> None:
        return None

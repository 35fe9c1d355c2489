"""The Ray executor: improver sessions and evaluations run as Ray tasks on a cluster's workers.

The driver (this process) keeps the run store. Each session goes to a worker as JSON; the worker
runs it in its own sandbox (`selftaught.execute.worker`) and answers with what it recorded, which
the driver checks (`selftaught.execute.wire`) and writes as soon as it arrives. A worker lost
mid-task is replaced by Ray, which runs the task again elsewhere (`max_retries`); since every
row is keyed, a repeated task can neither lose nor duplicate results.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Callable, Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from selftaught.errors import ConfigError
from selftaught.execute.ray_progress import LiveProgress, session_on_ray
from selftaught.execute.wire import (
    CheckedSession,
    ExecutorError,
    check_evaluation_reply,
    check_session_reply,
    evaluation_request,
    known_scores,
    loads_strict,
    session_request,
)
from selftaught.execute.worker import run_evaluation_job, worker_doctor
from selftaught.lm.factory import ModelAccess
from selftaught.store.layout import EXECUTOR_KEY
from selftaught.store.recorder import apply_operations

if TYPE_CHECKING:
    from selftaught.core.context import LoopContext, NodeLayers, SessionDone
    from selftaught.core.jobs import SessionJob
    from selftaught.store.db import Evaluation, RunStore, SessionRecord
    from selftaught.tasks import Task

#: Environment the workers need to behave like this process (model threads, sandbox switches,
#: the OpenAI-compatible endpoint). Forwarded when this process joins or starts the cluster.
FORWARDED_ENV = (
    "SELFTAUGHT_N_THREADS",
    "SELFTAUGHT_N_CTX",
    "SELFTAUGHT_N_SEQ_MAX",
    "SELFTAUGHT_SANDBOX_DISABLE",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
)
LOCAL_OBJECT_STORE_BYTES = 256 << 20
#: How long to wait for a cluster's address to answer before giving up.
CONNECT_SECONDS = 10.0
#: How often the driver refreshes live progress while sessions run.
POLL_SECONDS = 0.5
#: How often Ray runs a task again after its worker died.
MAX_RETRIES = 3


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "the ray executor needs Ray: pip install 'selftaught[ray]' (or use --executor local)"
        ) from None
    return ray


@dataclass(frozen=True)
class WorkerLayers:
    """The isolation layers one worker node reported (as `selftaught doctor` does)."""

    node: str
    layers: tuple[tuple[str, bool, str], ...]

    @property
    def missing(self) -> list[str]:
        return [f"{name} ({detail})" for name, active, detail in self.layers if not active]


class RayExecutor:
    """Sessions and evaluations as Ray tasks (`RAY_ADDRESS`, else a local Ray instance).

    `cpus_per_session` is what one session reserves on a worker (embedded models there use as
    many threads unless `SELFTAUGHT_N_THREADS` says otherwise); `num_cpus` sizes a local instance.
    """

    name: ClassVar[str] = "ray"
    samples_on_driver: ClassVar[bool] = False  # each worker opens the model itself
    bulk_parallel: ClassVar[int | None] = None  # hand every session over: Ray schedules them

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        cpus_per_session: float = 1.0,
        cpus_per_evaluation: float = 1.0,
        access: ModelAccess | None = None,
    ) -> None:
        ray = _ray()
        # Workers reach the model as the driver does: --base-url and --max-concurrency travel
        # with every session (the API key only through the forwarded environment).
        self._access = (access or ModelAccess()).for_workers()
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            address = address or os.environ.get("RAY_ADDRESS") or None
            self._connect(address, num_cpus, cpus_per_session)
        # named after the worker function it runs: workers show up as `ray::run_session_job`
        self._session_task = ray.remote(session_on_ray).options(
            name="run_session_job",
            num_cpus=cpus_per_session,
            max_retries=MAX_RETRIES,
            retry_exceptions=False,
        )
        self._evaluation_task = ray.remote(run_evaluation_job).options(
            num_cpus=cpus_per_evaluation, max_retries=MAX_RETRIES, retry_exceptions=False
        )
        self._reported: set[str] = set()  # run stores that hold this executor's record
        try:
            self.workers = self._check_workers()
        except BaseException:
            self.close()  # do not leave a local instance running behind a failed start
            raise

    @classmethod
    def open(cls, address: str | None = None, access: ModelAccess | None = None) -> Self:
        """Join the cluster at `address` (default `RAY_ADDRESS`, else start a local instance);
        workers reach the model with `access` (its server URL and concurrency)."""
        return cls(address=address, access=access)

    def node_layers(self) -> list[NodeLayers]:
        """The sandbox layers each worker node reported when this executor started."""
        return [(worker.node, worker.layers) for worker in self.workers]

    def _connect(self, address: str | None, num_cpus: int | None, cpus_per_session: float) -> None:
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        # Sessions share a node's cores: one model thread per reserved CPU unless told otherwise.
        env.setdefault("SELFTAUGHT_N_THREADS", str(max(1, int(cpus_per_session))))
        options: dict[str, Any] = {
            "address": address,
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": "ERROR",
            "runtime_env": {"env_vars": env},
        }
        if address is None:
            options["num_cpus"] = num_cpus or os.cpu_count() or 1
            # Only JSON text travels through the object store: keep it small on a shared machine.
            options["object_store_memory"] = LOCAL_OBJECT_STORE_BYTES
        if address is not None:
            _check_reachable(address)
        try:
            self._ray.init(**options)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
            where = address or "a local Ray instance"
            raise ExecutorError(f"cannot start or join {where}: {exc}") from None
        self._started = True

    # -- workers' isolation -----------------------------------------------------------------------
    def _check_workers(self) -> list[WorkerLayers]:
        """Run `doctor` once on every alive node, as the sandbox there sees itself."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        probe = self._ray.remote(worker_doctor)
        nodes = [node["NodeID"] for node in self._ray.nodes() if node.get("Alive")]
        refs = [
            probe.options(
                num_cpus=0,
                max_retries=MAX_RETRIES,
                scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
            ).remote()
            for node in nodes
        ]
        reports = []
        for text in self._get(refs):
            data = loads_strict(text)
            layers = tuple((str(n), bool(a), str(d)) for n, a, d in data["layers"])
            reports.append(WorkerLayers(str(data["node"]), layers))
        return reports

    def _report_workers(self, ctx: LoopContext) -> None:
        where = str(ctx.store.path)
        if where in self._reported:
            return
        self._reported.add(where)
        for report in self.workers:
            for layer in report.missing:
                ctx.progress.note(f"worker {report.node}: isolation layer inactive: {layer}")
        ctx.store.set_meta(
            EXECUTOR_KEY,
            json.dumps(
                {
                    "name": self.name,
                    "resources": self._ray.cluster_resources(),
                    "workers": [
                        {"node": w.node, "layers": [list(layer) for layer in w.layers]}
                        for w in self.workers
                    ],
                },
                sort_keys=True,
            ),
        )

    # -- sessions ---------------------------------------------------------------------------------
    def run_sessions(
        self,
        ctx: LoopContext,
        jobs: Sequence[SessionJob],
        *,
        parallel: int | None = None,
        on_done: SessionDone | None = None,
    ) -> list[SessionRecord]:
        self._report_workers(ctx)
        records: dict[int, SessionRecord] = {}
        waiting: list[int] = []
        for index, job in enumerate(jobs):
            stored = ctx.store.session(job.key)
            if stored is not None:
                records[index] = stored
            else:
                waiting.append(index)
        if waiting:
            known = self._ray.put(known_scores(ctx.store, {jobs[i].task.identity for i in waiting}))
            cache = _run_cache_name(ctx.store)
            live = LiveProgress(self._ray, ctx.progress)
            submit = lambda i: self._session_task.remote(  # noqa: E731
                session_request(ctx.config, jobs[i], cache, self._access),
                known,
                live.relay,
                jobs[i].key,
            )
            with closing(self._stream(waiting, submit, parallel, live.poll)) as replies:
                for index, text in replies:
                    checked = check_session_reply(ctx.config, jobs[index], text)
                    records[index] = _write(ctx.store, checked)
                    live.finish(jobs[index].key, checked.samples, checked.evaluations)
                    if on_done is not None:
                        on_done(jobs[index], records[index])
        return [records[i] for i in range(len(jobs))]

    def _stream(
        self,
        indices: list[int],
        submit: Callable[[int], Any],
        parallel: int | None,
        poll: Callable[[], None],
    ) -> Generator[tuple[int, str], None, None]:
        """Yield (index, reply) as tasks finish, keeping at most `parallel` in flight, and
        `poll` the live progress while waiting."""
        queue = list(indices)
        in_flight: dict[Any, int] = {}
        limit = parallel or len(queue)
        try:
            while queue or in_flight:
                while queue and len(in_flight) < limit:
                    index = queue.pop(0)
                    in_flight[submit(index)] = index
                ready, _ = self._ray.wait(list(in_flight), num_returns=1, timeout=POLL_SECONDS)
                poll()
                if not ready:
                    continue
                index = in_flight.pop(ready[0])
                yield index, self._get(ready[0])
        finally:
            for ref in in_flight:  # an error or an interrupt: stop what is still running
                self._ray.cancel(ref, force=True)

    def _get(self, refs: Any) -> Any:
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayError as exc:
            raise ExecutorError(f"a Ray task failed: {_first_line(exc)}") from None

    # -- evaluations ------------------------------------------------------------------------------
    def score(self, task: Task, source: str, split: str) -> Evaluation:
        return self.score_many(task, [source], split)[0]

    def score_many(self, task: Task, sources: Sequence[str], split: str) -> list[Evaluation]:
        refs = [
            self._evaluation_task.remote(evaluation_request(task, source, split))
            for source in sources
        ]
        return [check_evaluation_reply(text) for text in self._get(refs)]

    def close(self) -> None:
        if self._started:
            self._started = False
            self._ray.shutdown()


def _write(store: RunStore, checked: CheckedSession) -> SessionRecord:
    """Write a checked session: its rows first, the session last (so a kill in between only
    means the session runs again, and its keyed rows are not written twice)."""
    apply_operations(store, checked.operations)
    store.add_session(checked.record)
    return checked.record


def _check_reachable(address: str, timeout: float = CONNECT_SECONDS) -> None:
    """Fail fast on a cluster address nobody answers (Ray itself keeps retrying for minutes)."""
    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", "local" and other forms are Ray's to resolve
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
            pass
    except OSError as exc:
        raise ExecutorError(
            f"no Ray cluster answers at {address} ({exc}); check RAY_ADDRESS or `ray status`"
        ) from None


def _run_cache_name(store: RunStore) -> str:
    return hashlib.sha256(str(store.run_dir.resolve()).encode()).hexdigest()[:24]


def _first_line(exc: BaseException) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1][:300] if lines else type(exc).__name__

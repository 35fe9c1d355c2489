"""What a remote worker runs. Plain functions from JSON text to JSON text, so any executor can
ship them; `selftaught.execute.ray_driver` wraps them as Ray tasks.

A worker is trusted code: it starts the same sandbox as a local run (every layer, reported by
`worker_doctor`), answers its improver's proxies, enforces the session's budgets and records
everything into a `RecordingStore`. It never writes the run store; the driver does, after
checking what the worker recorded.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from typing import Any

from selftaught.config import RunConfig
from selftaught.core.batching import StoreLoggingBackend
from selftaught.core.evaluate import Evaluator, score_in_sandbox
from selftaught.core.jobs import SessionContext, SessionJob, run_session_here
from selftaught.errors import SelftaughtError
from selftaught.execute.wire import dumps, error_reply, find_task, parse_known
from selftaught.lm.types import Backend
from selftaught.store.recorder import RecordingStore

#: Node-local response caches of remote runs (one file per run) live under the cache root.
WORKER_CACHE_DIR = "worker-caches"


def worker_backend(spec: str, cache: str, access: dict[str, Any] | None = None) -> Backend:
    """The run's model on this worker: loaded once per worker process (`open_model` shares
    local models), with a node-local response cache of the run so a retried or resumed session
    does not sample again what this node already drew. `access` holds the driver's server URL
    and concurrency (`ModelAccess.for_workers`); absent values fall back to the environment."""
    from selftaught.lm import open_model
    from selftaught.lm.paths import cache_dir

    safe = "".join(c for c in cache if c.isalnum() or c in "-_")[:80] or "run"
    path = cache_dir() / WORKER_CACHE_DIR / f"{safe}.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    access = access or {}
    return open_model(
        spec,
        cache=path,
        progress=False,
        base_url=access.get("base_url") or None,
        max_concurrency=access.get("max_concurrency"),
    )


#: Told (samples, evaluations) as a session draws samples and scores programs.
ProgressTick = Callable[[int, int], None]


def _ignore(samples: int, evaluations: int) -> None:
    return None


def run_session_job(request: str, known: str, on_progress: ProgressTick = _ignore) -> str:
    """Run one improver session from its JSON request; answer with the recorded operations.

    `known` holds the scores the driver already has; `on_progress` hears of each sample and
    evaluation as it happens (for live progress bars; the answer alone is authoritative).
    Errors of the run itself (a model that cannot answer, a task missing on this worker) come
    back typed; the driver re-raises them.
    """
    try:
        data: dict[str, Any] = json.loads(request)
        config = RunConfig().replace(**data["config"])
        spec = data["job"]
        task = find_task(spec["task"])
        job = SessionJob(
            spec["key"],
            spec["purpose"],
            task,
            spec["improver_source"],
            spec["initial_solution"],
            int(spec["run_index"]),
        )
        store = RecordingStore(parse_known(known))
        backend = StoreLoggingBackend(
            worker_backend(config.model, str(data["cache"]), data.get("access")),
            store,
            on_samples=lambda n: on_progress(n, 0),
        )
        evaluator = Evaluator(store, on_evaluation=lambda: on_progress(0, 1))
        context = SessionContext(config, store, evaluator, backend)
        run_session_here(context, job)
    except SelftaughtError as exc:
        return error_reply(exc)
    return dumps({"operations": store.operations})


def run_evaluation_job(request: str) -> str:
    """Score one program on one split in this worker's sandbox."""
    try:
        data = json.loads(request)
        task = find_task(data["task"])
        evaluation = score_in_sandbox(task, str(data["source"]), str(data["split"]))
    except SelftaughtError as exc:
        return error_reply(exc)
    return dumps(
        {
            "score": evaluation.score,
            "seconds": evaluation.seconds,
            "error": evaluation.error,
            "margin": evaluation.margin,
        }
    )


def worker_doctor() -> str:
    """This worker's isolation layers, as `selftaught doctor` reports them, with its node."""
    from selftaught.sandbox import doctor

    layers = [[layer.name, layer.active, layer.detail] for layer in doctor()]
    return dumps({"node": socket.gethostname(), "pid": os.getpid(), "layers": layers})

"""`Plumbing`: the replaceable infrastructure of a run, and how a run's model is opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from selftaught.config import RunConfig
from selftaught.core.context import Executor
from selftaught.core.evaluate import ScoreFn
from selftaught.core.session import ChannelFactory, sandbox_channel_factory
from selftaught.lm.factory import ModelAccess
from selftaught.lm.types import Backend
from selftaught.store.layout import LM_CACHE_NAME


@dataclass(frozen=True)
class Plumbing:
    """Replaceable infrastructure (tests inject a replay backend, a fake scorer or an executor).

    `score_fn` None scores through the executor; `executor` None makes the config's one (and
    closes it after the run); an executor passed in is left open for the caller. `access` says
    how the model is reached when `backend` is None (server URL, response cache on or off, a
    recording file); none of it changes what a run computes.
    """

    backend: Backend | None = None
    channel_factory: ChannelFactory = sandbox_channel_factory
    score_fn: ScoreFn | None = None
    executor: Executor | None = None
    access: ModelAccess = field(default_factory=ModelAccess)


def open_backend(
    config: RunConfig, run_dir: Path | None = None, access: ModelAccess | None = None
) -> Backend:
    """The configured model with its response cache inside the run directory (the user's shared
    cache when `run_dir` is None). With a remote executor the driver may never sample, so the
    model is then opened on first use."""
    from selftaught.execute import executor_class
    from selftaught.lm.lazy import LazyBackend

    access = access or ModelAccess()
    cache: Path | bool = run_dir / LM_CACHE_NAME if run_dir is not None else True
    if executor_class(config.executor).samples_on_driver:
        return access.open(config.model, cache)
    return LazyBackend(config.model, lambda: access.open(config.model, cache))

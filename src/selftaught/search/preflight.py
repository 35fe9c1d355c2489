"""`check_start`: everything a command needs, checked before it writes anything.

A start that fails here leaves no trace: no run directory, no `config.toml`, no empty database
that a later start would mistake for a run. Each check is cheap (the model is probed, not loaded).
"""

from __future__ import annotations

from pathlib import Path

from selftaught.config import RunConfig
from selftaught.errors import ConfigError
from selftaught.improvers.catalog import resolve_improver
from selftaught.lm.preflight import check_model
from selftaught.search.plumbing import Plumbing
from selftaught.writable import check_writable_dir, check_writable_file


def check_model_access(config: RunConfig, plumbing: Plumbing) -> None:
    """The model answers (unless a test injected one) and a recording file can be written."""
    access = plumbing.access
    if access.record is not None:
        if config.executor != "local":
            raise ConfigError("--record works with --executor local only (workers sample)")
        check_writable_file(access.record, "recording file")
    if plumbing.backend is None:
        check_model(config.model, base_url=access.base_url)


def check_start(
    config: RunConfig,
    run_dir: Path | None,
    plumbing: Plumbing,
    *,
    tasks: tuple[str, ...] = (),
) -> None:
    """Raise a one-line error unless the run's model, tasks and directory are all usable.

    `tasks` are checked besides `config.task` and `config.transfer_tasks`.
    """
    from selftaught.tasks import get_task

    for name in (config.task, *config.transfer_tasks, *tasks):
        get_task(name)
    resolve_improver(config.initial_improver)  # a wrong name or path fails before any write
    if run_dir is not None:
        check_writable_dir(run_dir, "run directory")
    check_model_access(config, plumbing)

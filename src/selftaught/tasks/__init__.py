"""The six STOP downstream tasks, their hidden instances and the sandboxed scorer.

Public API: `Task`, `Instance`, `get_task`, `list_tasks`, `score_program`, `ScoreResult` and the
score caches (`MemoryScoreCache`, `SqliteScoreCache`, `NullScoreCache`).
"""

from __future__ import annotations

from selftaught.tasks.base import SPLITS, Instance, InvalidAnswer, Task
from selftaught.tasks.cache import (
    MemoryScoreCache,
    NullScoreCache,
    ScoreCache,
    SqliteScoreCache,
    source_digest,
)
from selftaught.tasks.registry import get_task, list_tasks, task_names
from selftaught.tasks.result import ScoreResult
from selftaught.tasks.scorer import score_program, task_limits

__all__ = [
    "SPLITS",
    "Instance",
    "InvalidAnswer",
    "MemoryScoreCache",
    "NullScoreCache",
    "ScoreCache",
    "ScoreResult",
    "SqliteScoreCache",
    "Task",
    "get_task",
    "list_tasks",
    "score_program",
    "source_digest",
    "task_limits",
    "task_names",
]

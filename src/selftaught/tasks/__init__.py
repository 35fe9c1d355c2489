"""Tasks: the six STOP downstream tasks, two public benchmarks, task files and the scorer.

Public API: `Task`, `Instance`, `InvalidAnswer`, `Graded`, `get_task` (a name or a task file's
path), `list_tasks`, `load_task_file`, `score_program`, `ScoreResult` and the score caches
(`MemoryScoreCache`, `SqliteScoreCache`, `NullScoreCache`). See docs/tasks.md for task files.
"""

from __future__ import annotations

from selftaught.tasks.base import SPLITS, Graded, Instance, InvalidAnswer, Task
from selftaught.tasks.cache import (
    MemoryScoreCache,
    NullScoreCache,
    ScoreCache,
    SqliteScoreCache,
    source_digest,
)
from selftaught.tasks.plugin import is_task_path, load_task_file
from selftaught.tasks.registry import (
    ENTRY_POINT_GROUP,
    get_task,
    list_tasks,
    plugin_names,
    task_names,
    task_reference,
)
from selftaught.tasks.result import ScoreResult
from selftaught.tasks.scorer import score_program, task_limits

__all__ = [
    "ENTRY_POINT_GROUP",
    "SPLITS",
    "Graded",
    "Instance",
    "InvalidAnswer",
    "MemoryScoreCache",
    "NullScoreCache",
    "ScoreCache",
    "ScoreResult",
    "SqliteScoreCache",
    "Task",
    "get_task",
    "is_task_path",
    "list_tasks",
    "load_task_file",
    "plugin_names",
    "score_program",
    "source_digest",
    "task_limits",
    "task_names",
    "task_reference",
]

"""selftaught.execute: where improver sessions and evaluations run.

`local` (the default) runs them in threads of this process, each in its own sandbox; `ray` ships
them to the workers of a Ray cluster (`RAY_ADDRESS`, or a local Ray instance). Both give the same
results; the driver process stays the only writer of the run store.
"""

from selftaught.core.context import Executor, SessionDone
from selftaught.execute.local import LocalExecutor
from selftaught.execute.registry import EXECUTORS, executor_class, make_executor

__all__ = [
    "EXECUTORS",
    "Executor",
    "LocalExecutor",
    "SessionDone",
    "executor_class",
    "make_executor",
]

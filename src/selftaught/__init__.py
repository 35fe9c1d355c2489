"""selftaught: the Self-Taught Optimizer (STOP), with hostile-code isolation.

The public Python API mirrors the CLI: every command is a thin layer over a function here.
Submodules are imported lazily so that `import selftaught` stays cheap: `selftaught.tasks`,
`selftaught.lm`, `selftaught.search` and the rest load on first use, and so do the entry points
below.

    import selftaught
    task = selftaught.get_task("maxcut")
    summary = selftaught.run_stop(selftaught.RunConfig(iterations=1), "runs/notebook")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Entry point -> the module that defines it (the command it backs, where there is one).
_ENTRY_POINTS = {
    "RunConfig": "selftaught.config",  # every run option
    "load_config": "selftaught.config",
    "run_stop": "selftaught.search.run",  # selftaught run
    "run_search": "selftaught.search.run",  # selftaught run --search
    "improve_program": "selftaught.search.improve",  # selftaught improve
    "transfer": "selftaught.search.transfer",  # selftaught transfer
    "compare_improvers": "selftaught.search.compare",  # selftaught compare
    "build_report": "selftaught.report",  # selftaught report
    "list_runs": "selftaught.report",  # selftaught runs
    "get_task": "selftaught.tasks",  # selftaught tasks / seed
    "list_tasks": "selftaught.tasks",
    "score_program": "selftaught.tasks",  # selftaught score
    "open_model": "selftaught.lm",  # selftaught ask
    "ModelAccess": "selftaught.lm",
    "SelftaughtError": "selftaught.errors",
}
_SUBMODULES = frozenset(
    {
        "cli",
        "config",
        "core",
        "errors",
        "execute",
        "improvers",
        "lm",
        "report",
        "sandbox",
        "search",
        "store",
        "tasks",
    }
)

__all__ = sorted(_ENTRY_POINTS)


def __getattr__(name: str) -> Any:
    if name in _ENTRY_POINTS:
        return getattr(importlib.import_module(_ENTRY_POINTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"selftaught.{name}")
    raise AttributeError(f"module 'selftaught' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_ENTRY_POINTS, *_SUBMODULES})

"""selftaught.sandbox: isolated execution of untrusted code.

Public API: `Limits`, `CallResult`, `run_function`, `run_function_many`, `SandboxSession`,
`doctor`, `LayerStatus`. See docs/architecture.md and docs/sandbox.md.
"""

from selftaught.sandbox.api import run_function, run_function_many, shutdown
from selftaught.sandbox.launcher import LayerStatus
from selftaught.sandbox.limits import STATUSES, CallResult, Limits, Status

__all__ = [
    "STATUSES",
    "CallResult",
    "LayerStatus",
    "Limits",
    "Status",
    "run_function",
    "run_function_many",
    "shutdown",
]

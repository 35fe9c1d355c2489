"""selftaught.sandbox: isolated execution of untrusted code.

Public API: `Limits`, `CallResult`, `run_function`, `run_function_many`, `SandboxSession`,
`doctor`, `LayerStatus`. See docs/architecture.md and docs/sandbox.md.
"""

from selftaught.sandbox.api import run_function, run_function_many, shutdown
from selftaught.sandbox.doctor import doctor
from selftaught.sandbox.launcher import LayerStatus
from selftaught.sandbox.limits import STATUSES, CallResult, Limits, Status
from selftaught.sandbox.session import SandboxSession, SessionEnded

__all__ = [
    "STATUSES",
    "CallResult",
    "LayerStatus",
    "Limits",
    "SandboxSession",
    "SessionEnded",
    "Status",
    "doctor",
    "run_function",
    "run_function_many",
    "shutdown",
]

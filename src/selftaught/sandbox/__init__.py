"""selftaught.sandbox: isolated execution of untrusted code.

Public API: `Limits`, `CallResult`, `run_function`, `run_function_many`, `SandboxSession`,
`doctor`, `LayerStatus`, `importable_packages`, `package_problem`. See docs/architecture.md
and docs/sandbox.md.
"""

from selftaught.sandbox.api import run_function, run_function_many, shutdown
from selftaught.sandbox.doctor import PackageStatus, doctor, package_statuses
from selftaught.sandbox.launcher import LayerStatus
from selftaught.sandbox.limits import STATUSES, CallResult, Limits, Status
from selftaught.sandbox.packages import importable_packages, package_problem
from selftaught.sandbox.session import SandboxSession, SessionEnded

__all__ = [
    "STATUSES",
    "CallResult",
    "LayerStatus",
    "Limits",
    "PackageStatus",
    "SandboxSession",
    "SessionEnded",
    "Status",
    "doctor",
    "importable_packages",
    "package_problem",
    "package_statuses",
    "run_function",
    "run_function_many",
    "shutdown",
]

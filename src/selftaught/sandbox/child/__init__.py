"""Stdlib-only modules that run INSIDE the sandbox (mounted read-only at /opt/selftaught/lib).

They are imported there as top-level modules (`sandbox_channel`, `confine`, `runner`, `zygote`);
the orchestrator imports only `sandbox_channel`'s framing helpers from this package.
"""

"""Turns the zygote's facts about a finished child, plus the child's raw result bytes, into a
CallResult. Everything from the child is validated here; the zygote's header is trusted."""

from __future__ import annotations

import dataclasses
import math
import signal
from typing import Any

from selftaught.sandbox.limits import CallResult, Limits
from selftaught.sandbox.protocol import InvalidJSON, decode_strict

MAX_ERROR_CHARS = 4000
CHILD_KINDS = {"error": "error", "memory": "memory", "invalid_output": "invalid_output"}
CPU_SLACK = 0.05
MEMORY_FRACTION = 0.5


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _with_tail(message: str, tail: str) -> str:
    tail = tail.strip()
    if tail:
        message += "\n--- last output ---\n" + tail[-1500:]
    return message


def _from_payload(payload: bytes, limits: Limits, seconds: float) -> CallResult:
    try:
        outcome = decode_strict(payload, limits.output_bytes + 64)
    except InvalidJSON as exc:
        return CallResult("invalid_output", None, f"invalid result: {exc}", seconds)
    if not isinstance(outcome, dict) or not isinstance(outcome.get("ok"), bool):
        return CallResult("invalid_output", None, "invalid result: malformed result frame", seconds)
    if outcome["ok"]:
        return CallResult("ok", outcome.get("value"), None, seconds)
    error = outcome.get("error")
    error = error[:MAX_ERROR_CHARS] if isinstance(error, str) else "unknown error"
    kind = outcome.get("kind")
    if kind == "sandbox":
        return CallResult("crashed", None, error, seconds)
    return CallResult(CHILD_KINDS.get(str(kind), "error"), None, error, seconds)  # type: ignore[arg-type]


def classify(header: dict[str, Any], payload: bytes, limits: Limits) -> CallResult:
    """Decide the status of one evaluation from trusted facts first, then the child's frame.

    The result carries the CPU time the zygote measured, which the scorer's time verdicts use.
    """
    result = _classify(header, payload, limits)
    cpu = header.get("cpu", 0.0)
    cpu = float(cpu) if isinstance(cpu, int | float) and math.isfinite(cpu) and cpu >= 0 else 0.0
    return dataclasses.replace(result, cpu_seconds=cpu)


def _classify(header: dict[str, Any], payload: bytes, limits: Limits) -> CallResult:
    seconds = float(header.get("seconds", 0.0))
    tail = str(header.get("tail", ""))
    sig = header.get("signal")
    if header.get("timed_out"):
        return CallResult(
            "timeout", None, f"timed out: exceeded the {limits.wall_seconds:g} s wall-clock limit",
            seconds,
        )  # fmt: skip
    if header.get("cpu_timed_out"):
        message = f"timed out: exceeded the {limits.cpu:g} s CPU-time limit"
        return CallResult("timeout", None, message, seconds)
    if header.get("cancelled"):
        return CallResult("crashed", None, "cancelled by the orchestrator", seconds)
    if header.get("too_big"):
        message = f"invalid result: output exceeds the {limits.output_bytes}-byte cap"
        return CallResult("invalid_output", None, message, seconds)
    if payload and header.get("exit") == 0:
        return _from_payload(payload, limits, seconds)
    cpu = float(header.get("cpu", 0.0))
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu - CPU_SLACK):
        message = f"timed out: exceeded the {limits.cpu:g} s CPU-time limit"
        return CallResult("timeout", None, message, seconds)
    high_rss = header.get("maxrss", 0) >= MEMORY_FRACTION * limits.memory_bytes
    if sig == signal.SIGKILL and (high_rss or header.get("oom_killed")):
        message = f"out of memory: exceeded the {limits.memory_bytes >> 20} MiB memory limit"
        return CallResult("memory", None, message, seconds)
    if sig is not None:
        message = f"crashed: killed by {_signal_name(int(sig))}"
        if sig == signal.SIGSEGV:
            message += " (for example, recursion too deep for the C stack)"
        return CallResult("crashed", None, _with_tail(message, tail), seconds)
    if payload:
        return _from_payload(payload, limits, seconds)
    message = f"crashed: exited with code {header.get('exit')} without returning a result"
    return CallResult("crashed", None, _with_tail(message, tail), seconds)

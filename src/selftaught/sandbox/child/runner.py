"""Runs untrusted code in a confined child and writes exactly one result frame (stdlib only).

The result frame is a JSON object: ``{"ok": true, "value": ...}`` or
``{"ok": false, "kind": "error" | "memory" | "invalid_output", "error": "..."}``. The orchestrator
re-validates every byte of it; nothing here is trusted by the parent.
"""

from __future__ import annotations

import builtins
import json
import linecache
import os
import random
import sys
import traceback
import types
from typing import Any

import sandbox_channel

# Bound at import (in the zygote) so candidate code that monkeypatches these modules cannot
# change how the runner encodes or writes its result.
_dumps = json.dumps
_write_frame = sandbox_channel.write_frame
_exit = os._exit
CANDIDATE_FILE = "<candidate>"
MAX_ERROR_CHARS = 2000


def seed_everything(seed: int) -> None:
    """Deterministic randomness for reproducible scores (numpy only if it is preloaded)."""
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed % (2**32))


def describe_exception(exc: BaseException) -> str:
    """The last traceback lines, focused on the candidate's own frames, for a human or an LM."""
    if isinstance(exc, SyntaxError) and exc.filename == CANDIDATE_FILE:
        lines = traceback.format_exception_only(type(exc), exc)
    else:
        frames = traceback.extract_tb(exc.__traceback__)
        own = [f for f in frames if f.filename == CANDIDATE_FILE] or frames[-3:]
        lines = ["Traceback (most recent call last):\n"]
        lines += traceback.format_list(own[-8:])
        lines += traceback.format_exception_only(type(exc), exc)
    text = "".join(lines).rstrip()
    if len(text) > MAX_ERROR_CHARS:
        text = "..." + text[-MAX_ERROR_CHARS:]
    return text


def _failure(kind: str, error: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "error": error}


def _load(source: str, name: str) -> dict[str, Any]:
    linecache.cache[CANDIDATE_FILE] = (len(source), None, source.splitlines(True), CANDIDATE_FILE)
    # A real module in sys.modules, so that pickling its functions by reference works (for
    # example multiprocessing.Pool inside the candidate).
    module = types.ModuleType(name)
    module.__dict__["__builtins__"] = builtins
    sys.modules[name] = module
    exec(compile(source, CANDIDATE_FILE, "exec"), module.__dict__)
    return module.__dict__


def call_entry(source: str, entry: str, args: list[Any]) -> dict[str, Any]:
    """Define the candidate's functions, call `entry(*args)` and describe the outcome."""
    try:
        namespace = _load(source, "__candidate__")
        function = namespace.get(entry)
        if not callable(function):
            return _failure("error", f"the program does not define a function named {entry!r}")
        value = function(*args)
    except MemoryError:
        return _failure("memory", "MemoryError: the program ran out of memory")
    except BaseException as exc:  # untrusted code may raise anything, SystemExit included
        return _failure("error", describe_exception(exc))
    return {"ok": True, "value": value}


class NumpyToPlain:
    """A `json.dumps` default hook: numpy arrays and scalars become lists and Python numbers.

    Candidates often return numpy values (``np.int64`` labels, an ndarray of points) where the
    task asks for numbers and lists. Only instances of numpy's own array and scalar classes are
    converted, with the classes' own methods (captured before the candidate runs, so a subclass
    or a patched module cannot substitute its own conversion); anything else stays unencodable.
    NaN and infinity are still refused by the strict encoder, and the orchestrator validates the
    bytes as for any other answer.
    """

    def __init__(self) -> None:
        self._classes: tuple[Any, Any] | None = None
        self.capture()

    def capture(self) -> None:
        numpy = sys.modules.get("numpy")
        if self._classes is None and numpy is not None:
            self._classes = (numpy.ndarray, numpy.generic)

    def __call__(self, value: Any) -> Any:
        self.capture()  # numpy may have been imported first by the candidate
        if self._classes is not None:
            array, scalar = self._classes
            if isinstance(value, array):
                return array.tolist(value)
            if isinstance(value, scalar):
                return scalar.item(value)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encode(outcome: dict[str, Any], default: NumpyToPlain | None = None) -> bytes:
    """Strict JSON (no NaN/inf, no custom objects; numpy values as plain data through
    `default`); unencodable values become invalid_output."""
    try:
        text = _dumps(outcome, allow_nan=False, separators=(",", ":"), default=default)
        return text.encode("utf-8")
    except MemoryError:
        return _dumps(_failure("memory", "MemoryError while encoding the result")).encode()
    except BaseException as exc:
        message = f"the return value is not plain JSON data: {type(exc).__name__}: {exc}"
        return _dumps(_failure("invalid_output", message[:MAX_ERROR_CHARS])).encode()


def run_call(job: dict[str, Any], result_fd: int) -> None:
    """Child entry for a function call: never returns."""
    seed_everything(int(job.get("seed", 0)))
    to_plain = NumpyToPlain()
    outcome = call_entry(job["source"], job["entry"], job["args"])
    _write_frame(result_fd, encode(outcome, to_plain))
    _exit(0)


def run_session(job: dict[str, Any], in_fd: int, out_fd: int, result_fd: int) -> None:
    """Child entry for a session: run the trusted harness as __main__ with the channel attached."""
    seed_everything(int(job.get("seed", 0)))
    sandbox_channel.attach(in_fd, out_fd, int(job["limits"]["output"]))
    sys.argv = ["harness"]
    try:
        _load(job["harness"], "__main__")
        outcome: dict[str, Any] = {"ok": True, "value": None}
    except MemoryError:
        outcome = _failure("memory", "MemoryError: the harness ran out of memory")
    except BaseException as exc:
        outcome = _failure("error", describe_exception(exc))
    _write_frame(result_fd, encode(outcome))
    _exit(0)

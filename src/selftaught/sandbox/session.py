"""Long-lived sandboxed processes that run a trusted harness and talk JSON frames.

The harness file is trusted (shipped in the package) but runs untrusted code, so everything it
sends is validated exactly like a function result: size-capped, strict JSON, objects only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from selftaught.errors import SandboxError
from selftaught.sandbox.launcher import plan
from selftaught.sandbox.limits import CallResult, Limits
from selftaught.sandbox.outcome import classify
from selftaught.sandbox.protocol import (
    HEADER,
    FrameReader,
    FrameTimeout,
    InvalidJSON,
    decode_strict,
    write_all,
)
from selftaught.sandbox.supervisor import REPLY_MARGIN, Zygote, ZygoteLost

SESSION_SLOT_BASE = 16
SESSION_SLOTS = 16
SEND_TIMEOUT = 30.0
_slot_counter = itertools.count()
_slot_lock = threading.Lock()


class SessionEnded(SandboxError, EOFError):
    """The session's process has finished; `result` says how (ok, error, timeout, ...).

    Also an EOFError, so callers that treat a closed channel as end-of-file keep working.
    """

    def __init__(self, result: CallResult) -> None:
        super().__init__(f"sandbox session ended ({result.status}): {result.error or 'exited'}")
        self.result = result


class SandboxSession:
    """A sandboxed harness process: `send(msg)`, `recv(timeout)`, `close()`.

    The harness receives `init` as its first `sandbox_channel.recv()`. `limits.wall_seconds` bounds
    the whole session's life, `limits.output_bytes` each message from the child.
    """

    def __init__(self, zygote: Zygote, to_child: int, from_child: int, limits: Limits) -> None:
        self._zygote = zygote
        self._to_child = to_child
        os.set_blocking(to_child, False)
        self._reader = FrameReader(from_child)
        self.limits = limits
        self.result: CallResult | None = None
        self._peer_gone = False
        self._started = time.monotonic()

    @classmethod
    def start(
        cls, harness: str | Path, init: dict[str, Any], limits: Limits, *, seed: int = 0
    ) -> SandboxSession:
        """Start `harness` (a trusted Python file) in a fresh sandbox and send it `init`."""
        source = Path(harness).read_text(encoding="utf-8")
        with _slot_lock:
            slot = SESSION_SLOT_BASE + next(_slot_counter) % SESSION_SLOTS
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        try:
            zygote = Zygote(plan(), slot, session_fds=(to_child_r, from_child_w))
        except BaseException:
            for fd in (to_child_w, from_child_r):
                os.close(fd)
            raise
        finally:
            for fd in (to_child_r, from_child_w):
                os.close(fd)
        job = {"op": "session", "harness": source, "seed": seed, "limits": limits.as_job()}
        zygote.send_job(json.dumps(job).encode("utf-8"), limits.memory_bytes)
        session = cls(zygote, to_child_w, from_child_r, limits)
        session.send(init)
        return session

    @property
    def alive(self) -> bool:
        """True until the session process has ended or been closed."""
        return self.result is None

    def send(self, msg: dict[str, Any]) -> None:
        """Send one JSON object to the harness.

        Raises SessionEnded when the session already ended or the harness stops reading for
        SEND_TIMEOUT seconds; a message to a harness that is exiting is dropped silently.
        """
        if self.result is not None:
            raise SessionEnded(self.result)
        data = json.dumps(msg, allow_nan=False, separators=(",", ":")).encode("utf-8")
        if self._peer_gone:
            return
        try:
            write_all(
                self._to_child, HEADER.pack(len(data)) + data, time.monotonic() + SEND_TIMEOUT
            )
        except BrokenPipeError:
            # The child stopped reading (it is exiting). Its last messages may still be queued
            # for recv(), which reports the end once they are consumed.
            self._peer_gone = True
        except (OSError, TimeoutError) as exc:
            self._end(CallResult("crashed", None, f"cannot send to the sandbox: {exc}"))
            raise SessionEnded(self.result) from exc  # type: ignore[arg-type]

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None:
        """The next message from the harness, or None if none arrives within `timeout` seconds.

        Raises SessionEnded (with `.result`) once the process has exited or misbehaved.
        """
        if self.result is not None:
            raise SessionEnded(self.result)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            data = self._reader.read(deadline, self.limits.output_bytes)
        except FrameTimeout:
            return None
        except InvalidJSON as exc:
            self._end(CallResult("invalid_output", None, f"invalid message: {exc}"))
            raise SessionEnded(self.result) from exc  # type: ignore[arg-type]
        if data is None:
            self._end(self._final_result())
            raise SessionEnded(self.result)  # type: ignore[arg-type]
        try:
            message = decode_strict(data, self.limits.output_bytes)
        except InvalidJSON as exc:
            self._end(CallResult("invalid_output", None, f"invalid message: {exc}"))
            raise SessionEnded(self.result) from exc  # type: ignore[arg-type]
        if not isinstance(message, dict):
            self._end(CallResult("invalid_output", None, "invalid message: not a JSON object"))
            raise SessionEnded(self.result)  # type: ignore[arg-type]
        return message

    def _final_result(self) -> CallResult:
        remaining = self.limits.wall_seconds - (time.monotonic() - self._started)
        try:
            header, payload = self._zygote.read_reply(
                time.monotonic() + max(0.0, remaining) + REPLY_MARGIN, self.limits.output_bytes
            )
        except ZygoteLost as exc:
            return CallResult("crashed", None, str(exc), time.monotonic() - self._started)
        return classify(header, payload, self.limits)

    def _end(self, result: CallResult) -> None:
        if self.result is None:
            self.result = result
        self._zygote.kill()
        for fd in (self._to_child, self._reader.fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._to_child = -1

    def close(self) -> None:
        """Kill the session's process tree (idempotent)."""
        if self.result is None:
            seconds = time.monotonic() - self._started
            self._end(CallResult("crashed", None, "closed by the orchestrator", seconds))

    def __enter__(self) -> SandboxSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

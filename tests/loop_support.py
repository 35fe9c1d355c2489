"""Test helpers for the loop tests: an unsandboxed local channel and a fake scorer.

The local channel runs the real harness in a plain subprocess speaking the same frames as the
sandbox, so protocol tests run fast; isolation tests use the real SandboxSession.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import selftaught.sandbox.child as child_pkg
from selftaught.store.db import Evaluation

CHILD_DIR = Path(child_pkg.__path__[0])
HEADER_SIZE = 4


class LocalChannel:
    """The harness in an ordinary subprocess (no isolation): for protocol-level tests only."""

    def __init__(self, harness: Path, init: dict[str, Any]) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        boot = (
            f"import sys, runpy; sys.path.insert(0, {str(CHILD_DIR)!r}); import sandbox_channel; "
            f"sandbox_channel.attach({to_child_r}, {from_child_w}); "
            f"runpy.run_path({str(harness)!r}, run_name='__main__')"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot],
            pass_fds=(to_child_r, from_child_w),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._out = to_child_w
        self._in = from_child_r
        self._buf = b""
        self.send(init)

    def send(self, msg: dict[str, Any]) -> None:
        data = json.dumps(msg).encode()
        with contextlib.suppress(BrokenPipeError):
            os.write(self._out, len(data).to_bytes(4, "big") + data)

    def _read(self, size: int, deadline: float) -> bool:
        while len(self._buf) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            ready, _, _ = select.select([self._in], [], [], left)
            if not ready:
                return False
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise EOFError("child closed the channel")
            self._buf += chunk
        return True

    def recv(self, timeout: float | None = None) -> dict[str, Any] | None:
        deadline = time.monotonic() + (timeout if timeout is not None else 3600)
        if not self._read(HEADER_SIZE, deadline):
            return None
        size = int.from_bytes(self._buf[:HEADER_SIZE], "big")
        if not self._read(HEADER_SIZE + size, deadline):
            return None
        data = self._buf[HEADER_SIZE : HEADER_SIZE + size]
        self._buf = self._buf[HEADER_SIZE + size :]
        return json.loads(data)

    def close(self) -> None:
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def local_channel_factory(
    harness: Path, init: dict[str, Any], wall_seconds: float, memory_bytes: int
) -> LocalChannel:
    return LocalChannel(harness, init)


def fake_score(task: Any, source: str, split: str) -> Evaluation:
    """A deterministic stand-in scorer: the fraction of distinct lines mentioning `return`."""
    lines = [line for line in source.splitlines() if line.strip()]
    score = min(1.0, sum("return" in line for line in lines) / 10) if lines else 0.0
    return Evaluation(score if split == "val" else score / 2, 0.0, None)


class ScriptedBackend:
    """A stand-in model for policy tests: downstream answers carry a GOOD marker; the meta level
    answers with a fixed improver source (`meta_answer`)."""

    spec = "scripted"

    def __init__(self, meta_answer: str) -> None:
        from selftaught.lm.types import Usage

        self.meta_answer = meta_answer
        self.usage = Usage()
        self.requests = 0

    def generate(self, requests: Any) -> list[list[Any]]:
        from selftaught.lm.types import Sample

        out = []
        for request in requests:
            self.requests += 1
            user = next(text for role, text in reversed(request.messages) if role == "user")
            if "def meta_utility" in user:
                text = f"Idea: try this.\n```python\n{self.meta_answer}\n```"
            else:
                text = "```python\ndef algorithm(a, b, c):\n    return [0 for _ in c]  # GOOD\n```"
            out.append([Sample(f"{text}\n", 3, 7, 0.01) for _ in request.indices])
        return out


def marker_score(task: Any, source: str, split: str) -> Evaluation:
    """0.6 on validation for programs with the GOOD marker, 0.2 otherwise; test is val / 2."""
    val = 0.6 if "GOOD" in source else 0.2
    return Evaluation(val if split == "val" else val / 2, 0.0, None)

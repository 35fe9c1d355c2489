"""Test helpers for the loop tests: an unsandboxed local channel and a fake scorer.

The local channel runs the real harness in a plain subprocess speaking the same frames as the
sandbox, so protocol tests run fast; isolation tests use the real SandboxSession.
"""

from __future__ import annotations

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
            "import sys, runpy; sys.path.insert(0, %r); import sandbox_channel; "
            "sandbox_channel.attach(%d, %d); runpy.run_path(%r, run_name='__main__')"
            % (str(CHILD_DIR), to_child_r, from_child_w, str(harness))
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
        try:
            os.write(self._out, len(data).to_bytes(4, "big") + data)
        except BrokenPipeError:
            pass

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
            try:
                os.close(fd)
            except OSError:
                pass
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

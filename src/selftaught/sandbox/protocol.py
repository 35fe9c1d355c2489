"""Parent-side framing: deadline-bounded frame reads and strict decoding of untrusted JSON.

Nothing the child sends is ever unpickled or evaluated: it is capped in size, parsed as JSON with
NaN/Infinity refused, and walked to bound nesting depth and node count.
"""

from __future__ import annotations

import json
import os
import select
import time
from typing import Any

from selftaught.sandbox.child.sandbox_channel import HEADER, write_frame

MAX_DEPTH = 64
MAX_NODES = 2_000_000

__all__ = [
    "HEADER",
    "MAX_DEPTH",
    "FrameReader",
    "InvalidJSON",
    "decode_strict",
    "write_all",
    "write_frame",
]


class InvalidJSON(ValueError):
    """Untrusted bytes that are not acceptable JSON."""


class FrameTimeout(TimeoutError):
    """No complete frame arrived before the deadline."""


def _refuse_constant(name: str) -> Any:
    raise InvalidJSON(f"non-finite number {name} is not allowed")


def _check_shape(value: Any, max_depth: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    nodes = 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise InvalidJSON(f"more than {MAX_NODES} JSON values")
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise InvalidJSON(f"JSON nested deeper than {max_depth} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def decode_strict(data: bytes, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Parse untrusted JSON bytes, refusing oversize, NaN/inf, deep nesting and huge integers."""
    if len(data) > max_bytes:
        raise InvalidJSON(f"output of {len(data)} bytes exceeds the {max_bytes}-byte cap")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except InvalidJSON:
        raise
    except RecursionError:
        raise InvalidJSON(f"JSON nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJSON(f"not valid JSON: {str(exc)[:200]}") from None
    _check_shape(value, max_depth)
    return value


def write_all(fd: int, data: bytes, deadline: float) -> None:
    """Write everything to a non-blocking fd before `deadline` (TimeoutError otherwise)."""
    view = memoryview(data)
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(int(remaining * 1000) + 1):
            raise TimeoutError("the sandboxed process is not reading its input")
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue


class FrameReader:
    """Reads length-prefixed frames from a non-blocking fd with a deadline and a size cap."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self._buffer = bytearray()
        self.closed = False

    def _fill(self, deadline: float | None) -> bool:
        """Read once when data arrives; False on timeout. Sets `closed` on EOF."""
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        poller = select.poll()
        poller.register(self.fd, select.POLLIN)
        if not poller.poll(None if timeout is None else int(timeout * 1000) + 1):
            return False
        try:
            chunk = os.read(self.fd, 1 << 20)
        except BlockingIOError:
            return True
        if not chunk:
            self.closed = True
        self._buffer += chunk
        return True

    def read(self, deadline: float | None, max_bytes: int) -> bytes | None:
        """One frame's bytes; None at EOF; FrameTimeout past the deadline; InvalidJSON if huge."""
        while True:
            if len(self._buffer) >= HEADER.size:
                (size,) = HEADER.unpack(bytes(self._buffer[: HEADER.size]))
                if size > max_bytes:
                    raise InvalidJSON(f"message of {size} bytes exceeds the {max_bytes}-byte cap")
                end = HEADER.size + size
                if len(self._buffer) >= end:
                    frame = bytes(self._buffer[HEADER.size : end])
                    del self._buffer[:end]
                    return frame
            if self.closed:
                return None
            if deadline is not None and time.monotonic() >= deadline:
                raise FrameTimeout("no complete frame before the deadline")
            if not self._fill(deadline) and deadline is not None:
                raise FrameTimeout("no complete frame before the deadline")

"""Length-prefixed JSON frames, and the channel a trusted harness uses inside the sandbox.

Stdlib only: this file is mounted read-only into the sandbox, where the harness does::

    import sandbox_channel
    init = sandbox_channel.recv()      # the first frame is the session's `init` dict
    sandbox_channel.send({"kind": "result", ...})

The channel lives on private, high-numbered file descriptors chosen by the runner before any
untrusted code runs, so printing (fd 1 goes to a capped capture pipe) cannot corrupt it.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
DEFAULT_MAX_FRAME = 64 * 1024 * 1024

_in_fd: int | None = None
_out_fd: int | None = None
_max_frame = DEFAULT_MAX_FRAME


class ChannelClosed(EOFError):
    """The other side closed the channel."""


def write_frame(fd: int, data: bytes) -> None:
    """Write one frame (4-byte big-endian length, then the bytes) to a blocking fd."""
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly `size` bytes from a blocking fd; None on EOF."""
    chunks = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, max_bytes: int = DEFAULT_MAX_FRAME) -> bytes | None:
    """Read one frame from a blocking fd; None on EOF, ValueError when it is too large."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > max_bytes:
        raise ValueError(f"frame of {size} bytes exceeds the {max_bytes}-byte cap")
    return read_exact(fd, size)


def attach(in_fd: int, out_fd: int, max_frame: int = DEFAULT_MAX_FRAME) -> None:
    """Bind the module-level channel to two fds (called by the runner, not by harnesses)."""
    global _in_fd, _out_fd, _max_frame
    _in_fd, _out_fd, _max_frame = in_fd, out_fd, max_frame


def send(obj: Any) -> None:
    """Send one JSON-serialisable object to the orchestrator (NaN and inf are refused)."""
    if _out_fd is None:
        raise RuntimeError("sandbox_channel is not attached")
    data = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8")
    if len(data) > _max_frame:
        raise ValueError(f"message of {len(data)} bytes exceeds the {_max_frame}-byte cap")
    write_frame(_out_fd, data)


def recv() -> Any:
    """Block until the orchestrator sends a message; raise ChannelClosed when it hangs up."""
    if _in_fd is None:
        raise RuntimeError("sandbox_channel is not attached")
    data = read_frame(_in_fd, DEFAULT_MAX_FRAME)
    if data is None:
        raise ChannelClosed("the orchestrator closed the channel")
    return json.loads(data)

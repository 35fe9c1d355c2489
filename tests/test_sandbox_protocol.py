"""Strict decoding of untrusted JSON and the classification of finished children."""

from __future__ import annotations

import os
import signal
import time

import pytest

from selftaught.sandbox.limits import Limits
from selftaught.sandbox.outcome import classify
from selftaught.sandbox.protocol import (
    HEADER,
    FrameReader,
    FrameTimeout,
    InvalidJSON,
    decode_strict,
)

LIMITS = Limits(wall_seconds=2, cpu_seconds=1, memory_bytes=64 * 2**20, output_bytes=1000)


@pytest.mark.parametrize(
    "data",
    [b"NaN", b"[Infinity]", b"-Infinity", b"1" * 5000, b"[" * 100 + b"]" * 100, b"{", b"\xff"],
)
def test_decode_strict_rejects(data: bytes) -> None:
    with pytest.raises(InvalidJSON):
        decode_strict(data, 10_000)


def test_decode_strict_size_cap_and_success() -> None:
    with pytest.raises(InvalidJSON, match="cap"):
        decode_strict(b'"' + b"x" * 100 + b'"', 50)
    assert decode_strict(b'{"a": [1, 2.5, null, true, "s"]}', 100) == {
        "a": [1, 2.5, None, True, "s"]
    }


def header(**facts: object) -> dict[str, object]:
    base = {"seconds": 0.1, "cpu": 0.0, "maxrss": 0, "exit": None, "signal": None}
    base.update({"timed_out": False, "cancelled": False, "too_big": False, "tail": ""})
    base.update(facts)
    return base


def test_classify_statuses() -> None:
    ok = classify(header(exit=0), b'{"ok":true,"value":[1]}', LIMITS)
    assert (ok.status, ok.value) == ("ok", [1])
    err = classify(header(exit=0), b'{"ok":false,"kind":"error","error":"boom"}', LIMITS)
    assert (err.status, err.error) == ("error", "boom")
    assert classify(header(timed_out=True), b"", LIMITS).status == "timeout"
    assert classify(header(signal=signal.SIGXCPU), b"", LIMITS).status == "timeout"
    assert classify(header(signal=signal.SIGKILL, cpu=1.2), b"", LIMITS).status == "timeout"
    oom = header(signal=signal.SIGKILL, maxrss=60 * 2**20)
    assert classify(oom, b"", LIMITS).status == "memory"
    cgroup_oom = header(signal=signal.SIGKILL, maxrss=2**20, oom_killed=True)
    assert classify(cgroup_oom, b"", LIMITS).status == "memory"
    segv = classify(header(signal=signal.SIGSEGV, tail="last words"), b"", LIMITS)
    assert segv.status == "crashed" and "SIGSEGV" in segv.error and "last words" in segv.error
    assert classify(header(exit=3), b"", LIMITS).status == "crashed"
    assert classify(header(too_big=True), b"", LIMITS).status == "invalid_output"
    assert classify(header(exit=0), b'{"ok":1}', LIMITS).status == "invalid_output"
    sandbox = b'{"ok":false,"kind":"sandbox","error":"setup failed"}'
    assert classify(header(exit=0), sandbox, LIMITS).status == "crashed"


def test_frame_reader_deadline_and_frames() -> None:
    read_fd, write_fd = os.pipe()
    reader = FrameReader(read_fd)
    start = time.monotonic()
    with pytest.raises(FrameTimeout):
        reader.read(time.monotonic() + 0.2, 100)
    assert 0.15 < time.monotonic() - start < 2
    os.write(write_fd, HEADER.pack(3) + b"abc" + HEADER.pack(2))
    assert reader.read(time.monotonic() + 1, 100) == b"abc"
    os.write(write_fd, b"de")
    assert reader.read(time.monotonic() + 1, 100) == b"de"
    os.write(write_fd, HEADER.pack(10_000))
    with pytest.raises(InvalidJSON):
        reader.read(time.monotonic() + 1, 100)
    os.close(write_fd)
    os.close(read_fd)


def test_limits_validation() -> None:
    with pytest.raises(ValueError):
        Limits(wall_seconds=0)
    with pytest.raises(ValueError):
        Limits(wall_seconds=float("nan"))
    with pytest.raises(ValueError):
        Limits(wall_seconds=1, memory_bytes=1000)
    assert Limits(wall_seconds=3).cpu == 3

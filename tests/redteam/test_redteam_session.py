"""Session-level attacks on a long-lived sandboxed harness: daemons that outlive the harness,
channel floods, oversize and non-finite messages, and printing garbage into the channel."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redteam_support import sandbox_uid_processes

from selftaught.sandbox import Limits, SandboxSession, SessionEnded

pytestmark = pytest.mark.redteam

DAEMON_HARNESS = """
import os, time, sandbox_channel
sandbox_channel.recv()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            time.sleep(1)
    os._exit(0)
sandbox_channel.send({"daemon": "started"})
"""

FLOOD_HARNESS = """
import os, sandbox_channel
sandbox_channel.recv()
os.write(1, b"\\x00\\x00\\x00\\x05hello" * 1000)      # fake frames on stdout
sandbox_channel.send({"x": "y" * %d})
"""

RAW_HARNESS = """
import os, struct, sandbox_channel
sandbox_channel.recv()
body = %r
os.write(sandbox_channel._out_fd, struct.pack(">I", len(body)) + body)
import time; time.sleep(30)
"""


def start(tmp_path: Path, source: str, wall: float = 10, output: int = 1 << 20) -> SandboxSession:
    harness = tmp_path / "harness.py"
    harness.write_text(source)
    return SandboxSession.start(harness, {}, Limits(wall_seconds=wall, output_bytes=output))


def test_daemon_started_by_a_session_dies_with_it(tmp_path: Path) -> None:
    session = start(tmp_path, DAEMON_HARNESS)
    assert session.recv(5) == {"daemon": "started"}
    with pytest.raises(SessionEnded):
        session.recv(5)
    assert not sandbox_uid_processes()


def test_close_kills_a_busy_session(tmp_path: Path) -> None:
    session = start(tmp_path, "import sandbox_channel\nsandbox_channel.recv()\nwhile True: pass\n")
    assert session.recv(0.3) is None
    session.close()
    assert not sandbox_uid_processes()
    with pytest.raises(SessionEnded):
        session.recv(1)


def test_printing_cannot_corrupt_the_channel(tmp_path: Path) -> None:
    session = start(tmp_path, FLOOD_HARNESS % 10)
    assert session.recv(5) == {"x": "y" * 10}
    session.close()


def test_oversize_message_ends_the_session(tmp_path: Path) -> None:
    body = b'{"x": "' + b"y" * 100_000 + b'"}'  # written raw: the child-side check is bypassed
    session = start(tmp_path, RAW_HARNESS % body, output=10_000)
    start_time = time.monotonic()
    with pytest.raises(SessionEnded) as ended:
        session.recv(5)
    assert ended.value.result.status == "invalid_output"
    assert time.monotonic() - start_time < 3
    assert not sandbox_uid_processes()


@pytest.mark.parametrize(
    "body", [b'{"v": NaN}', b"[1, 2]", b'{"a":' * 100 + b"1" + b"}" * 100, b"\xff\xfe"]
)
def test_bad_messages_end_the_session(tmp_path: Path, body: bytes) -> None:
    session = start(tmp_path, RAW_HARNESS % body)
    with pytest.raises(SessionEnded) as ended:
        session.recv(5)
    assert ended.value.result.status == "invalid_output"
    assert not sandbox_uid_processes()

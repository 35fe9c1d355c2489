"""One writer per run directory: an advisory lock on `RUN_DIR/run.lock`.

Two processes writing one run would interleave their iterations and sample counters, so every
command that writes a run directory holds this lock for its whole life. The kernel releases a
`flock` when its process dies, even on `kill -9`, so a crash never leaves a stale lock. The file
holds the holder's PID, so the refusal can name it. A process may take the lock of a directory it
already holds (nested API calls); it is released when the outermost holder lets go.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selftaught.errors import ConfigError
from selftaught.store.layout import LOCK_NAME

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (file descriptor, depth)
_held_lock = threading.Lock()


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid.isdigit() else "another process"


def _acquire(path: Path, run_dir: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConfigError(
            f"{run_dir} is in use by another selftaught process ({_holder(path)}); "
            "wait for it to finish, or use another directory"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


@contextmanager
def run_dir_lock(run_dir: Path | str) -> Iterator[None]:
    """Hold the run directory's writer lock (creating the directory); ConfigError naming the
    holder's PID when another process has it."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = (run_dir / LOCK_NAME).resolve()
    with _held_lock:
        fd, depth = _held.get(path) or (_acquire(path, run_dir), 0)
        _held[path] = (fd, depth + 1)
    try:
        yield
    finally:
        with _held_lock:
            fd, depth = _held.pop(path)
            if depth > 1:
                _held[path] = (fd, depth - 1)
            else:
                os.close(fd)  # closing the last descriptor releases the flock

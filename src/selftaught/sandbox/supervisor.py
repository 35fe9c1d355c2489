"""Parent-side handle on one zygote: start it inside its layers, send jobs, read replies with a
deadline, and tear everything down (process group, slot uid, cgroup) when it misbehaves or closes.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from typing import Any

from selftaught.errors import SandboxError
from selftaught.sandbox import cgroups
from selftaught.sandbox.launcher import PIDS_MAX, Plan
from selftaught.sandbox.protocol import (
    HEADER,
    FrameReader,
    FrameTimeout,
    InvalidJSON,
    write_all,
    write_frame,
)

START_TIMEOUT = 30.0
REPLY_MARGIN = 5.0
SEND_TIMEOUT = 30.0
HEADER_MAX = 64 * 1024
ZYGOTE_MEMORY_ALLOWANCE = 256 * 1024 * 1024


class _Spawner:
    """Starts processes from one long-lived thread.

    bubblewrap's --die-with-parent (PR_SET_PDEATHSIG) fires when the *thread* that forked it
    exits, so zygotes started from short-lived worker threads would die with those threads.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue[tuple[dict[str, Any], Future[subprocess.Popen[bytes]]]] = (
            queue.Queue()
        )
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _run(self) -> None:
        while True:
            kwargs, future = self._jobs.get()
            try:
                future.set_result(subprocess.Popen(**kwargs))
            except BaseException as exc:
                future.set_exception(exc)

    def popen(self, **kwargs: Any) -> subprocess.Popen[bytes]:
        """subprocess.Popen(**kwargs), executed on the spawner thread."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="sandbox-spawner", daemon=True
                )
                self._thread.start()
        future: Future[subprocess.Popen[bytes]] = Future()
        self._jobs.put((kwargs, future))
        return future.result()


_spawner = _Spawner()


class ZygoteLost(SandboxError):
    """The zygote died or stopped answering; it has been killed."""

    def __init__(self, message: str, *, before_job: bool = False) -> None:
        super().__init__(message)
        self.before_job = before_job


def _host_processes_of_uid(uid: int) -> list[int]:
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError), open(f"/proc/{name}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(name))
                    break
    return pids


def _args_pipe(args: tuple[str, ...]) -> int:
    """A pipe holding NUL-separated bubblewrap arguments (read via `bwrap --args FD`)."""
    data = b"".join(arg.encode() + b"\0" for arg in args)
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, data)  # a few KiB: fits in the pipe buffer
    finally:
        os.close(write_fd)
    return read_fd


class Zygote:
    """One pre-started sandbox process serving jobs for one slot, one job at a time."""

    def __init__(self, plan: Plan, slot: int, *, session_fds: tuple[int, int] | None = None):
        self.plan = plan
        self.slot = slot
        self.uid = plan.slot_uid(slot)
        self.cgroup = cgroups.create(
            f"selftaught-{os.getpid()}-{slot}",
            ZYGOTE_MEMORY_ALLOWANCE * 3,
            PIDS_MAX,
            tuple(plan.config.get("cgroups", ())),
        )
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the zygote)
        ctl_in_r, self._ctl_w = os.pipe()
        ctl_out_r, ctl_out_w = os.pipe()
        fds = [ctl_in_r, ctl_out_w, *(session_fds or ())]
        argv = [plan.python, "-s", "-S", "-B", plan.zygote, "--fds", *map(str, fds)]
        if plan.prefix:
            args_fd = _args_pipe(plan.prefix[1:])  # keeps host paths out of /proc/1/cmdline
            argv = [plan.prefix[0], "--args", str(args_fd), *argv]
            fds.append(args_fd)
        if self.cgroup is not None:
            argv = [*self.cgroup.join_command(), *argv]
        try:
            self.proc = _spawner.popen(
                args=argv,
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                env=plan.env,
                cwd="/",
                start_new_session=True,
            )
        finally:
            for fd in fds[:2] + fds[len(session_fds or ()) + 2 :]:
                os.close(fd)
        self._reader = FrameReader(ctl_out_r)
        self.alive = True
        self._handshake()
        os.set_blocking(self._ctl_w, False)

    def _handshake(self) -> None:
        try:
            write_frame(self._ctl_w, json.dumps(self.plan.zygote_config(self.slot)).encode())
            ready = self._reader.read(time.monotonic() + START_TIMEOUT, HEADER_MAX)
        except (OSError, FrameTimeout, InvalidJSON) as exc:
            ready = None
            reason = str(exc)
        else:
            reason = "it exited"
        if ready is None:
            detail = self.stderr_text()
            self.kill()
            raise SandboxError(f"the sandbox zygote failed to start ({reason}): {detail}")
        self.info = json.loads(ready)

    def stderr_text(self, limit: int = 2000) -> str:
        """The zygote's own stderr (bubblewrap or interpreter errors), for diagnostics."""
        with contextlib.suppress(OSError):
            self._stderr.seek(0)
            return self._stderr.read().decode(errors="replace").strip()[-limit:]
        return ""

    def send_job(self, job_bytes: bytes, memory_bytes: int) -> None:
        """Hand one job to the zygote."""
        if self.cgroup is not None:
            self.cgroup.set_memory(memory_bytes + ZYGOTE_MEMORY_ALLOWANCE)
        try:
            frame = HEADER.pack(len(job_bytes)) + job_bytes
            write_all(self._ctl_w, frame, time.monotonic() + SEND_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self.kill()
            raise ZygoteLost(f"the sandbox zygote is gone: {exc}", before_job=True) from exc

    def read_reply(self, deadline: float | None, payload_max: int) -> tuple[dict[str, Any], bytes]:
        """The zygote's facts header and the child's raw result bytes."""
        try:
            header = self._reader.read(deadline, HEADER_MAX)
            payload = self._reader.read(time.monotonic() + REPLY_MARGIN, payload_max + 64)
        except (FrameTimeout, InvalidJSON, OSError) as exc:
            self.kill()
            raise ZygoteLost(f"the sandbox zygote stopped answering: {exc}") from exc
        if header is None or payload is None:
            detail = self.stderr_text()
            self.kill()
            raise ZygoteLost(f"the sandbox zygote exited unexpectedly: {detail}")
        return json.loads(header), payload

    def call(self, job_bytes: bytes, wall: float, memory: int, output: int) -> tuple[dict, bytes]:
        """Run one job and return (header, payload); ZygoteLost if the zygote misbehaves.

        The header gains `oom_killed` when the slot's memory cgroup killed something meanwhile.
        """
        ooms = self.cgroup.oom_kills() if self.cgroup is not None else 0
        self.send_job(job_bytes, memory)
        header, payload = self.read_reply(time.monotonic() + wall + REPLY_MARGIN, output)
        if self.cgroup is not None:
            header["oom_killed"] = self.cgroup.oom_kills() > ooms
        return header, payload

    def kill(self) -> None:
        """Kill the zygote and everything it started; idempotent."""
        if not self.alive:
            return
        self.alive = False
        self._close_control()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.sweep()
        with contextlib.suppress(OSError):
            os.close(self._reader.fd)
        self._stderr.close()
        if self.cgroup is not None:
            self.cgroup.remove()

    def sweep(self) -> None:
        """Kill any straggler of this slot: by cgroup membership and by slot uid."""
        for _round in range(50):
            pids = set(self.cgroup.procs()) if self.cgroup is not None else set()
            if self.uid is not None:
                pids.update(_host_processes_of_uid(self.uid))
            pids.discard(os.getpid())
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def close(self) -> None:
        """Ask the zygote to exit (closing its control pipe), then make sure it did."""
        if not self.alive:
            return
        self._close_control()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=2)
        self.kill()

    def _close_control(self) -> None:
        fd, self._ctl_w = self._ctl_w, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)

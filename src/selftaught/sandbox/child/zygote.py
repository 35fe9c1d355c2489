"""The in-sandbox supervisor ("zygote"): a pre-started, secret-free process that forks one
confined child per evaluation, watches it against a deadline, and kills every process the
evaluation created before answering. Stdlib only; it runs inside the bubblewrap sandbox.

Protocol on the two control fds named by ``--fds IN OUT`` (one frame per message):
  in:  init dict, then jobs ``{"op": "call" | "session", "limits": {...}, ...}``
  out: ``{"ready": ...}``, then per job a JSON header frame followed by a raw payload frame
       (the child's result bytes, unparsed: the orchestrator validates them).
Session zygotes get two more fds (``--fds IN OUT S_IN S_OUT``) which only the session child keeps.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import select
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

import confine
import runner
import sandbox_channel as channel

CTL_IN, CTL_OUT = 3, 4  # replaced from --fds in main()
SESSION_IN, SESSION_OUT = -1, -1
PR_SET_PDEATHSIG = 1
PRIVATE_FD_BASE = 1000
TAIL_BYTES = 4096
PR_SET_CHILD_SUBREAPER = 36
READ_CHUNK = 1 << 16
DRAIN_CHUNKS = 512
FRAME_OVERHEAD = 64  # the {"ok":true,"value":...} wrapper around a value of output_bytes
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CORES = max(1, os.cpu_count() or 1)
CPU_POLL_MIN = 0.005  # seconds between CPU-time checks at the closest


def _stat(pid: int | str) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split()  # the name may hold spaces and parentheses


def _proc_table() -> dict[int, tuple[str, int]]:
    """pid -> (state, ppid) for every process this pid namespace can see."""
    table: dict[int, tuple[str, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (fields := _stat(name)) is not None:
            table[int(name)] = (fields[0].decode(), int(fields[1]))
    return table


def _uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _victims(cfg: dict[str, Any]) -> list[int]:
    me = os.getpid()
    table = _proc_table()
    alive = {pid for pid, (state, _ppid) in table.items() if state != "Z"}
    chosen: set[int] = set()
    if cfg.get("pidns"):
        chosen = alive - {1, me}
    frontier = [me]
    while frontier:  # descendants: orphans re-parent to us because we are a subreaper
        parent = frontier.pop()
        kids = [pid for pid, (_s, ppid) in table.items() if ppid == parent and pid != parent]
        chosen.update(k for k in kids if k in alive)
        frontier.extend(kids)
    uid = cfg.get("uid")
    if uid is not None and not cfg.get("pidns"):
        chosen.update(pid for pid in alive if pid != me and _uid_of(pid) == uid)
    chosen.discard(me)
    return sorted(chosen)


def _reap() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def kill_all(cfg: dict[str, Any]) -> int:
    """SIGKILL every process of the finished evaluation until none is left; returns rounds."""
    for rounds in range(1, 500):
        victims = _victims(cfg)
        if not victims:
            return rounds
        for pid in victims:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.0005)
        _reap()
    return -1


def _move_fd(fd: int, target: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, target)
    os.close(fd)
    return moved


def _child(job: dict[str, Any], cfg: dict[str, Any], seccomp: Any, pipes: dict[str, Any]) -> None:
    """Runs in the forked child: wire fds, confine, run. Never returns to the zygote loop."""
    result_fd = -1
    try:
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(pipes["out"], 1)
        os.dup2(pipes["out"], 2)
        result_fd = _move_fd(pipes["res"], PRIVATE_FD_BASE)
        keep = {0, 1, 2, result_fd}
        if job["op"] == "session":
            in_fd = _move_fd(os.dup(SESSION_IN), PRIVATE_FD_BASE + 1)
            out_fd = _move_fd(os.dup(SESSION_OUT), PRIVATE_FD_BASE + 2)
            keep |= {in_fd, out_fd}
        for fd in map(int, os.listdir("/proc/self/fd")):
            if fd not in keep:
                with contextlib.suppress(OSError):
                    os.close(fd)
        confine.confine(cfg, job["limits"], seccomp)
        if pipes.get("scratch"):
            os.chdir(pipes["scratch"])
        if job["op"] == "session":
            runner.run_session(job, in_fd, out_fd, result_fd)
        runner.run_call(job, result_fd)
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            message = f"sandbox setup failed: {type(exc).__name__}: {exc}"
            failure = {"ok": False, "kind": "sandbox", "error": message}
            channel.write_frame(result_fd, json.dumps(failure).encode())
    finally:
        os._exit(71)


def _scratch(cfg: dict[str, Any]) -> str | None:
    if cfg.get("private_tmp"):
        return None
    path = tempfile.mkdtemp(prefix="selftaught-", dir=cfg.get("scratch_root"))
    if cfg.get("uid") is not None:
        os.chown(path, cfg["uid"], cfg["gid"])
    return path


class _Watch:
    """Collects the child's result frame (capped) and output tail until exit or deadline."""

    def __init__(self, res_fd: int, out_fd: int, cap: int) -> None:
        self.res_fd, self.out_fd, self.cap = res_fd, out_fd, cap
        self.result = bytearray()
        self.tail = bytearray()
        self.too_big = False

    def frame_size(self) -> int | None:
        if len(self.result) < channel.HEADER.size:
            return None
        return channel.HEADER.unpack(bytes(self.result[: channel.HEADER.size]))[0]

    def read(self, fd: int) -> str:
        """Read what is available: "more", "idle" (nothing now) or "done" (EOF or over cap)."""
        try:
            chunk = os.read(fd, READ_CHUNK)
        except BlockingIOError:
            return "idle"
        if not chunk:
            return "done"
        if fd == self.out_fd:
            self.tail = (self.tail + chunk)[-TAIL_BYTES:]
            return "more"
        self.result += chunk
        size = self.frame_size()
        if size is not None and size > self.cap:
            self.too_big = True
            return "done"
        complete = size is not None and len(self.result) >= channel.HEADER.size + size
        return "done" if complete else "more"

    def drain(self, fds: set[int]) -> None:
        """After the child exited: take what is already buffered, without waiting."""
        for fd in fds:
            for _ in range(DRAIN_CHUNKS):  # bounded: a surviving daemon may still be writing
                if self.read(fd) != "more":
                    break

    def payload(self) -> bytes:
        size = self.frame_size()
        if self.too_big or size is None or len(self.result) < channel.HEADER.size + size:
            return b""
        return bytes(self.result[channel.HEADER.size : channel.HEADER.size + size])


def _ticks(pid: int) -> int:
    """utime + stime + cutime + cstime of one process, in clock ticks (0 once it is gone)."""
    fields = _stat(pid)
    return sum(int(value) for value in fields[11:15]) if fields is not None else 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as handle:
                found.extend(int(p) for p in handle.read().split())
        except OSError:
            continue
    return found


def job_cpu_seconds() -> float:
    """CPU time of every process this evaluation made: the zygote's descendants (it is a
    subreaper, so orphans stay among them), counting reaped grandchildren through cutime."""
    total, todo, seen = 0, _children(os.getpid()), set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _ticks(pid)
        todo.extend(_children(pid))
    return total / CLOCK_TICKS


def _cpu_exceeded(cpu_limit: float | None) -> tuple[bool, float]:
    """Whether the job has used its CPU time, and how long it can surely run on before it can."""
    if cpu_limit is None:
        return False, 3600.0
    left = cpu_limit - job_cpu_seconds()
    # CPU time grows at most `cores` seconds per second: no need to look again before that.
    return left <= 0, max(CPU_POLL_MIN, left / CORES)


def _watch(
    pid: int, watch: _Watch, deadline: float, session: bool, cpu_limit: float | None = None
) -> dict[str, bool]:
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    open_fds = {watch.res_fd, watch.out_fd}
    for fd in open_fds:
        os.set_blocking(fd, False)
        poller.register(fd, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    if session:
        poller.register(CTL_IN, select.POLLIN)
    state = {"timed_out": False, "cancelled": False, "cpu_timed_out": False}
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                state["timed_out"] = True
                return state
            over, recheck = _cpu_exceeded(cpu_limit)
            if over:
                state["cpu_timed_out"] = True
                return state
            wait = min(remaining, recheck)
            for fd, _event in poller.poll(max(1, int(wait * 1000) + 1)):
                if fd == pidfd:
                    watch.drain(open_fds)
                    return state
                if fd == CTL_IN:
                    state["cancelled"] = True
                    return state
                if fd in open_fds and watch.read(fd) == "done":
                    if watch.too_big:  # the result is already invalid: stop the child now
                        return state
                    open_fds.discard(fd)
                    poller.unregister(fd)
    finally:
        os.close(pidfd)


def supervise(job: dict[str, Any], cfg: dict[str, Any], seccomp: Any) -> tuple[dict, bytes]:
    """Run one job in a fresh confined child; return (facts header, raw result payload)."""
    limits = job["limits"]
    res_r, res_w = os.pipe()
    out_r, out_w = os.pipe()
    scratch = _scratch(cfg)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(job, cfg, seccomp, {"res": res_w, "out": out_w, "scratch": scratch or ""})
    os.close(res_w)
    os.close(out_w)
    if job["op"] == "session":  # only the child keeps the channel, so its exit means EOF
        for fd in (SESSION_IN, SESSION_OUT):
            with contextlib.suppress(OSError):
                os.close(fd)
    watch = _Watch(res_r, out_r, int(limits["output"]) + FRAME_OVERHEAD)
    # A CPU limit below the wall deadline is watched here, across all the job's processes, so
    # that timing verdicts do not depend on how loaded the machine is (RLIMIT_CPU only counts
    # whole seconds per process).
    cpu_limit = float(limits["cpu"]) if float(limits["cpu"]) < float(limits["wall"]) else None
    state = _watch(pid, watch, start + float(limits["wall"]), job["op"] == "session", cpu_limit)
    seconds = time.monotonic() - start
    # Every process of the job, read before the kill: a helper process the child never waited
    # for still counts (its time is missing from the child's rusage below).
    job_cpu = job_cpu_seconds()
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # no-op when it already exited
    _pid, status, usage = os.wait4(pid, 0)
    kill_all(cfg)
    for fd in (res_r, out_r):
        os.close(fd)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    header = {
        "seconds": seconds,
        "cpu": max(usage.ru_utime + usage.ru_stime, job_cpu),
        "maxrss": usage.ru_maxrss * 1024,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "too_big": watch.too_big,
        "tail": watch.tail.decode("utf-8", "replace"),
        **state,
    }
    return header, watch.payload()


def _preload(cfg: dict[str, Any]) -> list[str]:
    loaded = []
    for name in cfg.get("preload", []):
        try:
            __import__(name)
            loaded.append(name)
        except Exception:  # a missing optional module only means slower candidate imports
            pass
    return loaded


def _parse_fds(argv: list[str]) -> None:
    global CTL_IN, CTL_OUT, SESSION_IN, SESSION_OUT
    fds = [int(a) for a in argv[argv.index("--fds") + 1 :]]
    CTL_IN, CTL_OUT = fds[0], fds[1]
    if len(fds) == 4:
        SESSION_IN, SESSION_OUT = fds[2], fds[3]


def main() -> None:
    """Serve jobs until the orchestrator closes the control pipe."""
    _parse_fds(sys.argv)
    libc = ctypes.CDLL(None)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    raw = channel.read_frame(CTL_IN)
    if raw is None:
        return
    cfg = json.loads(raw)
    sys.path.extend(cfg.get("paths", []))
    loaded = _preload(cfg)
    seccomp = confine.SeccompProgram(bytes.fromhex(cfg["seccomp"])) if cfg.get("seccomp") else None
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    ready = {"ready": True, "pid": os.getpid(), "preloaded": loaded}
    channel.write_frame(CTL_OUT, json.dumps(ready).encode())
    while True:
        raw = channel.read_frame(CTL_IN)
        if raw is None:
            kill_all(cfg)
            return
        job = json.loads(raw)
        header, payload = supervise(job, cfg, seccomp)
        try:
            channel.write_frame(CTL_OUT, json.dumps(header).encode())
            channel.write_frame(CTL_OUT, payload)
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()

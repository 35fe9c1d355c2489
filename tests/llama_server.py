"""A real OpenAI-compatible server for the tests: `llama_cpp.server` serving the embedded 0.5B GGUF
on a free loopback port (its dependencies come with `pip install -e '.[dev]'`).

`serve()` starts it in its own process group, waits until `/v1/models` answers (with a
deadline, failing with the server's log when it dies or stays silent) and always stops the whole
group.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODEL_NAME = "qwen2.5-coder-0.5b"
ALIAS = "qwen05b"  # what requests name the model: `openai:qwen05b`
READY_SECONDS = 120.0
#: The server's own dependencies (llama-cpp-python's "server" extra).
SERVER_MODULES = ("fastapi", "uvicorn", "sse_starlette", "pydantic_settings", "starlette_context")


def missing() -> str | None:
    """Why no server can start here, or None when one can."""
    from selftaught.lm.assemble import model_status
    from selftaught.lm.catalog import llama_cpp_installed
    from selftaught.lm.registry import MODELS

    if not llama_cpp_installed():
        return "llama-cpp-python is not installed (selftaught[embedded])"
    absent = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if absent:
        return f"llama_cpp.server needs {', '.join(absent)} (selftaught[dev])"
    if not model_status(MODELS[MODEL_NAME]).installed:
        return "the 0.5B weight packages are not installed (selftaught[embedded])"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(
    log: Path,
    *,
    n_ctx: int = 4096,
    threads: int = 2,
    model: str = MODEL_NAME,
    alias: str = ALIAS,
) -> Iterator[str]:
    """Run the server on the embedded `model`; yield its base URL (`http://127.0.0.1:PORT/v1`)."""
    from selftaught.lm.assemble import ensure_model
    from selftaught.lm.registry import MODELS

    gguf = ensure_model(MODELS[model], progress=False)
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf)]
    command += ["--model_alias", alias, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--n_ctx", str(n_ctx), "--n_threads", str(threads), "--verbose", "false"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(proc, url, log)
        yield url
    finally:
        _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited ({proc.returncode}): {_tail(log)}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"llama_cpp.server not ready in {READY_SECONDS:.0f} s: {_tail(log)}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely, then for good."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return " | ".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"

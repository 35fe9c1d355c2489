"""When layers are missing the sandbox says so once, falls back, and keeps its guarantees:
results, timeouts, memory limits, and no process outliving its evaluation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r'''
import json, sys
from selftaught.sandbox import Limits, doctor, run_function
L = Limits(wall_seconds=1, memory_bytes=128 * 2**20)
DAEMON = """
import os, time
def f():
    r, w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(w, str(os.getpid()).encode())
            time.sleep(1000)
        os._exit(0)
    return int(os.read(r, 32))
"""
out = {
    "ok": run_function("def f(x):\n    return x * 2", "f", [21], L).value,
    "error": run_function("def f():\n    raise KeyError('k')", "f", [], L).status,
    "timeout": run_function("def f():\n    while True: pass", "f", [], L).status,
    "memory": run_function("def f():\n    return len(bytearray(2**31))", "f", [], L).status,
    "daemon": run_function(DAEMON, "f", [], L).value,
    "layers": {layer.name: layer.active for layer in doctor()},
}
print(json.dumps(out))
'''

SRC = Path(__file__).resolve().parents[1] / "src"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize(
    "disabled",
    [
        "bubblewrap,seccomp,cgroup-pids",
        "bubblewrap,seccomp,cgroup-memory,cgroup-pids,uid,private-tmp",
    ],
    ids=["no-bwrap-no-seccomp", "bare-minimum"],
)
def test_fallback_keeps_working(disabled: str) -> None:
    env = {**os.environ, "SELFTAUGHT_SANDBOX_DISABLE": disabled, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["ok"] == 42
    assert out["error"] == "error"
    assert out["timeout"] == "timeout"
    assert out["memory"] == "memory"
    assert isinstance(out["daemon"], int) and not alive(out["daemon"])
    for name in disabled.split(","):
        assert out["layers"][name] is False
        assert f"sandbox layer {name!r} is not active" in done.stderr
    assert done.stderr.count("sandbox layer 'bubblewrap' is not active") == 1  # warned once

"""Live: the `openai:` path as users run it, against a REAL OpenAI-compatible server
(`llama_cpp.server` serving the embedded 0.5B GGUF on loopback): `ask`, `improve` and a short
`run`, and a kill in the middle of a multi-sample call that a re-run resumes without drawing any
finished sample again. Tiny budgets keep the module to about a minute or two on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from llama_server import ALIAS, missing, serve
from selftaught.cli.app import app

WHY_NOT = missing()
MODEL = f"openai:{ALIAS}"
CLI = [sys.executable, "-c", "from selftaught.cli.app import main; main()"]
PROGRAM = "def algorithm(x):\n    return x\n"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or ""),
    pytest.mark.timeout(600),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("server") / "server.log") as base_url:
        yield base_url


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh response cache; no OpenAI settings from the environment."""
    root = tmp_path / "cache"
    monkeypatch.setenv("SELFTAUGHT_CACHE_DIR", str(root))
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return root / "responses.sqlite3"


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def test_ask_answers_and_the_second_ask_comes_from_the_cache(url: str, cache: Path) -> None:
    args = ("ask", "Complete: def add(a, b): return", "--model", MODEL, "--base-url", url)
    first = invoke(*args, "--max-tokens", "8")
    assert first.stdout.strip()
    again = invoke(*args, "--max-tokens", "8")
    assert again.stdout == first.stdout and "from cache" in again.stderr


def test_improve_draws_its_samples_from_the_server(url: str, cache: Path, tmp_path: Path) -> None:
    program = tmp_path / "p.py"
    program.write_text(PROGRAM)
    out = tmp_path / "run"
    args = ["improve", str(program), "--task", "maxcut", "--model", MODEL, "--base-url", url]
    args += ["--lm-budget", "1", "--responses", "2", "--max-tokens", "48", "--out", str(out)]
    result = json.loads(invoke(*args, "--json").stdout)
    assert result["lm_calls"] == 1 and result["samples"] == 2
    rows = _rows(out / "run.sqlite", "SELECT spec, cached, completion_tokens FROM lm_calls")
    assert len(rows) == 2 and {r[0] for r in rows} == {MODEL}
    assert all(cached == 0 and 0 < tokens <= 48 for _, cached, tokens in rows)


def test_a_short_run_goes_through_the_server(url: str, cache: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", "--model", MODEL, "--base-url", url, "--out", str(out), "--iterations", "1"]
    args += ["--runs", "1", "--lm-budget", "1", "--responses", "1", "--max-tokens", "32"]
    invoke(*args, "--meta-utility-budget", "1")
    summary = json.loads((out / "summary.json").read_text())
    assert summary  # the run finished and summarised itself
    specs = _rows(out / "run.sqlite", "SELECT DISTINCT spec FROM lm_calls")
    (count,) = _rows(out / "run.sqlite", "SELECT COUNT(*) FROM lm_calls")[0]
    assert specs == [(MODEL,)] and count >= 2  # the improver runs and the self-improvement


def test_a_killed_call_is_resumed_without_drawing_a_finished_sample_again(
    url: str, cache: Path, tmp_path: Path
) -> None:
    """4 samples one request at a time; the process is killed once 1-3 are cached; the re-run
    draws exactly the missing ones (the finished ones keep their first arrival time)."""
    program = tmp_path / "p.py"
    program.write_text(PROGRAM)
    args = ["improve", str(program), "--task", "maxcut", "--model", MODEL, "--base-url", url]
    args += ["--lm-budget", "1", "--responses", "4", "--max-tokens", "64"]
    args += ["--max-concurrency", "1", "--json"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    proc = subprocess.Popen(
        [*CLI, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        finished = _wait_for_samples(cache, proc, deadline=240.0)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    killed_at = time.time()
    assert 1 <= finished < 4, f"{finished} samples were cached before the kill"
    invoke(*args)
    created = [c for (c,) in _rows(cache, "SELECT created FROM samples")]
    assert len(created) == 4
    assert sum(c < killed_at for c in created) == finished  # none of them drawn again
    assert sum(c > killed_at for c in created) == 4 - finished  # only the missing ones


def _wait_for_samples(cache: Path, proc: subprocess.Popen[bytes], deadline: float) -> int:
    """The number of cached samples once there is at least one (polled every 50 ms)."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"improve ended ({proc.returncode}) before it was killed")
        if cache.is_file():
            try:
                (count,) = _rows(cache, "SELECT COUNT(*) FROM samples")[0]
            except sqlite3.OperationalError:  # the table is being created
                count = 0
            if count:
                return int(count)
        time.sleep(0.05)
    pytest.fail("no sample arrived in time")

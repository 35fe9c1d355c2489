"""The Ray executor on a local Ray instance (2 CPUs), replaying REAL recorded model responses.

One Ray instance serves the module (the CLI's own RayExecutors join it and leave it running).
A run, `transfer` and `improve` give what the local executor gives; a worker killed mid-session is
replaced without losing or duplicating anything; a driver killed mid-run resumes without redoing
finished sessions; and a program scored on a worker cannot reach the cluster from its sandbox.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from execute_support import (
    RECORDING,
    SOLUTIONS,
    TABLES,
    result_rows,
    sandbox_processes,
    slow_improver,
    table_counts,
    worker_pids,
    write_config,
)
from selftaught.cli.app import app
from selftaught.config import RunConfig, load_config
from selftaught.core.meta import MetaScore, average_runs, load_improver
from selftaught.execute import ray_driver
from selftaught.execute.local import LocalExecutor
from selftaught.execute.ray_driver import RayExecutor
from selftaught.search.context import loop_context
from selftaught.search.plumbing import Plumbing
from selftaught.tasks import get_task

ray = pytest.importorskip("ray")

SRC = Path(__file__).resolve().parents[1] / "src"
CLI = [sys.executable, "-c", "from selftaught.cli.app import main; main()"]

pytestmark = [
    pytest.mark.skipif(not RECORDING.is_file(), reason="recording missing"),
    pytest.mark.timeout(300),
]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_executor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayExecutor]:
    """One local Ray instance for the module; workers inherit a fresh cache root."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SELFTAUGHT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        patch.delenv("RAY_ADDRESS", raising=False)
        started = not ray.is_initialized()
        executor = RayExecutor(num_cpus=2)
        try:
            yield executor
        finally:
            executor.close()
            if started:
                ray.shutdown()


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_config(tmp_path_factory.mktemp("cfg"))


@pytest.fixture(scope="module")
def config(config_file: Path) -> RunConfig:
    return load_config(config_file)


def cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass(frozen=True)
class Runs:
    """The same two-iteration run into `dirs["local"]` and `dirs["ray"]`; their summaries and
    row counts as the runs left them (`transfer` adds rows later)."""

    dirs: dict[str, Path]
    summaries: dict[str, bytes]
    counts: dict[str, dict[str, int]]


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, config_file: Path, ray_executor: RayExecutor
) -> Runs:
    root = tmp_path_factory.mktemp("runs")
    dirs = {"local": root / "local", "ray": root / "ray"}
    cli("run", "--config", str(config_file), "--out", str(dirs["local"]))
    cli("run", "--config", str(config_file), "--out", str(dirs["ray"]), "--executor", "ray")
    return Runs(
        dirs,
        {name: (path / "summary.json").read_bytes() for name, path in dirs.items()},
        {name: table_counts(path) for name, path in dirs.items()},
    )


# -- the same results as the local executor -------------------------------------------------------
def test_a_ray_run_gives_the_local_runs_summary_and_rows(
    runs: Runs, ray_executor: RayExecutor
) -> None:
    from selftaught.sandbox import doctor

    assert runs.summaries["ray"] == runs.summaries["local"]
    local, remote = runs.dirs["local"], runs.dirs["ray"]
    counts = runs.counts["local"]
    assert counts["sessions"] > 0 and counts["lm_calls"] > 0 and counts["iterations"] == 3
    assert runs.counts["ray"] == counts
    for table in TABLES[:-1]:
        assert result_rows(remote, table) == result_rows(local, table), table

    db = sqlite3.connect(remote / "run.sqlite")
    (raw,) = db.execute("SELECT value FROM meta WHERE key = 'executor'").fetchone()
    db.close()
    recorded = json.loads(raw)
    assert recorded["name"] == "ray" and recorded["resources"]["CPU"] == 2.0
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    assert len(recorded["workers"]) == len(nodes) == len(ray_executor.workers)
    names = {layer.name for layer in doctor()}
    for worker in recorded["workers"]:
        assert {name for name, _active, _detail in worker["layers"]} == names
    # what this node's workers report (details hold timings: names and states only)
    states = [(name, active) for name, active, _detail in ray_executor.workers[0].layers]
    assert [(name, active) for name, active, _ in recorded["workers"][0]["layers"]] == states
    with sqlite3.connect(local / "run.sqlite") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'executor'").fetchone() is None


def test_transfer_with_ray_equals_local(runs: Runs) -> None:
    local = json.loads(cli("transfer", str(runs.dirs["local"]), "--json"))
    remote = json.loads(cli("transfer", str(runs.dirs["ray"]), "--executor", "ray", "--json"))
    assert local.pop("run_dir") != remote.pop("run_dir")
    assert local["rows"] and [row["task"] for row in local["rows"]] == ["maxcut"]
    assert remote == local


def test_improve_with_ray_equals_local(
    config_file: Path, ray_executor: RayExecutor, tmp_path: Path
) -> None:
    program = tmp_path / "seed.py"
    program.write_text(get_task("parity_noise").seed_solution)
    base = ["improve", str(program), "--task", "parity_noise", "--improver", "seed"]
    base += ["--config", str(config_file)]
    local = json.loads(cli(*base, "--json"))
    remote = json.loads(cli(*base, "--executor", "ray", "--json"))
    assert local["lm_calls"] == 1 and local["samples"] == 2
    assert remote == local


def test_workers_reach_the_server_given_by_base_url(
    ray_executor: RayExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--base-url` reaches the session's worker with the session (the worker has no
    OPENAI_BASE_URL of its own): the improver's LM call arrives at that server."""
    from openai_support import FakeServer

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = FakeServer()
    try:
        program = tmp_path / "seed.py"
        program.write_text(get_task("parity_noise").seed_solution)
        args = ["improve", str(program), "--task", "parity_noise", "--model", "openai:m"]
        args += [
            "--improver",
            "seed",
            "--base-url",
            server.url,
            "--lm-budget",
            "1",
            "--responses",
            "2",
        ]
        result = json.loads(cli(*args, "--max-tokens", "32", "--executor", "ray", "--json"))
    finally:
        server.close()
    assert result["lm_calls"] == 1 and result["samples"] == 2
    assert [r["model"] for r in server.requests] == ["m"]  # one request with n=2, from a worker


# -- a worker killed mid-session ------------------------------------------------------------------
def _kill_a_session_worker(done: threading.Event) -> tuple[int, list[str]]:
    """SIGKILL the first Ray worker seen running a session with its sandbox up."""
    while not done.is_set():
        for pid in worker_pids(ancestor=os.getpid()):
            inside = sandbox_processes(pid)
            if inside:
                os.kill(pid, signal.SIGKILL)
                return pid, inside
        time.sleep(0.05)
    raise AssertionError("no session worker with a running sandbox was seen")


def _wait_for_no_processes(pid: int, seconds: float = 15.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := sandbox_processes(pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def _average(config: RunConfig, run_dir: Path, executor: Any, improver: str) -> MetaScore:
    task = get_task("parity_noise")
    with loop_context(config, run_dir, plumbing=Plumbing(executor=executor)) as ctx:
        return average_runs(ctx, improver, task, task.seed_solution, "meta")


def test_a_worker_killed_mid_session_loses_and_duplicates_nothing(
    config: RunConfig, ray_executor: RayExecutor, tmp_path: Path
) -> None:
    improver = slow_improver(load_improver("seed"), seconds=4)
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["score"] = _average(config, tmp_path / "killed", ray_executor, improver)
        except BaseException as exc:  # reported by the assertion below
            outcome["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=run, name="killed-run")
    thread.start()
    try:
        killed, inside = _kill_a_session_worker(done)
    finally:
        thread.join(timeout=240)
    assert not thread.is_alive(), "the run did not finish after its worker was killed"
    assert "error" not in outcome, outcome.get("error")
    assert inside and not Path(f"/proc/{killed}").exists()
    assert not _wait_for_no_processes(killed), "sandbox processes outlived their killed worker"

    reference = _average(config, tmp_path / "reference", LocalExecutor(), improver)
    killed_score: MetaScore = outcome["score"]
    assert len(killed_score.runs) == config.runs == 2
    assert killed_score == reference  # the same sessions: keys, results, val and test per run
    assert table_counts(tmp_path / "killed") == table_counts(tmp_path / "reference")
    for table in ("programs", "evaluations", "lm_calls", "events", "sessions"):
        rows = result_rows(tmp_path / "killed", table)
        assert rows == result_rows(tmp_path / "reference", table), table
    with sqlite3.connect(tmp_path / "killed" / "run.sqlite") as db:
        (unkeyed,) = db.execute("SELECT COUNT(*) FROM events WHERE key IS NULL").fetchone()
    assert unkeyed == 0


# -- the driver killed mid-run, then resumed ------------------------------------------------------
def _rows(run_dir: Path, sql: str) -> dict[str, Any]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute(sql)}


SESSIONS_SQL = "SELECT key, created, result, val, test FROM sessions"
LM_CALLS_SQL = "SELECT key, created, response FROM lm_calls"


def test_a_killed_driver_resumes_without_redoing_finished_sessions(
    runs: Runs,
    config_file: Path,
    ray_executor: RayExecutor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "killed"
    env = dict(
        os.environ,
        SELFTAUGHT_CRASH_AFTER_WRITES="40",
        PYTHONPATH=str(SRC),
        RAY_ADDRESS=ray.get_runtime_context().gcs_address,  # joins this module's instance
    )
    args = ["run", "--config", str(config_file), "--out", str(out), "--executor", "ray"]
    killed = subprocess.run([*CLI, *args], env=env, capture_output=True, timeout=240)
    assert killed.returncode == 75, killed.stderr.decode()[-2000:]
    sessions_before = _rows(out, SESSIONS_SQL)
    samples_before = _rows(out, LM_CALLS_SQL)
    assert sessions_before, "the kill came before any session finished; raise the write count"

    shipped: list[str] = []
    original = ray_driver.session_request

    def spy(config: RunConfig, job: Any, cache: str, access: Any = None) -> str:
        shipped.append(job.key)
        return original(config, job, cache, access)

    monkeypatch.setattr(ray_driver, "session_request", spy)
    cli("run", "--resume", str(out), "--executor", "ray")

    assert (out / "summary.json").read_bytes() == runs.summaries["local"]
    sessions_after = _rows(out, SESSIONS_SQL)
    assert shipped and len(shipped) == len(set(shipped))
    assert not set(shipped) & set(sessions_before), "a finished session was run again"
    assert set(shipped) == set(sessions_after) - set(sessions_before)
    # the finished sessions and samples are the killed run's own rows, timestamps included
    assert {k: sessions_after[k] for k in sessions_before} == sessions_before
    samples_after = _rows(out, LM_CALLS_SQL)
    assert {k: samples_after[k] for k in samples_before} == samples_before
    assert table_counts(out) == runs.counts["local"]


# -- evaluations on workers -----------------------------------------------------------------------
PROBE = '''
import os
import socket

GCS = {gcs!r}


def probe():
    """Whatever of the Ray cluster this process can reach."""
    found = []
    host, port = GCS.rsplit(":", 1)
    for address in ((host, int(port)), ("127.0.0.1", int(port)), ("127.0.0.1", 6379)):
        try:
            with socket.create_connection(address, timeout=1):
                found.append(f"connected to {{address}}")
        except Exception:
            pass
    for directory in ("/tmp/ray", "/dev/shm"):
        try:
            names = os.listdir(directory)
        except Exception:
            continue
        found += [f"{{directory}}/{{n}}" for n in names if directory == "/tmp/ray" or "plasma" in n]
    found += [name for name in os.environ if name.startswith("RAY_")]
    for fd in os.listdir("/proc/self/fd"):  # a socket inherited from the worker (gRPC, ...)
        try:
            target = os.readlink(f"/proc/self/fd/{{fd}}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.append(f"fd {{fd}} is a {{target}}")
    return found


def algorithm(train_samples, train_labels, test_samples):
    found = probe()
    if found:
        raise RuntimeError("reached the Ray cluster: " + "; ".join(found)[:500])
    return reference(train_samples, train_labels, test_samples)

'''


def test_a_scored_program_cannot_reach_the_cluster(ray_executor: RayExecutor) -> None:
    task = get_task("parity_noise")
    reference = (SOLUTIONS / "parity_noise_ref.py").read_text()
    hostile = PROBE.format(gcs=ray.get_runtime_context().gcs_address) + reference.replace(
        "def algorithm(", "def reference("
    )
    # The same probe, run here on the host, does find the cluster: it can fail the test.
    namespace: dict[str, Any] = {}
    exec(compile(hostile, "probe", "exec"), namespace)
    on_host = namespace["probe"]()
    for finding in ("connected to", "/tmp/ray/", "fd "):
        assert any(f.startswith(finding) for f in on_host), (finding, on_host)

    honest = ray_executor.score(task, reference, "val")
    assert honest.error is None and honest.score > 0.5
    evaluation = ray_executor.score(task, hostile, "val")
    # Any finding raises (score 0 with the finding in the error); finding nothing answers as
    # the reference does.
    assert evaluation.error is None, evaluation.error
    assert evaluation.score == honest.score


def test_score_many_equals_the_local_executor(ray_executor: RayExecutor) -> None:
    task = get_task("parity_noise")
    sources = [task.seed_solution, (SOLUTIONS / "parity_noise_ref.py").read_text()]
    remote = ray_executor.score_many(task, sources, "val")
    local = LocalExecutor().score_many(task, sources, "val")
    assert [(e.score, e.error) for e in remote] == [(e.score, e.error) for e in local]
    assert remote[1].score > remote[0].score  # the two programs really differ


def test_a_worker_missing_a_layer_reports_it(tmp_path: Path) -> None:
    """`doctor --executor ray` in its own process and Ray instance: the driver's sandbox switches
    reach the workers, and the layer a worker lacks is reported for that node."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env.update(SELFTAUGHT_SANDBOX_DISABLE="seccomp", SELFTAUGHT_CACHE_DIR=str(tmp_path))
    cmd = [sys.executable, "-c", "from selftaught.cli.app import main; main()"]
    done = subprocess.run(
        [*cmd, "doctor", "--executor", "ray", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    nodes = json.loads(done.stdout)
    assert nodes, done.stdout
    for node in nodes:
        layers = {layer["name"]: layer["active"] for layer in node["layers"]}
        assert layers["seccomp"] is False and layers["bubblewrap"] is True, layers


def test_the_report_says_where_the_run_ran(runs: Runs) -> None:
    from selftaught.report.model import collect
    from selftaught.report.page import header

    remote = header(collect(runs.dirs["ray"]))
    assert "ray, 1 node(s), all sandbox layers active" in remote
    assert "<dd>local</dd>" in header(collect(runs.dirs["local"]))

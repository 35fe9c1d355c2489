"""`selftaught runs`: finding run directories and telling running, finished and failed apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.config import RunConfig, save_config
from selftaught.report import runs as runs_mod
from selftaught.report.runs import find_run_dirs, list_runs, run_status
from selftaught.store.db import RunStore, SessionRecord
from test_report_pieces import make_run

HOLD_DB = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
conn.execute("SELECT COUNT(*) FROM programs").fetchall()
print("ready", flush=True)
time.sleep(120)
"""


def test_finished_and_best(tmp_path: Path) -> None:
    shas = make_run(tmp_path / "run")
    info = run_status(tmp_path / "run")
    assert info.status == "finished", info.detail
    assert (info.iterations_done, info.iterations_planned) == (1, 1)
    # Best by validation is the adopted child; its test score is reported beside it.
    assert (info.best_improver, info.best_val, info.best_test) == (shas["child"], 0.75, 0.65)
    assert info.model == "openai:gpt-test" and info.search == "chain"
    assert info.started is not None


def test_incomplete_or_unsummarised_runs_failed(tmp_path: Path) -> None:
    make_run(tmp_path / "short")
    save_config(RunConfig(iterations=3, runs=2, model="openai:gpt-test"), tmp_path / "short")
    info = run_status(tmp_path / "short")
    assert info.status == "failed"
    assert "stopped after t=1 (T=3)" in info.detail and "--resume" in info.detail
    make_run(tmp_path / "nosummary")
    (tmp_path / "nosummary" / "summary.json").unlink()
    assert run_status(tmp_path / "nosummary").status == "failed"
    RunStore(tmp_path / "fresh").close()  # killed before t=0 finished
    save_config(RunConfig(iterations=2), tmp_path / "fresh")
    info = run_status(tmp_path / "fresh")
    assert info.status == "failed" and "stopped before t=0 finished (T=2)" in info.detail
    assert info.best_val is None and info.iterations_done is None and info.search == "chain"
    (tmp_path / "fresh" / "config.toml").unlink()
    info = run_status(tmp_path / "fresh")
    assert info.status == "failed" and "no readable config.toml" in info.detail


def test_running_while_a_process_holds_the_database(tmp_path: Path) -> None:
    make_run(tmp_path / "run")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_DB, str(tmp_path / "run" / "run.sqlite")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        info = run_status(tmp_path / "run")
        assert info.status == "running" and str(proc.pid) in info.detail
        assert "8 improver runs and 3 LM samples so far" in info.detail
    finally:
        proc.kill()
        proc.wait()
    assert run_status(tmp_path / "run").status == "finished"


def test_recent_writes_count_when_processes_cannot_be_inspected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_run(tmp_path / "run")
    monkeypatch.setattr(runs_mod, "holders", lambda path: ([], False))
    written = os.stat(tmp_path / "run" / "run.sqlite").st_mtime
    assert run_status(tmp_path / "run", now=written + 5).status == "running"
    assert run_status(tmp_path / "run", now=written + 10_000).status == "finished"
    monkeypatch.setattr(runs_mod, "holders", lambda path: ([], True))
    assert run_status(tmp_path / "run", now=written + 5).status == "finished"


def test_compare_directories(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "cmp")
    store.add_session(
        SessionRecord("compare/seed/maxcut/abc/r0", "s", "maxcut", None, 0.1, 0.1, "ok", None, 1, 1)
    )
    store.close()
    info = run_status(tmp_path / "cmp")
    assert (info.search, info.status, info.iterations_planned) == ("compare", "failed", None)
    (tmp_path / "cmp" / "compare.json").write_text("{}")
    assert run_status(tmp_path / "cmp").status == "finished"


def test_find_run_dirs(tmp_path: Path) -> None:
    for sub in ("a", "b/c", ".hidden/d"):
        RunStore(tmp_path / sub).close()
    (tmp_path / "x").mkdir()
    assert find_run_dirs(tmp_path) == [tmp_path / "a", tmp_path / "b" / "c"]
    assert [Path(i.path) for i in list_runs(tmp_path)] == [tmp_path / "b" / "c", tmp_path / "a"]


def test_runs_cli(tmp_path: Path) -> None:
    make_run(tmp_path / "runs" / "one")
    runner = CliRunner()
    result = runner.invoke(app, ["runs", str(tmp_path / "runs"), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["status"] for r in rows] == ["finished"] and rows[0]["best_val"] == 0.75
    result = runner.invoke(app, ["runs", str(tmp_path / "runs")])
    assert result.exit_code == 0 and "finished" in result.output and "75.0%" in result.output
    result = runner.invoke(app, ["runs", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "not a directory" in result.output
    (tmp_path / "none").mkdir()
    result = runner.invoke(app, ["runs", str(tmp_path / "none")])
    assert result.exit_code == 0 and "no runs" in result.output

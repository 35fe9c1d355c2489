"""Reading a run changes nothing: `runs` and `report --out` leave the run directory as it was
(no `run.sqlite-wal`/`-shm`, no plots), so runs on read-only media can be listed and reported."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.store.db import RunStore

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "report_run"


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())}


def test_listing_and_reporting_write_nothing_into_the_run(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "finished"
    shutil.copytree(FIXTURE_RUN, run)
    before = snapshot(run)
    listed = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    assert listed.exit_code == 0 and "finished" in listed.output, listed.output
    page = tmp_path / "pages" / "report.html"
    reported = CliRunner().invoke(app, ["report", str(run), "--out", str(page)])
    assert reported.exit_code == 0, reported.output
    assert page.is_file() and (page.parent / "meta_utility.png").is_file()
    assert snapshot(run) == before


def test_a_read_only_store_cannot_write(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE_RUN, run)
    store = RunStore(run, read_only=True)
    try:
        assert store.iterations()
        with pytest.raises(sqlite3.OperationalError):
            store.set_meta("x", "y")
    finally:
        store.close()
    assert sorted(p.name for p in run.iterdir()) == ["config.toml", "run.sqlite", "summary.json"]

"""Every command, walked with inputs a new user gets wrong or a machine refuses: one `error:` line,
a non-zero exit code, no traceback, and no file left behind by a start that failed.

Inputs: impossible and too-long output paths, a run database that is corrupt or truncated, and a
disk that fills up (an injected ENOSPC, as a tiny file system would give).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selftaught.cli.app import app
from selftaught.tasks import get_task

FIXTURE_RUN = Path(__file__).parent / "fixtures" / "report_run"
RECORDING = Path(__file__).parent / "fixtures" / "recordings" / "loop_run.jsonl"
REPLAY = f"replay:{RECORDING}"
LONG_NAME = "n" * 300  # longer than any file system's name limit
IMPOSSIBLE = "/etc/passwd/inside"  # below a regular file


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    # a traceback would surface as an exception other than the exit typer raises
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def assert_one_error_line(code: int, output: str, *needles: str) -> None:
    assert code != 0, output
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output
    for needle in needles:
        assert needle in errors[0], output


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seed.py").write_text(get_task("maxcut").seed_solution)
    return tmp_path


def stored_run(where: Path, damage: str | None = None) -> Path:
    """A copy of a finished run (its model: a recording here), optionally damaged."""
    run = where / "stored"
    shutil.copytree(FIXTURE_RUN, run)
    config = run / "config.toml"
    config.write_text(config.read_text().replace('"embedded:qwen2.5-coder-0.5b"', f'"{REPLAY}"'))
    db = run / "run.sqlite"
    if damage == "corrupt":
        data = bytearray(db.read_bytes())
        data[100:4096] = b"\xff" * (4096 - 100)  # the schema page
        db.write_bytes(bytes(data))
    elif damage == "truncated":
        db.write_bytes(db.read_bytes()[: db.stat().st_size // 3])
    elif damage == "garbage":
        db.write_text("this is not a database\n")
    return run


BAD_PATHS = {
    "impossible": IMPOSSIBLE,
    "too long name": f"{LONG_NAME}/x",
    "too long path": "/".join(["deep"] * 1100),
}

# Each command that writes somewhere, with {path} where the bad path goes.
WRITERS = [
    ["run", "--model", REPLAY, "--out", "{path}"],
    ["improve", "seed.py", "--task", "maxcut", "--model", REPLAY, "--out", "{path}"],
    ["improve", "seed.py", "--task", "maxcut", "--model", REPLAY, "-o", "{path}/better.py"],
    ["compare", "--improvers", "seed", "--tasks", "maxcut", "--model", REPLAY, "--out", "{path}"],
    ["report", "{run}", "--out", "{path}/report.html"],
    ["ask", "--model", REPLAY, "--record", "{path}/rec.jsonl", "hello"],
    ["run", "--model", REPLAY, "--out", "fresh", "--record", "{path}/rec.jsonl"],
    ["new-task", "knap", "--out", "{path}/knap.py"],
    ["score", "{path}/solution.py", "--task", "maxcut"],
]


@pytest.mark.parametrize("kind", sorted(BAD_PATHS))
@pytest.mark.parametrize("args", WRITERS, ids=[f"{a[0]}{i}" for i, a in enumerate(WRITERS)])
def test_bad_output_paths(workdir: Path, args: list[str], kind: str) -> None:
    run = stored_run(workdir)
    before = sorted(p.name for p in workdir.iterdir())
    filled = [a.format(path=BAD_PATHS[kind], run=run) for a in args]
    code, output = invoke(*filled)
    assert_one_error_line(code, output)
    assert sorted(p.name for p in workdir.iterdir()) == before  # nothing left behind


DAMAGED_READERS = [
    ["run", "--resume", "{run}"],
    ["run", "--out", "{run}", "--iterations", "3"],
    ["transfer", "{run}"],
    ["report", "{run}"],
]


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "garbage"])
@pytest.mark.parametrize("args", DAMAGED_READERS, ids=[f"{a[0]}{a[1]}" for a in DAMAGED_READERS])
def test_damaged_run_database(workdir: Path, args: list[str], damage: str) -> None:
    run = stored_run(workdir, damage)
    config_before = (run / "config.toml").read_text()
    code, output = invoke(*[a.format(run=run) for a in args])
    assert_one_error_line(code, output, "run.sqlite")
    assert (run / "config.toml").read_text() == config_before


def test_runs_lists_a_damaged_run_as_failed(workdir: Path) -> None:
    stored_run(workdir, "garbage")
    code, output = invoke("runs", str(workdir))
    assert code == 0 and "Traceback" not in output and "failed" in output


def _disk_full(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device", "run.sqlite")


def _database_full(*args: object, **kwargs: object) -> None:
    raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("failure", [_disk_full, _database_full], ids=["os", "sqlite"])
def test_a_disk_that_fills_up(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, failure: object
) -> None:
    from selftaught.report import plots
    from selftaught.store.db import RunStore

    monkeypatch.setattr(RunStore, "add_program", failure)
    code, output = invoke("run", "--model", REPLAY, "--out", "full")
    assert_one_error_line(code, output, "no space left on device", "run the same command again")
    code, output = invoke(
        "improve", "seed.py", "--task", "maxcut", "--model", REPLAY, "--out", "full2"
    )
    assert_one_error_line(code, output, "no space left on device")
    monkeypatch.setattr(plots, "meta_utility_plot", failure)
    code, output = invoke("report", str(stored_run(workdir)), "--out", "r/report.html")
    assert_one_error_line(code, output, "no space left on device")


def test_a_reader_that_goes_away_is_no_error() -> None:
    """`selftaught seed ... | head -c 1`: no traceback, no "Exception ignored" noise."""
    src = Path(__file__).resolve().parents[1] / "src"
    cmd = [sys.executable, "-c", "from selftaught.cli.app import main; main()"]
    proc = subprocess.Popen(
        [*cmd, "seed", "--task", "maxcut"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(src)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr

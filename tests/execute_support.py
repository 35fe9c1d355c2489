"""Shared helpers for the executor tests: the replay config, store snapshots, a slow improver and
a look at the processes a killed worker may leave behind.

The config is the one `loop_run.jsonl` was recorded with (imported from test_loop_replay), so
every session here replays REAL model responses.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from selftaught.sandbox.launcher import SLOTS_PER_ORCHESTRATOR, UID_BASE
from test_loop_replay import CONFIG, RECORDING

TABLES = ("programs", "evaluations", "lm_calls", "events", "sessions", "iterations")
SEED_DOCSTRING = '    """Improves a solution according to a utility function."""\n'
SOLUTIONS = Path(__file__).parent / "fixtures" / "solutions"

__all__ = [
    "CONFIG",
    "RECORDING",
    "TABLES",
    "result_rows",
    "sandbox_processes",
    "slow_improver",
    "table_counts",
    "worker_pids",
    "write_config",
]


def write_config(directory: Path, **overrides: Any) -> Path:
    """The recording's config as a TOML file in `directory` (`overrides` appended as keys)."""
    path = directory / "replay.toml"
    extra = "".join(f"{key} = {value!r}\n" for key, value in overrides.items())
    path.write_text(CONFIG.format(path=RECORDING) + extra)
    return path


def slow_improver(seed_source: str, seconds: float) -> str:
    """The seed improver, sleeping `seconds` before it starts.

    Its prompts are unchanged (they are built from the solution and the utility only), so the
    replay recording still answers it, with the seed improver's samples.
    """
    assert SEED_DOCSTRING in seed_source, "the seed improver's docstring moved; update the test"
    pause = f"    import time\n\n    time.sleep({seconds})\n"
    return seed_source.replace(SEED_DOCSTRING, SEED_DOCSTRING + pause, 1)


def _db(run_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{run_dir / 'run.sqlite'}?mode=ro", uri=True)


def table_counts(run_dir: Path) -> dict[str, int]:
    """Rows per table of a run directory's store."""
    db = _db(run_dir)
    try:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()


# Every column but timings (`seconds`, `created`) and the events' autoincrement id.
RESULT_COLUMNS = {
    "programs": "sha256, source, kind, parent",
    "evaluations": "sha256, task, split, score, error",
    "lm_calls": "key, spec, prompt_hash, sample_index, temperature, max_tokens, response,"
    " prompt_tokens, completion_tokens",
    "events": "key, kind, session, program, detail",
    "sessions": "key, improver, task, result, val, test, status, error, lm_calls, utility_calls",
}


def result_rows(run_dir: Path, table: str) -> list[tuple[Any, ...]]:
    """A table's rows without timings, sorted (for comparing two stores)."""
    db = _db(run_dir)
    try:
        rows = db.execute(f"SELECT {RESULT_COLUMNS[table]} FROM {table}").fetchall()
    finally:
        db.close()
    return sorted(rows, key=repr)


def _status(pid: str) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            pid = int(_status(str(pid)).get("PPid", "0").strip())
        except (OSError, ValueError):
            return False
    return False


def worker_pids(ancestor: int, title: str = "ray::run_session_job") -> list[int]:
    """Ray workers running `title` (Ray's process title) that descend from `ancestor`.

    Only our own Ray instance's workers (its raylet is a child of the process that started it):
    other Ray instances on the machine are left alone.
    """
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0")[0].strip() == title.encode() and _descends_from(
            int(name), ancestor
        ):
            found.append(int(name))
    return found


def sandbox_processes(orchestrator_pid: int) -> list[str]:
    """Live processes running as one of `orchestrator_pid`'s sandbox slot uids."""
    low = UID_BASE + (orchestrator_pid % 10_000) * SLOTS_PER_ORCHESTRATOR
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = _status(name)
        except OSError:
            continue
        uid = int(status.get("Uid", "-1").split()[0])
        state = status.get("State", "").strip()
        if low <= uid < low + SLOTS_PER_ORCHESTRATOR and not state.startswith("Z"):
            found.append(f"{name} {state}")
    return found

"""`selftaught runs`: the runs under a folder, with their status and best meta-utility.

Status of a run directory (one holding `run.sqlite`):

- **running**: a live process other than the caller has the run's database open. Every
  `selftaught run`, `transfer` or `compare` keeps `run.sqlite` open for its whole life, and the
  kernel closes it when the process dies (even on `kill -9`), so this needs no lock file that a
  crash could leave behind. Where other processes' file descriptors cannot be read (another user's
  process), a write to the database's write-ahead log within the last `RECENT_SECONDS` counts as
  running instead.
- **finished**: not running, `summary.json` exists, and the iterations table reaches the
  configured T (for tree searches, T expansions).
- **failed**: not running and not finished: the run stopped early (an error, Ctrl-C, a kill).
  Such a run can be continued with `selftaught run --resume DIR`.

A `selftaught compare` directory (also a run store) is finished once its `compare.json` exists.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from selftaught.config import CONFIG_NAME, load_config
from selftaught.errors import ConfigError, SelftaughtError
from selftaught.report.queries import connect_readonly
from selftaught.store.kind import COMPARE, IMPROVE, held_search
from selftaught.store.layout import COMPARE_RESULT, DB_NAME, SUMMARY_NAME

RECENT_SECONDS = 120.0
STATUSES = ("running", "finished", "failed")


@dataclass(frozen=True)
class RunInfo:
    """One row of `selftaught runs`."""

    path: str
    status: str  # running | finished | failed
    detail: str
    search: str
    model: str
    task: str
    started: float | None  # UNIX seconds
    iterations_done: int | None  # highest finished t (None: not even t=0)
    iterations_planned: int | None
    best_improver: str | None
    best_val: float | None
    best_test: float | None  # test score of the best-by-validation improver (never selected on)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _fd_targets(pid: str) -> list[str] | None:
    """Paths a process has open, or None when we may not look."""
    fd_dir = Path("/proc", pid, "fd")
    try:
        names = os.listdir(fd_dir)
    except PermissionError:
        return None
    except OSError:  # the process ended meanwhile
        return []
    targets = []
    for name in names:
        try:
            targets.append(os.readlink(fd_dir / name))
        except OSError:
            continue
    return targets


def holders(db_path: Path) -> tuple[list[int], bool]:
    """Processes other than this one with `db_path` (or its WAL) open, and whether every process
    could be inspected."""
    wanted = {str(db_path.resolve()), str(db_path.resolve()) + "-wal"}
    me = str(os.getpid())
    found: list[int] = []
    complete = True
    try:
        pids = [p for p in os.listdir("/proc") if p.isdigit() and p != me]
    except OSError:
        return [], False
    for pid in pids:
        targets = _fd_targets(pid)
        if targets is None:
            complete = False
            continue
        if wanted.intersection(targets):
            found.append(int(pid))
    return sorted(found), complete


def _recently_written(run_dir: Path, now: float) -> bool:
    for name in (DB_NAME + "-wal", DB_NAME):
        path = run_dir / name
        if path.exists() and now - path.stat().st_mtime < RECENT_SECONDS:
            return True
    return False


def _planned(run_dir: Path) -> tuple[int | None, str, str]:
    """(T, model, task) from the run's config.toml; unknowns when it is missing or unreadable."""
    try:
        config = load_config(run_dir / CONFIG_NAME)
    except (ConfigError, OSError):
        return None, "?", "?"
    return config.iterations, config.model, config.task


def _read_summary(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / SUMMARY_NAME).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _best(
    conn: sqlite3.Connection, summary: dict[str, Any] | None
) -> tuple[str | None, float | None, float | None]:
    """The best improver by validation meta-utility, with its test score."""
    tree = (summary or {}).get("tree")
    if isinstance(tree, dict) and tree.get("nodes"):
        node = next((n for n in tree["nodes"] if n.get("sha256") == tree.get("best_sha256")), None)
        if node is not None:
            return node["sha256"], node["meta_utility_val"], node["meta_utility_test"]
    row = conn.execute(
        "SELECT improver, val, test FROM iterations ORDER BY val DESC, t ASC LIMIT 1"
    ).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def run_status(run_dir: Path | str, *, now: float | None = None) -> RunInfo:
    """Inspect one run directory (read-only)."""
    run_dir = Path(run_dir)
    db_path = run_dir / DB_NAME
    if not db_path.is_file():
        raise ConfigError(f"{run_dir} is not a run directory (no {DB_NAME})")
    now = time.time() if now is None else now
    planned, model, task = _planned(run_dir)
    summary = _read_summary(run_dir)
    try:
        conn = connect_readonly(run_dir)
    except (OSError, sqlite3.Error) as exc:
        raise SelftaughtError(f"cannot open {db_path}: {exc}") from None
    try:
        (done,) = conn.execute("SELECT COALESCE(MAX(t), -1) FROM iterations").fetchone()
        (started,) = conn.execute("SELECT MIN(created) FROM programs").fetchone()
        # `run --search` records its search before t=0; a plain `selftaught run` is a chain.
        held = held_search(lambda sql, params: conn.execute(sql, params).fetchall(), run_dir)
        compare = held == COMPARE
        (improved,) = conn.execute(
            "SELECT COUNT(*) FROM sessions WHERE key LIKE 'improve/%'"
        ).fetchone()
        search = held or ("chain" if planned is not None else "?")
        best = _best(conn, summary)
        (sessions,) = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
        (samples,) = conn.execute("SELECT COUNT(*) FROM lm_calls").fetchone()
    except sqlite3.Error as exc:
        raise SelftaughtError(f"cannot read {db_path}: {exc}") from None
    finally:
        conn.close()
    if compare:
        search = "compare"
    if held == IMPROVE:  # one improver session: finished once it is stored
        planned = None
        status, detail = _improve_status(run_dir, now, bool(improved))
    else:
        status, detail = _status(run_dir, now, done, planned, summary, compare)
    if status == "running":
        detail += f"; {sessions} improver runs and {samples} LM samples so far"
    return RunInfo(
        str(run_dir),
        status,
        detail,
        search,
        model,
        task,
        float(started) if started is not None else None,
        done if done >= 0 else None,
        None if compare else planned,
        *best,
    )


def _status(
    run_dir: Path,
    now: float,
    done: int,
    planned: int | None,
    summary: dict[str, Any] | None,
    compare: bool,
) -> tuple[str, str]:
    pids, complete = holders(run_dir / DB_NAME)
    if pids:
        return "running", f"pid {', '.join(map(str, pids))}"
    if not complete and _recently_written(run_dir, now):
        return "running", f"written within the last {RECENT_SECONDS:.0f} s"
    if compare:  # a `selftaught compare` directory: done when its result file is written
        if (run_dir / COMPARE_RESULT).is_file():
            return "finished", f"comparison written to {COMPARE_RESULT}"
        return "failed", "stopped before the comparison finished; run the same compare again"
    if planned is None:
        return "failed", f"no readable {CONFIG_NAME}: not a run `selftaught run` can resume"
    if summary is not None and done >= planned:
        return "finished", f"{done} of {planned} iterations"
    reached = f"stopped after t={done}" if done >= 0 else "stopped before t=0 finished"
    return "failed", f"{reached} (T={planned}); continue with: selftaught run --resume {run_dir}"


def _improve_status(run_dir: Path, now: float, finished: bool) -> tuple[str, str]:
    pids, complete = holders(run_dir / DB_NAME)
    if pids:
        return "running", f"pid {', '.join(map(str, pids))}"
    if not complete and _recently_written(run_dir, now):
        return "running", f"written within the last {RECENT_SECONDS:.0f} s"
    if finished:
        return "finished", "the improver's session is stored; `selftaught report` shows it"
    resume = f"selftaught improve --resume {run_dir}"
    return "failed", f"stopped before the improver finished; continue with: {resume}"


def find_run_dirs(root: Path | str, max_depth: int = 3) -> list[Path]:
    """Run directories at or below `root` (a directory holding `run.sqlite`), sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"not a directory: {root}")
    found = []
    for current, dirs, files in os.walk(root):
        depth = len(Path(current).relative_to(root).parts)
        if DB_NAME in files:
            found.append(Path(current))
            dirs[:] = []  # a run directory holds no other runs
        elif depth >= max_depth:
            dirs[:] = []
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found)


def list_runs(root: Path | str = "runs") -> list[RunInfo]:
    """Every run under `root`, newest first (unreadable ones are reported as failed)."""
    infos = []
    for run_dir in find_run_dirs(root):
        try:
            infos.append(run_status(run_dir))
        except SelftaughtError as exc:
            infos.append(
                RunInfo(
                    str(run_dir), "failed", str(exc), "?", "?", "?", None, 0, None, None, None, None
                )
            )
    return sorted(infos, key=lambda i: (i.started or 0.0, i.path), reverse=True)
